// Plain C API over simdjson's On-Demand parser, for HoardConda's repodata record index.
#ifndef HOARD_SIMDJSON_H
#define HOARD_SIMDJSON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Bytes that must be readable (allocated) after the end of the input.
size_t hoard_simdjson_padding(void);

/// simdjson's version, e.g. "3.0.1".
const char *hoard_simdjson_version(void);

/// Flags passed to the record callback.
enum {
    HOARD_RECORD_HAS_SHA256 = 1,
    HOARD_RECORD_HAS_SIZE = 2,
    /// Collected records only: `md5` holds 16 decoded bytes.
    HOARD_RECORD_HAS_MD5 = 4,
    /// Collected records only: `timestamp` holds the record's `timestamp` (as written: ms or s).
    HOARD_RECORD_HAS_TIMESTAMP = 8,
};

/// One record collected by hoard_simdjson_collect. The filename is
/// `arena[name_offset ..< name_offset + name_len]`; `sha256` holds the decoded digest when
/// HOARD_RECORD_HAS_SHA256 is set (only set for exactly 64 hex digits); `md5` likewise with
/// HOARD_RECORD_HAS_MD5 (exactly 32 hex digits).
typedef struct {
    uint64_t name_offset;
    uint64_t size;
    uint64_t timestamp;
    uint32_t name_len;
    int32_t flags;
    uint8_t sha256[32];
    uint8_t md5[16];
} hoard_record;

typedef struct hoard_records hoard_records;

/// Collects every record of "packages" and "packages.conda" into one contiguous array (no
/// per-record callback). Returns NULL on a JSON error (message written to `error`).
/// Free the result with hoard_records_free.
hoard_records *hoard_simdjson_collect(const uint8_t *data, size_t len, size_t capacity,
                                      char *error, size_t error_len);
size_t hoard_records_count(const hoard_records *records);
const hoard_record *hoard_records_items(const hoard_records *records);
const char *hoard_records_arena(const hoard_records *records);
void hoard_records_free(hoard_records *records);

/// Finds one record by filename in `section` ("packages" or "packages.conda").
/// Returns 1 if found (outputs filled; `sha256` receives up to `sha256_cap` bytes and
/// `sha256_len` the real length), 0 if absent, -1 on a JSON error.
int hoard_simdjson_lookup(const uint8_t *data, size_t len, size_t capacity,
                          const char *section, size_t section_len,
                          const char *filename, size_t filename_len,
                          char *sha256, size_t sha256_cap, size_t *sha256_len,
                          uint64_t *size, int *flags,
                          char *error, size_t error_len);

#ifdef __cplusplus
}
#endif

#endif
