#pragma once
// The simulator's row-parallel kernels on the deterministic pool of core/parallel.hpp: work over
// the n rows of X is cut into a fixed set of chunks that depends only on n.
#include <cstddef>

#include "deltacrit/core/parallel.hpp"

namespace deltacrit::simulate {

using core::chunk_range;
using core::kMaxThreads;
using core::Parallel;

// Rows per chunk (≈ 2 MB of X at d = 1000) and an upper bound on the number of chunks (bounds the
// memory of the partial sums: kMaxChunks·m·d doubles).
inline constexpr std::size_t kRowsPerChunk = 256;
inline constexpr std::size_t kMaxChunks = 64;

// Number of chunks for n rows: ceil(n / kRowsPerChunk) clamped to [1, kMaxChunks].
std::size_t chunk_count(std::size_t n);

}  // namespace deltacrit::simulate
