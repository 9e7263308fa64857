/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
 * Kafka's RecordBatch v2 and of Eddy's own files.
 *
 * crc32c() picks the SSE4.2 instruction path when the CPU has it (checked
 * once) and a portable slicing-by-8 table path otherwise. Both are exposed so
 * tests can check each against the published vectors.
 *
 * Chaining: crc32c(crc32c(0, a), b) == crc32c(0, a||b).
 */
#ifndef EDDY_COMMON_CRC32C_H
#define EDDY_COMMON_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *data, size_t len);
uint32_t crc32c_portable(uint32_t crc, const void *data, size_t len);
/* Returns 0 (and computes nothing) when the CPU lacks SSE4.2; see
 * crc32c_hw_available(). */
uint32_t crc32c_hw(uint32_t crc, const void *data, size_t len);
int crc32c_hw_available(void);

#endif
