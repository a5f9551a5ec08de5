#if canImport(CMalloc)
import CMalloc
#endif

/// Keeps the memory of serving large files bounded.
///
/// Blobs stream as 256 KiB buffers that are allocated on one thread and freed on another. With
/// glibc's default, a freed large chunk raises the mmap threshold, later buffers come from the
/// per-thread heaps, and those heaps hold on to their high-water mark: 50 clients reading a
/// 256 MiB blob peaked at 3.3 GB RSS. A fixed threshold of 64 KiB keeps such buffers in mmap,
/// returned to the kernel when freed: 50 clients reading a 1 GiB blob peak at 71 MB (132 MB
/// while it is pulled through). The price is CPU: every chunk is faulted in afresh, about 2x the
/// CPU per GiB served (bench/README.md has the figures and what to try next).
enum AllocatorTuning {
    static func apply() {
        #if canImport(CMalloc)
        _ = mallopt(M_MMAP_THRESHOLD, 64 * 1024)
        #endif
    }
}
