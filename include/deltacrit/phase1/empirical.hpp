#pragma once
// Phase-1 law from a finite-d run (option (d) of science.md): the samples (y_i, u_i, z_i) dumped by
// `deltacrit simulate hessian --dump-law FILE`, each with weight 1/n. Semi-empirical: the Hessian
// theory is then applied to the empirical law of the very point whose Hessian the simulator
// diagonalised, which isolates the (R1)/(R2) step from the phase-1 modelling.
#include <string>
#include <vector>

#include "deltacrit/phase1/law.hpp"

namespace deltacrit::phase1 {

struct EmpiricalPhase1 {
  Law law;
  std::vector<int> hard;        // 0-based hard latent indices recorded in the file (may be empty)
  std::vector<double> a;        // second layer of the producing run
  double delta = 0.0;           // n/d of the producing run
  std::size_t d = 0;            // its dimension
  double ridge = 0.0;           // its ridge
  std::vector<double> D;        // D_i as stored by the simulator (n·m·m), empty when absent
};

// Reads FILE (format: include/deltacrit/simulate/law_io.hpp). Throws InputError naming `parameter`
// for a missing, truncated or wrong-format file.
EmpiricalPhase1 read_empirical(const std::string& path, const std::string& parameter = "--phase1");

}  // namespace deltacrit::phase1
