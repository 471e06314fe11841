/* varint.h - the primitive encodings of the capture format
 * (docs/capture-format.md): unsigned LEB128 varints, zigzag for signed
 * deltas, little-endian fixed-width integers, and the CRC32 that guards each
 * block.
 *
 * Encoders write into a buffer the caller has sized (VARINT_MAX_BYTES per
 * varint).  Decoders take a cursor and the end of the buffer, never read at
 * or past the end, and return 0, -ENODATA (the input ends inside the value)
 * or -EOVERFLOW (longer than 10 bytes, or more than 64 bits).  The varint and
 * zigzag helpers are inline: the writer calls them for every field of every
 * event.
 */
#ifndef MEMSCOPE_VARINT_H
#define MEMSCOPE_VARINT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* 64 bits at 7 bits a byte. */
#define VARINT_MAX_BYTES 10

/* Writes value as LEB128 (least significant group first, high bit set on
 * every byte but the last) at out, which has VARINT_MAX_BYTES free.
 * Returns the bytes written, 1 to 10. */
static inline size_t varint_encode(uint8_t *out, uint64_t value)
{
	size_t length = 0;

	while (value >= 0x80) {
		out[length++] = (uint8_t)(value | 0x80);
		value >>= 7;
	}
	out[length++] = (uint8_t)value;
	return length;
}

/* The bytes varint_encode would write for value. */
static inline size_t varint_size(uint64_t value)
{
	size_t length = 1;

	while (value >= 0x80) {
		value >>= 7;
		length++;
	}
	return length;
}

/* Reads one varint at *cursor and advances *cursor past it.  Non-minimal
 * encodings (redundant 0x80 groups) are accepted as long as they fit in
 * 10 bytes.  On error *cursor and *value are left untouched. */
static inline int varint_decode(const uint8_t **cursor, const uint8_t *end, uint64_t *value)
{
	const uint8_t *p = *cursor;
	uint64_t result = 0;
	unsigned shift = 0;

	/* Most fields of most events are below 128: one byte, one branch. */
	if (p < end && *p < 0x80) {
		*value = *p;
		*cursor = p + 1;
		return 0;
	}
	for (;;) {
		if (p >= end)
			return -ENODATA;
		uint8_t byte = *p++;
		if (shift == 63 && byte > 1)
			return -EOVERFLOW; /* the 10th byte holds bit 63 alone */
		result |= (uint64_t)(byte & 0x7f) << shift;
		if (byte < 0x80)
			break;
		shift += 7;
	}
	*value = result;
	*cursor = p;
	return 0;
}

/* Zigzag maps small magnitudes of either sign to small unsigned numbers:
 * 0, -1, 1, -2, 2 ... become 0, 1, 2, 3, 4 ... */
static inline uint64_t zigzag_encode(int64_t value)
{
	uint64_t bits = (uint64_t)value;

	return (bits << 1) ^ (0 - (bits >> 63));
}

static inline int64_t zigzag_decode(uint64_t value)
{
	/* Written to stay clear of implementation-defined unsigned-to-signed
	 * conversion: value >> 1 always fits in int64_t. */
	if (value & 1)
		return -(int64_t)(value >> 1) - 1;
	return (int64_t)(value >> 1);
}

/* value - base, as a wrapping 64-bit two's-complement difference, zigzagged.
 * Round-trips every pair of values, so no field needs a range check to be
 * delta-encoded. */
static inline uint64_t zigzag_delta_encode(uint64_t value, uint64_t base)
{
	uint64_t difference = value - base;

	return (difference << 1) ^ (0 - (difference >> 63));
}

static inline uint64_t zigzag_delta_decode(uint64_t encoded, uint64_t base)
{
	return base + ((encoded >> 1) ^ (0 - (encoded & 1)));
}

static inline void le16_put(uint8_t *out, uint16_t value)
{
	out[0] = (uint8_t)value;
	out[1] = (uint8_t)(value >> 8);
}

static inline void le32_put(uint8_t *out, uint32_t value)
{
	out[0] = (uint8_t)value;
	out[1] = (uint8_t)(value >> 8);
	out[2] = (uint8_t)(value >> 16);
	out[3] = (uint8_t)(value >> 24);
}

static inline uint16_t le16_get(const uint8_t *in)
{
	return (uint16_t)(in[0] | (in[1] << 8));
}

static inline uint32_t le32_get(const uint8_t *in)
{
	return (uint32_t)in[0] | ((uint32_t)in[1] << 8) | ((uint32_t)in[2] << 16) |
	       ((uint32_t)in[3] << 24);
}

/* CRC-32 as in zlib, PNG and Ethernet (reflected polynomial 0xEDB88320,
 * initial value and final xor 0xFFFFFFFF), so third-party readers can check
 * blocks with any zlib.  Start with crc 0; feed the result back in to
 * continue over more data.  capture_crc32(0, "123456789", 9) is 0xCBF43926. */
uint32_t capture_crc32(uint32_t crc, const void *data, size_t size);

#endif
