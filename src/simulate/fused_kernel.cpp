#include "fused_kernel.hpp"

#include <cstring>

namespace deltacrit::simulate::detail {

namespace {
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
#include "fused_kernel_body.inc"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
}  // namespace

void fused_rows_portable(const double* X, std::size_t d, std::size_t first, std::size_t last, const double* V,
                         int m, RowCallback callback, double* P) {
  fused_dispatch(X, d, first, last, V, m, callback, P);
}

void fused_rows(const double* X, std::size_t d, std::size_t first, std::size_t last, const double* V, int m,
                RowCallback callback, double* P) {
  static const bool use_avx2 = avx2_available();
  if (use_avx2) fused_rows_avx2(X, d, first, last, V, m, callback, P);
  else fused_rows_portable(X, d, first, last, V, m, callback, P);
}

}  // namespace deltacrit::simulate::detail
