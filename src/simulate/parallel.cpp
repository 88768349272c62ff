#include "deltacrit/simulate/parallel.hpp"

#include <algorithm>

namespace deltacrit::simulate {

std::size_t chunk_count(std::size_t n) {
  const std::size_t c = (n + kRowsPerChunk - 1) / kRowsPerChunk;
  return std::clamp<std::size_t>(c, 1, kMaxChunks);
}

}  // namespace deltacrit::simulate
