// objects.cc - C++ objects with known lifetimes: 50 objects of 40 bytes
// made with new, 20 deleted, 30 leaked; one array of 100 ints made with
// new[] and deleted with delete[].  Under memscope's interposing capture
// source, operator new and delete must be seen like malloc and free.
#include <cstdint>

struct Record {
	std::uint64_t fields[5];
};

static Record *volatile kept[50];

int main()
{
	for (int i = 0; i < 50; i++)
		kept[i] = new Record();
	for (int i = 0; i < 20; i++)
		delete kept[i];
	int *volatile numbers = new int[100];
	delete[] numbers;
	return 0;
}
