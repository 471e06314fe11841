/* test_varint.c - the capture format's primitive encodings (core/varint.h):
 * exact LEB128 bytes, bounds-checked decoding, zigzag, little-endian
 * integers and the CRC-32 check value. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "varint.h"

struct known_encoding {
	uint64_t value;
	size_t length;
	uint8_t bytes[VARINT_MAX_BYTES];
};

static const struct known_encoding known[] = {
	{ 0, 1, { 0x00 } },
	{ 1, 1, { 0x01 } },
	{ 127, 1, { 0x7f } },
	{ 128, 2, { 0x80, 0x01 } },
	{ 300, 2, { 0xac, 0x02 } },
	{ 16383, 2, { 0xff, 0x7f } },
	{ 16384, 3, { 0x80, 0x80, 0x01 } },
	{ 0xffffffffu, 5, { 0xff, 0xff, 0xff, 0xff, 0x0f } },
	{ UINT64_C(1) << 63, 10, { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 } },
	{ UINT64_MAX, 10, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 } },
};

START_TEST(test_encode_known_values)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		uint8_t out[VARINT_MAX_BYTES + 1];
		memset(out, 0xee, sizeof(out));
		size_t length = varint_encode(out, known[i].value);
		ck_assert_uint_eq(length, known[i].length);
		ck_assert_uint_eq(varint_size(known[i].value), known[i].length);
		ck_assert_mem_eq(out, known[i].bytes, length);
		ck_assert_uint_eq(out[length], 0xee); /* nothing written past it */
	}
}
END_TEST

START_TEST(test_decode_known_values)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const uint8_t *cursor = known[i].bytes;
		uint64_t value = 12345;
		ck_assert_int_eq(varint_decode(&cursor, known[i].bytes + known[i].length, &value), 0);
		ck_assert_uint_eq(value, known[i].value);
		ck_assert_ptr_eq(cursor, known[i].bytes + known[i].length);
	}
}
END_TEST

START_TEST(test_decode_stops_at_value_end)
{
	const uint8_t bytes[] = { 0xac, 0x02, 0x05, 0x80 };
	const uint8_t *cursor = bytes;
	uint64_t value;

	ck_assert_int_eq(varint_decode(&cursor, bytes + sizeof(bytes), &value), 0);
	ck_assert_uint_eq(value, 300);
	ck_assert_int_eq(varint_decode(&cursor, bytes + sizeof(bytes), &value), 0);
	ck_assert_uint_eq(value, 5);
	ck_assert_ptr_eq(cursor, bytes + 3);
	/* 0x80 promises another byte that is not there. */
	ck_assert_int_eq(varint_decode(&cursor, bytes + sizeof(bytes), &value), -ENODATA);
	ck_assert_ptr_eq(cursor, bytes + 3);
	ck_assert_uint_eq(value, 5);
}
END_TEST

START_TEST(test_decode_every_truncation)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		for (size_t cut = 0; cut < known[i].length; cut++) {
			/* A heap copy of exactly cut bytes, so ASan sees any
			 * read past the end. */
			uint8_t *copy = malloc(cut ? cut : 1);
			ck_assert_ptr_nonnull(copy);
			memcpy(copy, known[i].bytes, cut);
			const uint8_t *cursor = copy;
			uint64_t value = 777;
			ck_assert_int_eq(varint_decode(&cursor, copy + cut, &value), -ENODATA);
			ck_assert_ptr_eq(cursor, copy);
			ck_assert_uint_eq(value, 777);
			free(copy);
		}
	}
}
END_TEST

START_TEST(test_decode_rejects_overlong)
{
	uint64_t value = 9;
	/* Eleven bytes: the tenth still says "more". */
	const uint8_t eleven[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
	const uint8_t *cursor = eleven;
	ck_assert_int_eq(varint_decode(&cursor, eleven + sizeof(eleven), &value), -EOVERFLOW);
	ck_assert_ptr_eq(cursor, eleven);
	ck_assert_uint_eq(value, 9);

	/* Ten bytes whose last carries bits beyond bit 63. */
	const uint8_t too_big[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
	cursor = too_big;
	ck_assert_int_eq(varint_decode(&cursor, too_big + sizeof(too_big), &value), -EOVERFLOW);
	ck_assert_ptr_eq(cursor, too_big);

	/* A stream of continuation bytes longer than any varint. */
	uint8_t endless[64];
	memset(endless, 0xff, sizeof(endless));
	cursor = endless;
	ck_assert_int_eq(varint_decode(&cursor, endless + sizeof(endless), &value), -EOVERFLOW);
}
END_TEST

START_TEST(test_decode_accepts_padding)
{
	/* Redundant groups are legal LEB128: 1 written in three bytes. */
	const uint8_t padded[] = { 0x81, 0x80, 0x00 };
	const uint8_t *cursor = padded;
	uint64_t value;

	ck_assert_int_eq(varint_decode(&cursor, padded + sizeof(padded), &value), 0);
	ck_assert_uint_eq(value, 1);
	ck_assert_ptr_eq(cursor, padded + 3);
}
END_TEST

START_TEST(test_round_trip_many)
{
	uint8_t buffer[VARINT_MAX_BYTES];
	uint64_t x = 88172645463325252u;

	for (int shift = 0; shift < 64; shift++) {
		for (int i = 0; i < 200; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			uint64_t value = x >> shift;
			size_t length = varint_encode(buffer, value);
			const uint8_t *cursor = buffer;
			uint64_t back;
			ck_assert_int_eq(varint_decode(&cursor, buffer + length, &back), 0);
			ck_assert_uint_eq(back, value);
			ck_assert_uint_eq(length, varint_size(value));
		}
	}
}
END_TEST

START_TEST(test_zigzag)
{
	ck_assert_uint_eq(zigzag_encode(0), 0);
	ck_assert_uint_eq(zigzag_encode(-1), 1);
	ck_assert_uint_eq(zigzag_encode(1), 2);
	ck_assert_uint_eq(zigzag_encode(-2), 3);
	ck_assert_uint_eq(zigzag_encode(2), 4);
	ck_assert_uint_eq(zigzag_encode(INT64_MAX), UINT64_MAX - 1);
	ck_assert_uint_eq(zigzag_encode(INT64_MIN), UINT64_MAX);

	ck_assert_int_eq(zigzag_decode(0), 0);
	ck_assert_int_eq(zigzag_decode(1), -1);
	ck_assert_int_eq(zigzag_decode(2), 1);
	ck_assert_int_eq(zigzag_decode(3), -2);
	ck_assert_int_eq(zigzag_decode(UINT64_MAX - 1), INT64_MAX);
	ck_assert_int_eq(zigzag_decode(UINT64_MAX), INT64_MIN);
}
END_TEST

START_TEST(test_zigzag_delta)
{
	ck_assert_uint_eq(zigzag_delta_encode(1000, 1000), 0);
	ck_assert_uint_eq(zigzag_delta_encode(1001, 1000), 2);
	ck_assert_uint_eq(zigzag_delta_encode(999, 1000), 1);
	ck_assert_uint_eq(zigzag_delta_encode(0, UINT64_MAX), 2); /* wraps: +1 */
	ck_assert_uint_eq(zigzag_delta_encode(UINT64_MAX, 0), 1); /* wraps: -1 */

	const uint64_t values[] = { 0, 1, 2, 1000, 0x7fffffffffffffffu, 0x8000000000000000u,
		                    0x7f0000001000u, UINT64_MAX - 1, UINT64_MAX };
	const size_t count = sizeof(values) / sizeof(values[0]);
	for (size_t i = 0; i < count; i++)
		for (size_t j = 0; j < count; j++)
			ck_assert_uint_eq(zigzag_delta_decode(zigzag_delta_encode(values[i], values[j]),
			                                      values[j]),
			                  values[i]);
}
END_TEST

START_TEST(test_little_endian)
{
	uint8_t out[4];

	le16_put(out, 0x1234);
	ck_assert_uint_eq(out[0], 0x34);
	ck_assert_uint_eq(out[1], 0x12);
	ck_assert_uint_eq(le16_get(out), 0x1234);
	le32_put(out, 0xdeadbeefu);
	ck_assert_uint_eq(out[0], 0xef);
	ck_assert_uint_eq(out[1], 0xbe);
	ck_assert_uint_eq(out[2], 0xad);
	ck_assert_uint_eq(out[3], 0xde);
	ck_assert_uint_eq(le32_get(out), 0xdeadbeefu);
}
END_TEST

START_TEST(test_crc32)
{
	ck_assert_uint_eq(capture_crc32(0, "", 0), 0);
	ck_assert_uint_eq(capture_crc32(0, "123456789", 9), 0xcbf43926u);
	ck_assert_uint_eq(capture_crc32(0, "a", 1), 0xe8b7be43u);
	ck_assert_uint_eq(capture_crc32(0, "The quick brown fox jumps over the lazy dog", 43),
	                  0x414fa339u);
	/* Feeding the result back continues the same checksum. */
	ck_assert_uint_eq(capture_crc32(capture_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
	/* The empty block frame of the format: type 2, length 0. */
	const uint8_t end_block[5] = { 0x02, 0, 0, 0, 0 };
	ck_assert_uint_ne(capture_crc32(0, end_block, 5), 0);
	const uint8_t zeros[5] = { 0 };
	ck_assert_uint_ne(capture_crc32(0, zeros, 5), 0);
}
END_TEST

static Suite *varint_suite(void)
{
	Suite *suite = suite_create("varint");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_encode_known_values);
	tcase_add_test(tc, test_decode_known_values);
	tcase_add_test(tc, test_decode_stops_at_value_end);
	tcase_add_test(tc, test_decode_every_truncation);
	tcase_add_test(tc, test_decode_rejects_overlong);
	tcase_add_test(tc, test_decode_accepts_padding);
	tcase_add_test(tc, test_round_trip_many);
	tcase_add_test(tc, test_zigzag);
	tcase_add_test(tc, test_zigzag_delta);
	tcase_add_test(tc, test_little_endian);
	tcase_add_test(tc, test_crc32);
	suite_add_tcase(suite, tc);
	return suite;
}

int main(void)
{
	SRunner *runner = srunner_create(varint_suite());

	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
