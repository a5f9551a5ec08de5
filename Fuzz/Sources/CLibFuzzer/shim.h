// libFuzzer's driver, linked by -sanitize=fuzzer (compiler-rt). SwiftPM gives every executable
// its own entry point (it links `main` to `<module>_main`), so libFuzzer's main() is never used:
// each target's @main calls this instead, with its LLVMFuzzerTestOneInput.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
