// Walks repodata with simdjson On-Demand without exceptions: every call returns an
// error_code, which is turned into a message for Swift.
#include "hoard_simdjson.h"

#include <simdjson.h>
#include <cstring>
#include <string_view>
#include <string>
#include <vector>

using namespace simdjson;

namespace {

void write_error(char *out, size_t cap, const char *prefix, error_code code) {
    if (out == nullptr || cap == 0) return;
    snprintf(out, cap, "%s%s", prefix, error_message(code));
}

// The input must be followed by SIMDJSON_PADDING readable bytes; when the caller
// cannot promise that, copy once (documented cost: one extra document in memory).
struct Input {
    padded_string owned;
    padded_string_view view;
    Input(const uint8_t *data, size_t len, size_t capacity) {
        if (capacity >= len + SIMDJSON_PADDING) {
            view = padded_string_view(data, len, capacity);
        } else {
            owned = padded_string(reinterpret_cast<const char *>(data), len);
            view = padded_string_view(owned.data(), owned.size(), owned.size() + SIMDJSON_PADDING);
        }
    }
};

#define TRY(expr) do { error_code e_ = (expr); if (e_) { write_error(error, error_len, "", e_); return -1; } } while (0)

// What read_record finds besides sha256 and size (the OCI front's manifests need them).
struct RecordExtras {
    std::string_view md5;
    uint64_t timestamp = 0;
};

// Reads sha256 (string) and size (unsigned integer) from one record object, and md5 and
// timestamp when `extras` is given; other fields are skipped by the iterator. Wrong types are
// treated as absent, not as errors.
error_code read_record(ondemand::value record, std::string_view &sha, uint64_t &size, int &flags,
                       RecordExtras *extras = nullptr) {
    ondemand::object obj;
    error_code e = record.get_object().get(obj);
    if (e) return e;
    for (auto result : obj) {
        ondemand::field field;
        e = std::move(result).get(field);
        if (e) return e;
        ondemand::raw_json_string key = field.key();
        if (e) return e;
        if (key == "sha256") {
            std::string_view s;
            if (!field.value().get_string().get(s)) { sha = s; flags |= HOARD_RECORD_HAS_SHA256; }
        } else if (key == "size") {
            uint64_t n;
            if (!field.value().get_uint64().get(n)) { size = n; flags |= HOARD_RECORD_HAS_SIZE; }
        } else if (extras != nullptr && key == "md5") {
            std::string_view s;
            if (!field.value().get_string().get(s)) { extras->md5 = s; flags |= HOARD_RECORD_HAS_MD5; }
        } else if (extras != nullptr && key == "timestamp") {
            uint64_t n;
            if (!field.value().get_uint64().get(n)) { extras->timestamp = n; flags |= HOARD_RECORD_HAS_TIMESTAMP; }
        }
    }
    return SUCCESS;
}

inline int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Exactly 2 * count hex digits (either case) → count bytes; anything else counts as absent.
bool decode_hex(std::string_view hex, uint8_t *out, size_t count) {
    if (hex.size() != 2 * count) return false;
    for (size_t k = 0; k < count; k++) {
        int hi = hex_value(static_cast<unsigned char>(hex[2 * k]));
        int lo = hex_value(static_cast<unsigned char>(hex[2 * k + 1]));
        if (hi < 0 || lo < 0) return false;
        out[k] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return true;
}

} // namespace

struct hoard_records {
    std::vector<hoard_record> items;
    std::string arena;
};

extern "C" size_t hoard_simdjson_padding(void) { return SIMDJSON_PADDING; }

extern "C" const char *hoard_simdjson_version(void) { return SIMDJSON_STRINGIFY(SIMDJSON_VERSION); }

extern "C" int hoard_simdjson_lookup(const uint8_t *data, size_t len, size_t capacity,
                                     const char *section, size_t section_len,
                                     const char *filename, size_t filename_len,
                                     char *sha256, size_t sha256_cap, size_t *sha256_len,
                                     uint64_t *size, int *flags,
                                     char *error, size_t error_len) {
    Input input(data, len, capacity);
    std::string_view wanted_section(section, section_len);
    std::string_view wanted(filename, filename_len);
    ondemand::parser parser;
    ondemand::document doc;
    TRY(parser.iterate(input.view).get(doc));
    ondemand::object top;
    TRY(doc.get_object().get(top));
    for (auto field : top) {
        std::string_view key;
        TRY(field.unescaped_key().get(key));
        if (key != wanted_section) continue;
        ondemand::object packages;
        TRY(field.value().get_object().get(packages));
        for (auto entry : packages) {
            std::string_view name;
            TRY(entry.unescaped_key().get(name));
            if (name != wanted) continue;
            std::string_view sha;
            uint64_t n = 0;
            int f = 0;
            ondemand::value record;
            TRY(entry.value().get(record));
            TRY(read_record(record, sha, n, f));
            size_t copy = sha.size() < sha256_cap ? sha.size() : sha256_cap;
            if (copy > 0) memcpy(sha256, sha.data(), copy);
            *sha256_len = sha.size();
            *size = n;
            *flags = f;
            return 1;
        }
    }
    return 0;
}

extern "C" hoard_records *hoard_simdjson_collect(const uint8_t *data, size_t len, size_t capacity,
                                                 char *error, size_t error_len) {
    auto *out = new hoard_records();
    // A record is at least a few hundred bytes of JSON; a rough reservation avoids regrowth.
    out->items.reserve(len / 512);
    out->arena.reserve(len / 12);
    int rc;
    {
        Input input(data, len, capacity);
        ondemand::parser parser;
        rc = [&]() -> int {
            ondemand::document doc;
            TRY(parser.iterate(input.view).get(doc));
            ondemand::object top;
            TRY(doc.get_object().get(top));
            for (auto field : top) {
                std::string_view key;
                TRY(field.unescaped_key().get(key));
                if (key != "packages" && key != "packages.conda") continue;
                ondemand::object packages;
                TRY(field.value().get_object().get(packages));
                for (auto entry : packages) {
                    std::string_view filename;
                    TRY(entry.unescaped_key().get(filename));
                    std::string_view sha;
                    uint64_t size = 0;
                    int flags = 0;
                    RecordExtras extras;
                    ondemand::value record;
                    TRY(entry.value().get(record));
                    TRY(read_record(record, sha, size, flags, &extras));
                    hoard_record r;
                    r.name_offset = out->arena.size();
                    r.name_len = static_cast<uint32_t>(filename.size());
                    r.size = size;
                    r.timestamp = extras.timestamp;
                    if ((flags & HOARD_RECORD_HAS_SHA256) && !decode_hex(sha, r.sha256, 32)) flags &= ~HOARD_RECORD_HAS_SHA256;
                    if ((flags & HOARD_RECORD_HAS_MD5) && !decode_hex(extras.md5, r.md5, 16)) flags &= ~HOARD_RECORD_HAS_MD5;
                    r.flags = flags;
                    out->arena.append(filename);
                    out->items.push_back(r);
                }
            }
            return 0;
        }();
    }
    if (rc != 0) { delete out; return nullptr; }
    return out;
}

extern "C" size_t hoard_records_count(const hoard_records *r) { return r->items.size(); }
extern "C" const hoard_record *hoard_records_items(const hoard_records *r) { return r->items.data(); }
extern "C" const char *hoard_records_arena(const hoard_records *r) { return r->arena.data(); }
extern "C" void hoard_records_free(hoard_records *r) { delete r; }
