// AVX2 build of the fused row kernel, selected at run time when the CPU supports it. Same
// operations in the same order as the portable build (no FMA), hence the same bits.
#include <cstddef>
#include <cstring>

#include "fused_kernel.hpp"

#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
#define DELTACRIT_FUSED_AVX2 1
#endif

namespace deltacrit::simulate::detail {

#ifdef DELTACRIT_FUSED_AVX2
#pragma GCC push_options
#pragma GCC target("avx2")
namespace {
#include "fused_kernel_body.inc"
}  // namespace
#pragma GCC pop_options

bool avx2_available() { return __builtin_cpu_supports("avx2"); }

void fused_rows_avx2(const double* X, std::size_t d, std::size_t first, std::size_t last, const double* V, int m,
                     RowCallback callback, double* P) {
  fused_dispatch(X, d, first, last, V, m, callback, P);
}
#else
bool avx2_available() { return false; }

void fused_rows_avx2(const double* X, std::size_t d, std::size_t first, std::size_t last, const double* V, int m,
                     RowCallback callback, double* P) {
  fused_rows_portable(X, d, first, last, V, m, callback, P);
}
#endif

}  // namespace deltacrit::simulate::detail
