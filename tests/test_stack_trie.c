/* test_stack_trie.c - interning of call stacks (core/stack_trie.h): dense ids
 * in creation order, one node per (parent, ip), lookups after the table
 * and node arrays have grown many times. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "stack_trie.h"

static struct stack_trie *new_trie(void)
{
	struct stack_trie *trie = NULL;

	ck_assert_int_eq(stack_trie_create(&trie), 0);
	ck_assert_ptr_nonnull(trie);
	return trie;
}

START_TEST(test_empty)
{
	struct stack_trie *trie = new_trie();
	uint32_t parent = 99;
	uint64_t ip = 99;

	ck_assert_uint_eq(stack_trie_count(trie), 0);
	ck_assert_int_eq(stack_trie_node(trie, 0, &parent, &ip), -EINVAL);
	ck_assert_int_eq(stack_trie_node(trie, 1, &parent, &ip), -EINVAL);
	ck_assert_uint_eq(parent, 99);
	ck_assert_uint_eq(ip, 99);
	stack_trie_destroy(trie);
	stack_trie_destroy(NULL);
}
END_TEST

START_TEST(test_intern_and_find)
{
	struct stack_trie *trie = new_trie();
	uint32_t id = 0, parent;
	uint64_t ip;
	bool created = false;

	/* main -> f -> g, then main -> f -> h: four nodes, f shared. */
	ck_assert_int_eq(stack_trie_intern(trie, 0, 0x401000, &id, &created), 0);
	ck_assert_uint_eq(id, 1);
	ck_assert(created);
	ck_assert_int_eq(stack_trie_intern(trie, 1, 0x402000, &id, &created), 0);
	ck_assert_uint_eq(id, 2);
	ck_assert(created);
	ck_assert_int_eq(stack_trie_intern(trie, 2, 0x403000, &id, &created), 0);
	ck_assert_uint_eq(id, 3);
	ck_assert(created);

	ck_assert_int_eq(stack_trie_intern(trie, 0, 0x401000, &id, &created), 0);
	ck_assert_uint_eq(id, 1);
	ck_assert(!created);
	ck_assert_int_eq(stack_trie_intern(trie, 1, 0x402000, &id, &created), 0);
	ck_assert_uint_eq(id, 2);
	ck_assert(!created);
	ck_assert_int_eq(stack_trie_intern(trie, 2, 0x404000, &id, &created), 0);
	ck_assert_uint_eq(id, 4);
	ck_assert(created);
	ck_assert_uint_eq(stack_trie_count(trie), 4);

	ck_assert_int_eq(stack_trie_node(trie, 3, &parent, &ip), 0);
	ck_assert_uint_eq(parent, 2);
	ck_assert_uint_eq(ip, 0x403000);
	ck_assert_int_eq(stack_trie_node(trie, 4, &parent, &ip), 0);
	ck_assert_uint_eq(parent, 2);
	ck_assert_uint_eq(ip, 0x404000);
	ck_assert_int_eq(stack_trie_node(trie, 1, &parent, &ip), 0);
	ck_assert_uint_eq(parent, 0);
	ck_assert_uint_eq(ip, 0x401000);
	ck_assert_int_eq(stack_trie_node(trie, 5, &parent, &ip), -EINVAL);

	/* created may be NULL. */
	ck_assert_int_eq(stack_trie_intern(trie, 4, 0x405000, &id, NULL), 0);
	ck_assert_uint_eq(id, 5);
	ck_assert_int_eq(stack_trie_intern(trie, 4, 0x405000, &id, NULL), 0);
	ck_assert_uint_eq(id, 5);
	stack_trie_destroy(trie);
}
END_TEST

START_TEST(test_same_ip_different_parents)
{
	struct stack_trie *trie = new_trie();
	uint32_t a, b, c, again;

	/* A function called from two places is two nodes. */
	ck_assert_int_eq(stack_trie_intern(trie, 0, 0x1000, &a, NULL), 0);
	ck_assert_int_eq(stack_trie_intern(trie, 0, 0x2000, &b, NULL), 0);
	ck_assert_int_eq(stack_trie_intern(trie, a, 0x3000, &c, NULL), 0);
	ck_assert_uint_eq(c, 3);
	ck_assert_int_eq(stack_trie_intern(trie, b, 0x3000, &c, NULL), 0);
	ck_assert_uint_eq(c, 4);
	ck_assert_int_eq(stack_trie_intern(trie, a, 0x3000, &again, NULL), 0);
	ck_assert_uint_eq(again, 3);
	/* ip 0 is an ordinary value, not a marker. */
	ck_assert_int_eq(stack_trie_intern(trie, 0, 0, &again, NULL), 0);
	ck_assert_uint_eq(again, 5);
	ck_assert_int_eq(stack_trie_intern(trie, 0, UINT64_MAX, &again, NULL), 0);
	ck_assert_uint_eq(again, 6);
	stack_trie_destroy(trie);
}
END_TEST

START_TEST(test_unknown_parent)
{
	struct stack_trie *trie = new_trie();
	uint32_t id = 42;
	bool created = true;

	ck_assert_int_eq(stack_trie_intern(trie, 1, 0x1000, &id, &created), -EINVAL);
	ck_assert_uint_eq(id, 42);
	ck_assert_int_eq(stack_trie_intern(trie, 0, 0x1000, &id, &created), 0);
	ck_assert_int_eq(stack_trie_intern(trie, 2, 0x1000, &id, &created), -EINVAL);
	ck_assert_int_eq(stack_trie_intern(trie, UINT32_MAX, 0x1000, &id, &created), -EINVAL);
	ck_assert_uint_eq(stack_trie_count(trie), 1);
	stack_trie_destroy(trie);
}
END_TEST

/* ck_assert reports every check to the runner, which costs a system call:
 * loops over many nodes check with this and only call Check to fail. */
#define REQUIRE(condition)                                                        \
	do {                                                                      \
		if (!(condition))                                                 \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #condition); \
	} while (0)

/* Deep chains and wide fans, through many doublings of both tables, with
 * ips that share high bits as real return addresses do. */
START_TEST(test_many_nodes)
{
	enum { CHAINS = 1000, DEPTH = 300 };
	struct stack_trie *trie = new_trie();
	uint32_t *leaf = malloc(sizeof(uint32_t) * CHAINS);
	uint32_t id;
	bool created;

	ck_assert_ptr_nonnull(leaf);
	uint32_t expected = 0;
	for (uint32_t chain = 0; chain < CHAINS; chain++) {
		uint32_t parent = 0;
		for (uint32_t depth = 0; depth < DEPTH; depth++) {
			/* Every chain shares its first frame (main); the rest
			 * are distinct. */
			uint64_t ip = depth == 0 ? 0x555555554000u
			                         : 0x7f0000000000u + chain * 0x10000u + depth * 8;
			REQUIRE(stack_trie_intern(trie, parent, ip, &id, &created) == 0);
			if (depth == 0 && chain > 0) {
				REQUIRE(!created);
				REQUIRE(id == 1);
			} else {
				REQUIRE(created);
				REQUIRE(id == ++expected);
			}
			parent = id;
		}
		leaf[chain] = parent;
	}
	ck_assert_uint_eq(stack_trie_count(trie), (uint32_t)CHAINS * (DEPTH - 1) + 1);

	/* Every chain walks back to main exactly, and interns to itself. */
	for (uint32_t chain = 0; chain < CHAINS; chain++) {
		uint32_t node = leaf[chain];
		for (uint32_t depth = DEPTH - 1; depth > 0; depth--) {
			uint32_t parent;
			uint64_t ip;
			REQUIRE(stack_trie_node(trie, node, &parent, &ip) == 0);
			REQUIRE(ip == 0x7f0000000000u + chain * 0x10000u + depth * 8);
			REQUIRE(stack_trie_intern(trie, parent, ip, &id, &created) == 0);
			REQUIRE(!created);
			REQUIRE(id == node);
			node = parent;
		}
		REQUIRE(node == 1);
	}
	ck_assert_uint_eq(stack_trie_count(trie), (uint32_t)CHAINS * (DEPTH - 1) + 1);
	free(leaf);
	stack_trie_destroy(trie);
}
END_TEST

static Suite *stack_trie_suite(void)
{
	Suite *suite = suite_create("stack_trie");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_intern_and_find);
	tcase_add_test(tc, test_same_ip_different_parents);
	tcase_add_test(tc, test_unknown_parent);
	tcase_add_test(tc, test_many_nodes);
	suite_add_tcase(suite, tc);
	return suite;
}

int main(void)
{
	SRunner *runner = srunner_create(stack_trie_suite());

	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
