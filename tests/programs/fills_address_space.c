/* fills_address_space.c - allocates blocks of 16 MiB, never touched, until
 * malloc fails, and prints how many MiB it got: under an address-space
 * limit (ulimit -v), the same number traced as untraced. */
#include <stdio.h>
#include <stdlib.h>

static void *volatile sink;

int main(void)
{
	size_t total = 0;
	while ((sink = malloc((size_t)16 << 20)) != NULL)
		total += 16;
	printf("%zu MiB\n", total);
	return 0;
}
