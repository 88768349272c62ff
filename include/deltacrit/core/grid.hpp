#pragma once
// Parsing of numeric grids given on the command line: "A:B:STEP" (inclusive of B up to rounding)
// or a comma-separated list "0.5,1,2". Shared by every command that sweeps a parameter.
#include <string>
#include <vector>

namespace deltacrit {

// Parses `spec` into an increasing list of values. `parameter` names the option in error
// messages. Throws InputError for an empty, reversed or non-numeric spec, STEP <= 0, more than
// `max_points` points, or any value outside [lower, upper] (exclusive bounds when the flags say so).
std::vector<double> parse_grid(const std::string& spec, const std::string& parameter,
                               double lower, bool lower_exclusive, double upper,
                               std::size_t max_points = 100000);

}  // namespace deltacrit
