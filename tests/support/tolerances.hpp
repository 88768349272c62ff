#pragma once
// Tolerances used by the tests, one place, each with its reason.
namespace deltacrit::test_tol {

// Gauss–Hermite with n nodes is exact for polynomials of degree ≤ 2n − 1; what is left is
// floating-point round-off of sums of O(n) terms of size up to (2j−1)!!.
inline constexpr double kQuadratureExact = 1e-12;

// Central finite differences with step h = 1e-5 have truncation error O(h²|f'''|) ≈ 1e-10 and
// round-off O(eps/h) ≈ 1e-11 for O(1) functions.
inline constexpr double kFiniteDifference = 1e-7;

// Round-off floor of the δ_alg quadrature sums (thousands of terms of O(1) size, then a
// reciprocal): below it an error estimate from rule differences cannot resolve the error.
inline constexpr double kQuadratureFloor = 1e-12;

// Accuracy targets of the δ_alg solver on the generic (expression) route, relative (issue #2).
inline constexpr double kAlgK1 = 1e-6;
inline constexpr double kAlgK2 = 1e-4;
inline constexpr double kAlgK3 = 1e-3;

// Composite Gauss–Legendre teacher rule with panel ends at the link's kinks (phase1): each panel's
// integrand is smooth, so the rule is exact to round-off of ~150 weighted terms.
inline constexpr double kPhase1Quadrature = 1e-11;

// Simulator (tests/simulate): relative round-off of sums of O(d) products of O(1) doubles
// (d·eps ≈ 2e-13 for d ≤ 1000, with margin for differently ordered but equal sums).
inline constexpr double kRoundoff = 1e-12;

// Simulator: Lanczos (relative residual tolerance 1e-10) against a dense eigensolver on the same
// matrix. Eigenvalue error ≤ residual²/gap, eigenvector error ≤ residual/gap with gaps ≳ 1e-2.
inline constexpr double kLanczosVsDense = 1e-7;

// Simulator: finite-size spread of the spectral squared overlap at d = 800 (references.md:
// "d = 800, δ = 1, T = 1 − 1/y gives ≈ 0.23 ± 0.02"); tests add 3 standard errors of the seed mean.
inline constexpr double kSpectralFiniteSize = 0.02;

// Stieltjes solver (tests/spectral/test_stieltjes*.cpp). Edges: the fold is located in s = tr S
// to root_tol = 1e-11 and ζ(s) is flat there, so the edge is exact to round-off of the node sums;
// atom/hard edges stop where the remaining distance ζ'·s < 1e-10·scale.
inline constexpr double kStieltjesEdge = 1e-9;
// Density at x + iη, η = 1e-9·scale: the bias is O(η·|S'|) in the bulk (≲ 1e-8 for MP).
inline constexpr double kStieltjesDensity = 1e-7;
// Newton stops at relative step 1e-12; conditioning near edges (1/(1 − ρ)) costs ≲ 2 digits.
inline constexpr double kStieltjesSolve = 1e-10;
// Outlier location/overlap vs the scalar Lu–Li formulas (bisections to round-off on one side,
// TOMS 748 to 1e-11 in log tr S on the other).
inline constexpr double kStieltjesOutlier = 1e-8;
// Central differences of K(ζ) with h = 1e-4: truncation h²·|K‴| ≈ 1e-8, S solved to ~1e-13
// relative gives round-off ≈ 1e-13/h = 1e-9; margin for |K‴| ~ 10.
inline constexpr double kStieltjesFD = 1e-6;

// Finite-d checks of the outlier equation (d = 400..500, 4-6 seeds): allowance for the O(1/d)
// bias of a spiked model's outlier eigenvalue and overlap, on top of 4 standard errors.
inline constexpr double kStieltjesFiniteSizeBias = 0.02;

// δ_NN engine vs the scalar spectral formulas (relative): the teacher rule converges to ~1e-8 even
// where λ̄ approaches the atom of T at its supremum (measured: δ_BBP moves 1.3e-8 from 12 to 30
// nodes per panel); Stieltjes roots are solved to 1e-11.
inline constexpr double kNNScalarRoute = 1e-6;

// S(0) = δΓ on the fixed-point law (absolute, entries O(1)): Γ comes from the Gauss–Hermite
// iteration (40 nodes for m = 1, 16² for m = 2), S(0) from the composite-rule law; the two rules
// agree on these smooth moments to ~1e-8.
inline constexpr double kFixedPointIdentity = 1e-6;
// Two solvers of the phase-1 fixed point (plain damped, Anderson, Newton) stopped at a step of
// 1e-10 lie within step·ρ/(1 − ρ) of the fixed point (ρ the contraction), ≤ 1e-7 for ρ ≤ 0.999.
inline constexpr double kFixedPointSolvers = 1e-7;

// δ_NN for k = 2 (sign(z1 z2)) vs its closed-form two-point spectral threshold (relative): the
// k = 2 composite teacher rule has panel ends on the axes where the link jumps, so the only error
// is the 8-node Gauss–Legendre panels against the Gaussian (measured 2e-8 at 8, 3e-10 at 12 nodes).
inline constexpr double kNNK2ClosedForm = 1e-6;

// Resolution of a threshold (relative in δ): a point this close to a crossing of the closed-form
// event counts as undecided — the analyzer's crossing agrees with the scalar route to
// kNNScalarRoute and a failed point is retried up to 6.4e-5 away (Analyzer::thresholds).
inline constexpr double kNNCrossingUndecided = 1e-4;

// State evolution, k = 1 (tests/alg/test_se.cpp). ψ(q) relative: the default rule (12-node
// z-panels, 6×8-node inner ω panels) is within 3e-9 of the mpmath values (measured with 16/10
// nodes: 1e-12); 1e-8 leaves a margin.
inline constexpr double kSE1Psi = 1e-8;
// q*(δ) absolute: TOMS 748 to 1e-11 on ψ(q) − δ, ψ accurate to 1e-8 and ψ' ≈ 0.7 → ~1.5e-8.
inline constexpr double kSE1Overlap = 1e-7;
// argmax ψ: Brent's minimiser stops at √ε-level relative accuracy of a flat maximum (~1e-7).
inline constexpr double kSE1SpinodalLocation = 1e-6;
// Gaussian-noise route (y-space rule with 8-node panels, 48 Gauss–Hermite ω nodes): the
// reference itself is accurate to 6e-10; measured agreement ~1e-7.
inline constexpr double kSE1Noise = 1e-6;
// Ray route (k = 1 cross-check): tensor Gauss–Hermite in ω (80 nodes) does not resolve the tanh
// steps of g_out at q = 0.5 better than ~5e-5 (measured 4.4e-5).
inline constexpr double kSEMatrix = 2e-4;
// k = 2 onset of the matrix recursion on the default 128 graded rays vs δ_alg: the k = 2
// accuracy; measured ≤ 7.8e-5 (z1² + z1 z2), 4.2e-6 (|z1 z2|), 5.4e-7 (z1 z2).
inline constexpr double kSEOnsetK2 = 1e-4;
// E[g gᵀ](M) of z1² − z2² vs the rotated z1 z2 update (128 graded rays, 40² ω nodes) at
// M = [[0.35, 0.08], [0.08, 0.2]]: measured 1.5e-5, the residue of the ω rule (1.8e-3 with 16²).
inline constexpr double kSEMatrixRotation = 1e-4;

// Spectral predictions (tests/spectral/test_spectral_method.cpp) vs ref_spectral.json: z-space
// rule with breakpoints at the kinks of T∘g, roots to 1e-13; λ* at large δ is flat (B ~ 1/λ), so
// an error 1e-10 of B moves it by ~1e-8 relative.
inline constexpr double kSpectralValue = 1e-7;
// Threshold δ_T by bisection on the outlier indicator to 1e-13 relative.
inline constexpr double kSpectralThreshold = 1e-8;

// GAMP at finite d vs state evolution: allowance for the O(d^{-1/2}) finite-size bias on top of 3
// standard errors over the seeds (d = 2000: 2/√d ≈ 0.045).
inline constexpr double kGampFiniteSize = 0.045;
// GAMP's flattened fibre posterior vs RayDenoiser::posterior on the same points: only the exp
// (vectorised, ≤ 3.2e-16 relative) and the summation order differ; measured ≤ 1e-13 relative.
inline constexpr double kFibrePosterior = 1e-9;
// Loose check of a 3-seed GAMP mean at d = 500 against the state evolution (seed spread ≈ 0.1 there).
inline constexpr double kGampSmallD = 0.25;

// Subspace overlap matrix (tests/simulate/test_subspace.cpp) of small well-conditioned estimates
// (r ≤ 4 Gaussian columns, Gram condition ≲ 1e3 after unit scaling): the Gram route errs by
// ≈ ε·cond(G) ≈ 1e-13, against a QR projector or after a change of basis.
inline constexpr double kSubspaceGram = 1e-12;
// The same after a general invertible recombination E·L (cond(L) ≲ 1e2 adds to cond(G)).
inline constexpr double kSubspaceRecombined = 1e-10;
// S of a kind against an independent formula from its outputs (spectral: VᵀV = I only to the
// Lanczos/dense orthogonality ≈ 1e-10; GAMP: M, Q, Ŵ at the scale √d with QR/inverse round-off,
// CLI: means printed with 17 digits): relative/absolute agreement.
inline constexpr double kSubspaceKind = 1e-9;
// Standard errors recomputed here from the closed-form per-seed values (sums of 6 squares).
inline constexpr double kSubspaceStderr = 1e-10;

}  // namespace deltacrit::test_tol
