#pragma once
// The empirical phase-1 law of a finite-d run: the samples (y_i, u_i, z_i) (and D_i) at a trained
// point, written by `deltacrit simulate hessian --dump-law FILE` and read by the δ_NN solver
// (`deltacrit nn --phase1 empirical:FILE`, option (d) of science.md).
//
// File format "DCRITLAW" version 1 (all numbers little-endian; doubles are IEEE-754 binary64):
//   offset  size  field
//        0     8  magic: the bytes "DCRITLAW"
//        8     4  uint32 version (= 1)
//       12     4  uint32 header_bytes (= 192; the data start at this offset)
//       16     8  uint64 n   (number of samples, ≥ 1)
//       24     4  uint32 m   (network width, 1..8)
//       28     4  uint32 k   (latent dimension, 1..3)
//       32     4  uint32 flags (bit 0: the D_i block is present)
//       36     4  uint32 k_h (number of hard directions, 0..k)
//       40    12  uint32 hard[3] (1-based latent indices of the hard directions; 0 = unused)
//       52     4  uint32 reserved (0)
//       56     8  double delta (n/d of the run that produced the law)
//       64     8  uint64 d
//       72     8  double ridge λ
//       80    64  double a[8] (second layer; entries ≥ m are 0)
//      144    48  reserved (0)
//      192        double y[n]
//                 double u[n][m]      (u_i = Wᵀ x_i, row i contiguous)
//                 double z[n][k]      (z_i = Θ*ᵀ x_i)
//                 double D[n][m][m]   (only when flags bit 0; D_i = ℓ'' J Jᵀ + ℓ' diag(a ⊙ σ''(u_i)),
//                                      J = a ⊙ σ'(u_i), science.md)
// The file size must be exactly header_bytes + 8·n·(1 + m + k + [m²]).
#include <cstdint>
#include <string>
#include <vector>

namespace deltacrit::simulate {

inline constexpr int kLawMaxWidth = 8;
inline constexpr int kLawMaxLatent = 3;

struct EmpiricalLaw {
  std::uint64_t n = 0;
  int m = 0;                 // width, 1..8
  int k = 0;                 // latent dimension, 1..3
  std::vector<int> hard;     // 1-based latent indices of the hard directions (may be empty)
  double delta = 0.0;        // n/d of the producing run (informational)
  std::uint64_t d = 0;       // dimension of the producing run (informational)
  double ridge = 0.0;        // λ of the producing run
  std::vector<double> a;     // second layer, size m
  std::vector<double> y;     // size n
  std::vector<double> u;     // size n·m, row-major (sample i at u[i·m .. i·m + m))
  std::vector<double> z;     // size n·k, row-major
  std::vector<double> D;     // size n·m·m (row-major m×m per sample) or empty when not stored

  bool has_D() const { return !D.empty(); }
  // Throws InputError(parameter, ...) when sizes or ranges are inconsistent (m, k, hard indices,
  // array lengths, non-finite values).
  void validate(const std::string& parameter = "law") const;
};

// Writes `law` to `path` in the format above. Throws InputError naming `parameter` when the law is
// invalid or the file cannot be written.
void write_law(const EmpiricalLaw& law, const std::string& path,
               const std::string& parameter = "--dump-law");

// Reads a law file. Throws InputError naming `parameter` (e.g. "--phase1") with a sentence that
// says what is wrong: missing/unreadable file, wrong magic (not a deltacrit law file), unsupported
// version, truncated or oversized file (expected vs actual byte count), out-of-range header fields,
// non-finite values.
EmpiricalLaw read_law(const std::string& path, const std::string& parameter = "law");

}  // namespace deltacrit::simulate
