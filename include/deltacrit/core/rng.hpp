#pragma once
// Reproducible random streams. Every random draw in deltacrit comes from an explicit `Rng`
// derived from a user seed and a stream index (e.g. the seed index of a sweep), so results are
// identical whatever the number of threads.
#include <cstdint>
#include <random>

namespace deltacrit {

using Rng = std::mt19937_64;

// SplitMix64 finaliser: a bijective 64-bit mixer (Steele, Lea & Flood 2014).
constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Independent stream `stream` of the user seed `seed`.
inline Rng make_rng(std::uint64_t seed, std::uint64_t stream = 0) {
  std::seed_seq seq{static_cast<std::uint32_t>(splitmix64(seed)),
                    static_cast<std::uint32_t>(splitmix64(seed) >> 32),
                    static_cast<std::uint32_t>(splitmix64(seed ^ splitmix64(stream + 1))),
                    static_cast<std::uint32_t>(splitmix64(stream) >> 32)};
  return Rng(seq);
}

}  // namespace deltacrit
