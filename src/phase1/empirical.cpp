#include "deltacrit/phase1/empirical.hpp"

#include "deltacrit/simulate/law_io.hpp"

namespace deltacrit::phase1 {

EmpiricalPhase1 read_empirical(const std::string& path, const std::string& parameter) {
  simulate::EmpiricalLaw file = simulate::read_law(path, parameter);
  EmpiricalPhase1 out;
  const std::size_t n = file.y.size();
  out.law.m = file.m;
  out.law.k = file.k;
  out.law.w.assign(n, 1.0 / static_cast<double>(n));
  out.law.y = std::move(file.y);
  out.law.u = std::move(file.u);
  out.law.z = std::move(file.z);
  out.law.description = "empirical law from '" + path + "': " + std::to_string(n) + " samples of a run at d = " +
                        std::to_string(file.d) + ", delta = " + std::to_string(file.delta);
  out.law.validate(parameter);
  for (int h : file.hard) out.hard.push_back(h - 1);
  out.a = file.a;
  out.delta = file.delta;
  out.d = file.d;
  out.ridge = file.ridge;
  out.D = std::move(file.D);
  return out;
}

}  // namespace deltacrit::phase1
