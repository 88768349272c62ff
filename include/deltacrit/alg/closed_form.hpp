#pragma once
// Closed-form channel laws for a few classic noiseless links — a fast path for `alg
// --closed-form` and an independent check of the generic route in the tests.
//
// Recognised (spaces ignored):      conditional moments used
//   z^2, z*z, abs(z), z^2-1          y ↦ |z| = t: E[z²|y] = t², E[z|y] = 0
//   sign(z)                          atoms ±1: E[z|±1] = ±√(2/π), E[z²|±1] = 1
//   z1*z2                            E[z1²|y] = E[z2²|y] = |y|K₁(|y|)/K₀(|y|), E[z1z2|y] = y,
//                                    density K₀(|y|)/π
//   abs(z1*z2)                       the same with E[z1z2|y] = 0, density 2K₀(y)/π on y > 0
//   sign(z1*z2)                      atoms ±1: E[zzᵀ|±1] = I ± (2/π)[[0,1],[1,0]]
//   z1^2+z2^2, z1^2+z2^2+z3^2        y ~ χ²_k, E[zzᵀ|y] = (y/k) I
//   sign(z1*z2*z3)                   atoms ±1 with E[z|±1] = 0, E[zzᵀ|±1] = I (hard)
// The quadratures over y use GSL's scaled Bessel functions and Gauss–Legendre panels graded
// towards the logarithmic singularity of K₀ at 0; they are independent of the generic ray and
// Fibre1D machinery.
#include <optional>
#include <string>

#include "deltacrit/alg/channel.hpp"
#include "deltacrit/alg/delta_alg.hpp"

namespace deltacrit::alg {

// Canonical name of a recognised link ("z^2", "z1*z2", …) or "" if not recognised.
std::string closed_form_name(const std::string& link_text);

// The closed-form law of y (noise-free), or nullopt if the link is not recognised.
std::optional<ChannelLaw> closed_form_channel_law(const model::Link& link);

// δ_alg through the closed-form law (single stage: every recognised link learns all its
// non-hard directions at once), or nullopt if the link is not recognised or noise is not none.
std::optional<AlgResult> closed_form_delta_alg(const model::Link& link, const model::Noise& noise);

}  // namespace deltacrit::alg
