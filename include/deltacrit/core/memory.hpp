#pragma once
// Process-wide allocator setting for the executables (the CLI and the benchmarks; the library
// never calls it on its own).

namespace deltacrit::core {

// Keeps freed memory in the process for reuse instead of returning it to the system (glibc:
// M_MMAP_THRESHOLD at its maximum of 32 MiB, so that arrays up to that size come from the heap, and
// M_TRIM_THRESHOLD at 1 GiB, so that the heap is not trimmed after each free). `nn --find` with a
// fixed-point law allocates and frees its law and Hessian arrays at every δ (≈ 1M nodes for k = 2);
// with glibc's defaults each large array is a fresh mapping whose pages fault on first touch:
// tanh(z1) + min(z2², 4), m = 1, k = 2 with the cut rules had 995k page faults, 2.2 s of system time
// in 13.2 s (docs/performance.md). A no-op on other C libraries. Returns whether it was applied.
bool keep_freed_memory();

}  // namespace deltacrit::core
