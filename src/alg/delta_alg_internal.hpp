#pragma once
// Internal: the result of a one-stage analysis of a given law (used by the closed-form route).
#include "deltacrit/alg/delta_alg.hpp"

namespace deltacrit::alg::detail {

// Classifies the directions of `law` in one stage (trivial, else easy; the rest hard) and fills
// an AlgResult as compute_delta_alg does for its first stage.
AlgResult single_stage_result(const ChannelLaw& law, const model::Link& link, const model::Noise& noise,
                              const std::string& method);

}  // namespace deltacrit::alg::detail
