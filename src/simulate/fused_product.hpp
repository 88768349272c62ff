#pragma once
// Deterministic multi-threaded driver of the fused row kernel (private header): rows are split into
// the fixed chunks of parallel.hpp, each chunk accumulates its own m×d partial with its own callback
// context, and the partials are summed in chunk order. Bit-identical for any thread count.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "deltacrit/simulate/data.hpp"
#include "deltacrit/simulate/parallel.hpp"
#include "fused_kernel.hpp"

namespace deltacrit::simulate::detail {

// Below this many multiply–adds (n·m·d) a product runs single-threaded (≈ 0.3 ms of work).
inline constexpr double kParallelMinWork = 1.0e6;

class FusedProduct {
 public:
  // P (m×d row-major, overwritten) = Σ_i c_i x_iᵀ with c_i from callbacks[chunk of i];
  // callbacks.size() must equal chunk_count(X.rows()).
  void run(Parallel& parallel, const RowMatrix& X, const double* V, int m, const std::vector<RowCallback>& callbacks,
           double* P) {
    const std::size_t n = static_cast<std::size_t>(X.rows());
    const std::size_t d = static_cast<std::size_t>(X.cols());
    const std::size_t chunks = chunk_count(n);
    const std::size_t size = static_cast<std::size_t>(m) * d;
    partials_.resize(chunks * size);
    std::fill(partials_.begin(), partials_.end(), 0.0);
    auto chunk = [&](std::size_t c) {
      const auto [r0, r1] = chunk_range(n, chunks, c);
      fused_rows(X.data(), d, r0, r1, V, m, callbacks[c], partials_.data() + c * size);
    };
    // Small products run on the calling thread: waking workers costs more than it saves, much more
    // on a loaded machine. The chunking (hence every bit of the result) is the same either way.
    const bool serial = static_cast<double>(n) * static_cast<double>(size) < kParallelMinWork;
    if (serial) {
      for (std::size_t c = 0; c < chunks; ++c) chunk(c);
    } else {
      parallel.run(chunks, chunk);
    }
    // Reduction in chunk order, parallel over disjoint column ranges (order per entry fixed).
    const std::size_t pieces =
        serial ? 1 : std::min<std::size_t>(static_cast<std::size_t>(parallel.threads()), (size + 1023) / 1024);
    parallel.run(std::max<std::size_t>(pieces, 1), [&](std::size_t p) {
      const std::size_t e0 = size * p / std::max<std::size_t>(pieces, 1);
      const std::size_t e1 = size * (p + 1) / std::max<std::size_t>(pieces, 1);
      for (std::size_t e = e0; e < e1; ++e) P[e] = partials_[e];
      for (std::size_t c = 1; c < chunks; ++c) {
        const double* part = partials_.data() + c * size;
        for (std::size_t e = e0; e < e1; ++e) P[e] += part[e];
      }
    });
  }

 private:
  std::vector<double> partials_;
};

}  // namespace deltacrit::simulate::detail
