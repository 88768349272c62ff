// build_channel_law: dispatch on k, output noise acting on the clean law, and exact symmetry
// projection of the conditional moments.
#include "deltacrit/alg/channel.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include "channel_internal.hpp"
#include "deltacrit/core/rng.hpp"

namespace deltacrit::alg {

void ChannelOptions::validate() const {
  if (!(tol > 0 && tol <= 0.1)) {
    std::ostringstream m;
    m << "tol = " << tol << " is out of range (accepted: 0 < tol <= 0.1)";
    throw InputError("tol", m.str());
  }
  if (!(radius == 0.0 || (radius >= 5.0 && radius <= 20.0))) {
    std::ostringstream m;
    m << "radius = " << radius << " is out of range (accepted: 0 for automatic, or 5 <= radius <= 20)";
    throw InputError("radius", m.str());
  }
  if (!(fibre_grid == 0 || (fibre_grid >= 64 && fibre_grid <= 65536))) {
    throw InputError("fibre_grid", "fibre_grid = " + std::to_string(fibre_grid) +
                                       " is out of range (accepted: 0 for automatic, or 64..65536)");
  }
}

double ChannelLaw::total_weight() const {
  double s = 0;
  for (const auto& n : nodes) s += n.weight;
  return s;
}

namespace {

// Sign-flip symmetries of g: D = diag(±1) with g(Dz) = g(z) on 256 Gaussian samples (bitwise or
// to 1e-13 relative). If g(Dz) = g(z) then the law of (z, y) is invariant under z → Dz, so
// E[z|y] = D E[z|y] and E[zzᵀ|y] = D E[zzᵀ|y] D exactly (pitfall 1: decide zeros by symmetry).
std::vector<std::vector<int>> sign_symmetries(const model::Link& link) {
  const int k = link.k();
  std::vector<std::vector<int>> out;
  Rng rng = make_rng(7, 11);
  std::normal_distribution<double> normal;
  std::vector<std::array<double, 3>> samples(256);
  for (auto& s : samples)
    for (int i = 0; i < 3; ++i) s[i] = i < k ? normal(rng) : 0.0;
  for (int mask = 1; mask < (1 << k); ++mask) {
    std::vector<int> d(k);
    for (int i = 0; i < k; ++i) d[i] = (mask >> i) & 1 ? -1 : 1;
    bool invariant = true;
    for (const auto& s : samples) {
      double z[3], zd[3];
      for (int i = 0; i < k; ++i) {
        z[i] = s[i];
        zd[i] = d[i] * s[i];
      }
      const double a = link(z), b = link(zd);
      if (!(a == b || std::fabs(a - b) <= 1e-13 * std::max(std::fabs(a), std::fabs(b)))) {
        invariant = false;
        break;
      }
    }
    if (invariant) out.push_back(d);
  }
  return out;
}

void project_symmetries(ChannelLaw& law, const std::vector<std::vector<int>>& syms) {
  const int k = law.k;
  for (const auto& d : syms) {
    for (auto& n : law.nodes) {
      if (n.erased) continue;
      for (int a = 0; a < k; ++a)
        if (d[a] < 0) n.m1(a) = 0.0;
      for (int a = 0; a < k; ++a)
        for (int b = 0; b < k; ++b)
          if (d[a] * d[b] < 0) n.m2(a, b) = 0.0;
    }
  }
}

void apply_flip(ChannelLaw& law, double eps) {
  // Flip noise is defined for ±1 labels: the clean law must be two atoms at −1 and +1.
  double continuous = 0;
  ChannelNode plus, minus;
  plus.weight = minus.weight = 0;
  const int k = law.k;
  plus.m1 = minus.m1 = Vec::Zero(k);
  plus.m2 = minus.m2 = Mat::Zero(k, k);
  for (const auto& n : law.nodes) {
    if (n.atom && (n.y == 1.0 || n.y == -1.0)) {
      auto& t = n.y > 0 ? plus : minus;
      t.weight += n.weight;
      t.m1 += n.weight * n.m1;
      t.m2 += n.weight * n.m2;
    } else {
      continuous += n.weight;
    }
  }
  if (continuous > 1e-9) {
    std::ostringstream m;
    m << "noise: flip:EPS needs a link with values in {-1, +1} (e.g. sign(...)); this link puts "
         "probability "
      << continuous << " on other values (use gaussian:VAR, erase:EPS or resample:EPS instead)";
    throw InputError("noise", m.str());
  }
  // P'(+1) M'(+1) = (1 − ε) P(+1) M(+1) + ε P(−1) M(−1) for the unnormalised moments M.
  ChannelNode np = plus, nm = minus;
  np.weight = (1 - eps) * plus.weight + eps * minus.weight;
  np.m1 = (1 - eps) * plus.m1 + eps * minus.m1;
  np.m2 = (1 - eps) * plus.m2 + eps * minus.m2;
  nm.weight = (1 - eps) * minus.weight + eps * plus.weight;
  nm.m1 = (1 - eps) * minus.m1 + eps * plus.m1;
  nm.m2 = (1 - eps) * minus.m2 + eps * plus.m2;
  nm.y = -1.0;
  np.y = 1.0;
  law.nodes.clear();
  for (auto* n : {&nm, &np}) {
    if (!(n->weight > 0)) continue;
    n->m1 /= n->weight;
    n->m2 /= n->weight;
    n->atom = true;
    law.nodes.push_back(*n);
  }
}

}  // namespace

ChannelLaw build_channel_law(const model::Link& link, const model::Noise& noise, const ChannelOptions& options) {
  options.validate();
  const int k = link.k();
  ChannelLaw law;
  if (noise.kind == model::Noise::Kind::gaussian && noise.param > 0) {
    law = detail::apply_gaussian_noise(link, noise.param, options);
  } else {
    law = k == 1 ? detail::build_clean_k1(link, options) : detail::build_clean_rays(link, options);
  }
  const auto syms = sign_symmetries(link);
  project_symmetries(law, syms);

  switch (noise.kind) {
    case model::Noise::Kind::flip:
      apply_flip(law, noise.param);
      break;
    case model::Noise::Kind::erase: {
      // z is independent of a missing label: E[z|∗] = 0, E[zzᵀ|∗] = I.
      for (auto& n : law.nodes) n.weight *= 1 - noise.param;
      ChannelNode e;
      e.weight = noise.param;
      e.y = std::numeric_limits<double>::quiet_NaN();
      e.atom = e.erased = true;
      e.m1 = Vec::Zero(k);
      e.m2 = Mat::Identity(k, k);
      law.nodes.push_back(e);
      ++law.diagnostics.atoms;
      break;
    }
    case model::Noise::Kind::resample:
      // p(z|y) = (1 − ε) p_clean(z|y) + ε p(z): the posterior mixes with the prior.
      for (auto& n : law.nodes) {
        n.m1 *= 1 - noise.param;
        n.m2 = (1 - noise.param) * n.m2 + noise.param * Mat::Identity(k, k);
      }
      break;
    default:
      break;
  }
  law.diagnostics.mass_defect = 1.0 - law.total_weight();
  if (!syms.empty()) {
    std::string s = "sign symmetries:";
    for (const auto& d : syms) {
      s += " (";
      for (int i = 0; i < k; ++i) s += (i ? "," : "") + std::string(d[i] < 0 ? "-" : "+");
      s += ")";
    }
    law.diagnostics.note += (law.diagnostics.note.empty() ? "" : "; ") + s;
  }
  return law;
}

}  // namespace deltacrit::alg
