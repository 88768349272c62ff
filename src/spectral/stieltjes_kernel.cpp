// Passes over the weight law: the only O(n_nodes) code of the Stieltjes solver. Each pass is
// instantiated for fixed m = 1..8 (Eigen fixed-size matrices, no heap traffic in the node loop);
// everything else in the solver works on m×m or (m(m+1)/2)×(m(m+1)/2) matrices.
#include "stieltjes_kernel.hpp"

#include <array>
#include <cmath>
#include <stdexcept>

#include <utility>

#include <Eigen/Dense>

// The real pass dominates the cost of every real-axis computation. On x86-64 (GCC/Clang, ELF) it
// is compiled twice, for the baseline ISA and for x86-64-v3 (AVX2 + FMA), and the loader picks
// the variant the CPU supports (function multi-versioning): the default build still runs
// anywhere, and 4-double lanes become single AVX registers where available.
#if defined(__x86_64__) && defined(__ELF__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define DELTACRIT_KERNEL_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
#endif
#ifndef DELTACRIT_KERNEL_CLONES
#define DELTACRIT_KERNEL_CLONES
#endif
#if defined(__GNUC__)
#define DELTACRIT_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define DELTACRIT_ALWAYS_INLINE inline
#endif

namespace deltacrit::spectral::detail {

namespace {

template <int M>
struct PackedPairs {
  static constexpr int P = M * (M + 1) / 2;
  std::array<int, P> row{};
  std::array<int, P> col{};
  constexpr PackedPairs() {
    int k = 0;
    for (int a = 0; a < M; ++a)
      for (int b = a; b < M; ++b) {
        row[k] = a;
        col[k] = b;
        ++k;
      }
  }
};

// U += w·u uᵀ on the upper triangle, stored row by row.
template <int P, typename T>
inline void rank_one_update(std::array<T, P * (P + 1) / 2>& acc, const std::array<T, P>& u, double w) {
  int k = 0;
  for (int a = 0; a < P; ++a) {
    const T wa = w * u[a];
    for (int b = a; b < P; ++b) acc[k++] += wa * u[b];
  }
}

template <int P, typename T, typename Out>
void unpack_upper(const std::array<T, P * (P + 1) / 2>& acc, Out& U) {
  U.resize(P, P);
  int k = 0;
  for (int a = 0; a < P; ++a)
    for (int b = a; b < P; ++b) {
      U(a, b) = acc[k];
      U(b, a) = acc[k];
      ++k;
    }
}

// Lane vector of 4 doubles (GCC/Clang vector extension; SSE2 pairs on baseline x86-64, one AVX
// register with -march=native). Arithmetic is element-wise.
using Lanes = double __attribute__((vector_size(4 * sizeof(double))));
constexpr int kLanes = 4;

// W̃ = D̃ (I + D̃/δ)^{-1} for a batch of 4 nodes, D̃ = σ Lᵀ D L, written out for fixed M with the
// batch as the vector lane: the compiler unrolls the M loops, and the long dependency chain of the
// Cholesky factorisation (sqrt, division) of one node overlaps with the others (one node at a
// time, or Eigen's fixed-size LLT, were latency-bound and 3–5× slower). Only the upper triangle
// of the symmetric results is formed. Returns false when I + D̃/δ is not positive definite at
// some node of the batch (outside the domain of the real branch).
// GCC 12 reports the lane vectors below as maybe-uninitialized in the x86-64-v3 clone for M = 2
// (a false positive: every element is assigned before use).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
template <int M>
DELTACRIT_ALWAYS_INLINE bool batch_wtilde(const double* const (&D)[kLanes], const double (&L)[M][M], double sign, double inv_delta,
                         Lanes (&Wt)[M][M]) {
  static_assert(kLanes == 4);
  Lanes Dn[M][M];
  for (int a = 0; a < M; ++a)
    for (int b = 0; b < M; ++b) {
      const int e = a * M + b;
      Dn[a][b] = Lanes{D[0][e], D[1][e], D[2][e], D[3][e]};
    }
  Lanes T[M][M];  // D L (L lower triangular)
  for (int a = 0; a < M; ++a)
    for (int b = 0; b < M; ++b) {
      Lanes v = Dn[a][b] * L[b][b];
      for (int c = b + 1; c < M; ++c) v += Dn[a][c] * L[c][b];
      T[a][b] = v;
    }
  Lanes Dt[M][M];  // σ Lᵀ D L / δ, symmetric
  const double f = sign * inv_delta;
  for (int a = 0; a < M; ++a)
    for (int b = a; b < M; ++b) {
      Lanes v = L[a][a] * T[a][b];
      for (int c = a + 1; c < M; ++c) v += L[c][a] * T[c][b];
      Dt[a][b] = f * v;
      Dt[b][a] = Dt[a][b];
    }
  Lanes G[M][M];  // Cholesky factor of A = I + D̃/δ (lower)
  Lanes inv_diag[M];
  for (int j = 0; j < M; ++j) {
    Lanes d = 1.0 + Dt[j][j];
    for (int k = 0; k < j; ++k) d -= G[j][k] * G[j][k];
    for (int l = 0; l < kLanes; ++l)
      if (!(d[l] > 0.0)) return false;
    Lanes g;
    for (int l = 0; l < kLanes; ++l) g[l] = std::sqrt(d[l]);
    G[j][j] = g;
    inv_diag[j] = 1.0 / g;
    for (int i = j + 1; i < M; ++i) {
      Lanes v = Dt[i][j];
      for (int k = 0; k < j; ++k) v -= G[i][k] * G[j][k];
      G[i][j] = v * inv_diag[j];
    }
  }
  Lanes Gi[M][M];  // G^{-1}, lower
  for (int j = 0; j < M; ++j) {
    Gi[j][j] = inv_diag[j];
    for (int i = j + 1; i < M; ++i) {
      Lanes v = -G[i][j] * Gi[j][j];
      for (int k = j + 1; k < i; ++k) v -= G[i][k] * Gi[k][j];
      Gi[i][j] = v * inv_diag[i];
    }
  }
  Lanes Ai[M][M];  // A^{-1} = G^{-T} G^{-1}
  for (int a = 0; a < M; ++a)
    for (int b = a; b < M; ++b) {
      Lanes v = Gi[b][a] * Gi[b][b];
      for (int k = b + 1; k < M; ++k) v += Gi[k][a] * Gi[k][b];
      Ai[a][b] = v;
      Ai[b][a] = v;
    }
  // W̃ = D̃ A^{-1} = δ (D̃/δ) A^{-1}.
  const double delta = 1.0 / inv_delta;
  for (int a = 0; a < M; ++a)
    for (int b = a; b < M; ++b) {
      Lanes v = Dt[a][0] * Ai[0][b];
      for (int c = 1; c < M; ++c) v += Dt[a][c] * Ai[c][b];
      Wt[a][b] = delta * v;
      Wt[b][a] = Wt[a][b];
    }
  return true;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

template <int M>
DELTACRIT_ALWAYS_INLINE RealPassResult real_pass_impl(const PreparedLaw& law, const RealPassRequest& rq) {
  using Mat = Eigen::Matrix<double, M, M>;
  constexpr int P = M * (M + 1) / 2;
  const int k = law.k_h;
  double L[M][M];
  for (int a = 0; a < M; ++a)
    for (int b = 0; b < M; ++b) L[a][b] = (b <= a) ? (*rq.L)(a, b) : 0.0;
  const double inv_delta = 1.0 / rq.delta;
  const double sign = rq.sign;
  Mat X = Mat::Zero();
  if (rq.X) X = *rq.X;
  const bool need_K = (rq.K || rq.X) && k > 0;

  RealPassResult out;
  std::array<Lanes, P*(P + 1) / 2> acc_l;
  for (auto& v : acc_l) v = Lanes{};
  std::array<Mat, 6> Kb, Kdb;  // blocks (a, b), a ≤ b, of k ≤ 3
  for (auto& b : Kb) b.setZero();
  for (auto& b : Kdb) b.setZero();

  static constexpr double kZeroNode[M * M] = {};
  constexpr int B = kLanes;
  Lanes Wt[M][M];
  Lanes u[P];
  Lanes wbar_l[P];
  for (int a = 0; a < P; ++a) wbar_l[a] = Lanes{};
  for (std::size_t i0 = 0; i0 < law.n; i0 += B) {
    const double* Dp[B];
    double wl[B];
    for (int l = 0; l < B; ++l) {
      const std::size_t i = i0 + l;
      const bool real_node = i < law.n;
      Dp[l] = real_node ? law.D.data() + i * M * M : kZeroNode;  // padding: D = 0, weight 0
      wl[l] = real_node ? law.w[i] : 0.0;
    }
    const Lanes w = {wl[0], wl[1], wl[2], wl[3]};
    if (!batch_wtilde<M>(Dp, L, sign, inv_delta, Wt)) {
      out.domain_ok = false;
      return out;
    }
    {
      int q = 0;
      for (int a = 0; a < M; ++a)
        for (int b = a; b < M; ++b, ++q) u[q] = Wt[a][b];
    }
    for (int a = 0; a < P; ++a) wbar_l[a] += w * u[a];
    if (rq.tensor) {
      int q = 0;
      for (int a = 0; a < P; ++a) {
        const Lanes wu = w * u[a];
        for (int b = a; b < P; ++b, ++q) acc_l[q] += wu * u[b];
      }
    }
    if (need_K) {
      for (int l = 0; l < B && i0 + l < law.n; ++l) {
        Mat Wm;
        for (int a = 0; a < M; ++a)
          for (int b = 0; b < M; ++b) Wm(a, b) = Wt[a][b][l];
        const double* z = law.z.data() + (i0 + l) * k;
        Mat Y = Mat::Zero();
        if (rq.X) Y.noalias() = Wm * X * Wm;
        int blk = 0;
        for (int a = 0; a < k; ++a)
          for (int b = a; b < k; ++b) {
            const double c = w[l] * z[a] * z[b];
            if (rq.K) Kb[blk].noalias() += c * Wm;
            if (rq.X) Kdb[blk].noalias() += c * Y;
            ++blk;
          }
      }
    }
  }
  // Lane sums.
  std::array<double, P> wbar{};
  std::array<double, P*(P + 1) / 2> acc{};
  for (int a = 0; a < P; ++a)
    for (int l = 0; l < B; ++l) wbar[a] += wbar_l[a][l];
  for (std::size_t q = 0; q < acc.size(); ++q)
    for (int l = 0; l < B; ++l) acc[q] += acc_l[q][l];
  out.Wbar.resize(M, M);
  {
    int q = 0;
    for (int a = 0; a < M; ++a)
      for (int b = a; b < M; ++b) {
        out.Wbar(a, b) = wbar[q];
        out.Wbar(b, a) = wbar[q];
        ++q;
      }
  }
  if (!out.Wbar.allFinite()) {
    out.domain_ok = false;
    return out;
  }
  if (rq.tensor) unpack_upper<P>(acc, out.U);
  auto assemble = [&](const std::array<Mat, 6>& blocks, Eigen::MatrixXd& dst) {
    dst.setZero(k * M, k * M);
    int blk = 0;
    for (int a = 0; a < k; ++a)
      for (int b = a; b < k; ++b) {
        dst.block(a * M, b * M, M, M) = blocks[blk];
        dst.block(b * M, a * M, M, M) = blocks[blk].transpose();
        ++blk;
      }
  };
  if (rq.K) assemble(Kb, out.Kt);
  if (rq.X) assemble(Kdb, out.Kd);
  return out;
}

// 1/z without the C99 Annex G special-value handling of libgcc's __divdc3 (a call per division);
// z is a nonzero finite pivot here.
inline std::complex<double> reciprocal(std::complex<double> z) {
  const double n = z.real() * z.real() + z.imag() * z.imag();
  return {z.real() / n, -z.imag() / n};
}

// W = (I + D S/δ)^{-1} D for one node by Gaussian elimination with partial pivoting on the
// M×M complex system, written out for fixed M. Returns false on an exactly singular pivot.
template <int M>
inline bool node_w_complex(const double* D, const std::complex<double> (&Sd)[M][M],
                           std::complex<double> (&W)[M][M]) {
  using cd = std::complex<double>;
  cd A[M][M];
  cd B[M][M];
  for (int a = 0; a < M; ++a)
    for (int b = 0; b < M; ++b) {
      cd v = (a == b) ? cd(1.0, 0.0) : cd(0.0, 0.0);
      for (int c = 0; c < M; ++c) v += D[a * M + c] * Sd[c][b];
      A[a][b] = v;
      B[a][b] = cd(D[a * M + b], 0.0);
    }
  for (int j = 0; j < M; ++j) {
    int piv = j;
    double best = std::norm(A[j][j]);
    for (int i = j + 1; i < M; ++i) {
      const double v = std::norm(A[i][j]);
      if (v > best) {
        best = v;
        piv = i;
      }
    }
    if (!(best > 0.0)) return false;
    if (piv != j)
      for (int b = 0; b < M; ++b) {
        std::swap(A[j][b], A[piv][b]);
        std::swap(B[j][b], B[piv][b]);
      }
    const cd inv = reciprocal(A[j][j]);
    for (int i = j + 1; i < M; ++i) {
      const cd f = A[i][j] * inv;
      for (int b = j + 1; b < M; ++b) A[i][b] -= f * A[j][b];
      for (int b = 0; b < M; ++b) B[i][b] -= f * B[j][b];
    }
  }
  for (int j = M - 1; j >= 0; --j) {
    const cd inv = reciprocal(A[j][j]);
    for (int b = 0; b < M; ++b) {
      cd v = B[j][b];
      for (int c = j + 1; c < M; ++c) v -= A[j][c] * W[c][b];
      W[j][b] = v * inv;
    }
  }
  return true;
}

template <int M>
ComplexPassResult complex_pass_impl(const PreparedLaw& law, const Eigen::MatrixXcd& S, double delta,
                                    bool tensor) {
  using cd = std::complex<double>;
  constexpr int P = M * (M + 1) / 2;
  cd Sd[M][M];
  for (int a = 0; a < M; ++a)
    for (int b = 0; b < M; ++b) Sd[a][b] = S(a, b) / delta;
  ComplexPassResult out;
  std::array<cd, P> wbar{};
  std::array<cd, P*(P + 1) / 2> acc{};
  cd W[M][M];
  std::array<cd, P> u;
  for (std::size_t i = 0; i < law.n; ++i) {
    const double w = law.w[i];
    if (!node_w_complex<M>(law.D.data() + i * M * M, Sd, W)) {
      out.finite = false;
      return out;
    }
    int q = 0;
    for (int a = 0; a < M; ++a)
      for (int b = a; b < M; ++b) u[q++] = 0.5 * (W[a][b] + W[b][a]);
    for (int a = 0; a < P; ++a) wbar[a] += w * u[a];
    if (tensor) rank_one_update<P>(acc, u, w);
  }
  out.Wbar.resize(M, M);
  int q = 0;
  for (int a = 0; a < M; ++a)
    for (int b = a; b < M; ++b) {
      out.Wbar(a, b) = wbar[q];
      out.Wbar(b, a) = wbar[q];
      ++q;
    }
  out.finite = out.Wbar.allFinite();
  if (tensor) unpack_upper<P>(acc, out.U);
  return out;
}

}  // namespace

namespace {
DELTACRIT_KERNEL_CLONES RealPassResult real_pass_1(const PreparedLaw& l, const RealPassRequest& r) { return real_pass_impl<1>(l, r); }
DELTACRIT_KERNEL_CLONES RealPassResult real_pass_2(const PreparedLaw& l, const RealPassRequest& r) { return real_pass_impl<2>(l, r); }
DELTACRIT_KERNEL_CLONES RealPassResult real_pass_3(const PreparedLaw& l, const RealPassRequest& r) { return real_pass_impl<3>(l, r); }
DELTACRIT_KERNEL_CLONES RealPassResult real_pass_4(const PreparedLaw& l, const RealPassRequest& r) { return real_pass_impl<4>(l, r); }
DELTACRIT_KERNEL_CLONES RealPassResult real_pass_5(const PreparedLaw& l, const RealPassRequest& r) { return real_pass_impl<5>(l, r); }
DELTACRIT_KERNEL_CLONES RealPassResult real_pass_6(const PreparedLaw& l, const RealPassRequest& r) { return real_pass_impl<6>(l, r); }
DELTACRIT_KERNEL_CLONES RealPassResult real_pass_7(const PreparedLaw& l, const RealPassRequest& r) { return real_pass_impl<7>(l, r); }
DELTACRIT_KERNEL_CLONES RealPassResult real_pass_8(const PreparedLaw& l, const RealPassRequest& r) { return real_pass_impl<8>(l, r); }
}  // namespace

RealPassResult real_pass(const PreparedLaw& law, const RealPassRequest& rq) {
  switch (law.m) {
    case 1: return real_pass_1(law, rq);
    case 2: return real_pass_2(law, rq);
    case 3: return real_pass_3(law, rq);
    case 4: return real_pass_4(law, rq);
    case 5: return real_pass_5(law, rq);
    case 6: return real_pass_6(law, rq);
    case 7: return real_pass_7(law, rq);
    case 8: return real_pass_8(law, rq);
  }
  throw std::logic_error("spectral::detail::real_pass: m outside 1..8 (law not validated)");
}

ComplexPassResult complex_pass(const PreparedLaw& law, const Eigen::MatrixXcd& S, double delta,
                               bool tensor) {
  switch (law.m) {
    case 1: return complex_pass_impl<1>(law, S, delta, tensor);
    case 2: return complex_pass_impl<2>(law, S, delta, tensor);
    case 3: return complex_pass_impl<3>(law, S, delta, tensor);
    case 4: return complex_pass_impl<4>(law, S, delta, tensor);
    case 5: return complex_pass_impl<5>(law, S, delta, tensor);
    case 6: return complex_pass_impl<6>(law, S, delta, tensor);
    case 7: return complex_pass_impl<7>(law, S, delta, tensor);
    case 8: return complex_pass_impl<8>(law, S, delta, tensor);
  }
  throw std::logic_error("spectral::detail::complex_pass: m outside 1..8 (law not validated)");
}

}  // namespace deltacrit::spectral::detail
