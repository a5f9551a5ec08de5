// libFuzzer's driver, linked by -sanitize=fuzzer (compiler-rt). SwiftPM gives every executable
// its own entry point (it links `main` to `<module>_main`), so libFuzzer's main() is never used:
// each target's @main calls hoard_fuzz_main instead, which hands the target's
// LLVMFuzzerTestOneInput (a Swift @_cdecl function) to the driver. Here once, not in every target.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// The Swift entry takes a non-optional pointer: an empty input may come as NULL.
static inline int hoard_fuzz_one(const uint8_t *data, size_t size) {
    static const uint8_t empty = 0;
    return LLVMFuzzerTestOneInput(data ? data : &empty, size);
}

static inline int hoard_fuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, hoard_fuzz_one);
}
