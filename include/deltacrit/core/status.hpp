#pragma once
// Project-wide outcome of a numerical computation, and the exception for misuse.
//
// Expected numerical outcomes (did a solver converge?) are values of `Status`; a result struct
// always carries one and its default is `not_computed`. Bad input is a programming or user error
// and is reported by throwing `InputError`, which names the offending parameter and the accepted
// range.
#include <stdexcept>
#include <string>
#include <string_view>

namespace deltacrit {

enum class Status {
  not_computed,     // default: nothing has been computed yet
  success,          // converged to the requested tolerance
  not_converged,    // iteration/quadrature budget exhausted before the tolerance was met
  numerical_issue,  // a non-finite value or a breakdown was met; the result is not usable
};

// Stable lower-case name used in JSON output ("success", "not_converged", ...).
std::string_view to_string(Status s);

// The worse of two statuses (success < not_converged < numerical_issue; not_computed is worst).
Status worst(Status a, Status b);

// Thrown for invalid user input. `parameter()` is the option or argument name as the user typed
// it (e.g. "link", "--tol", "noise"); `what()` is a complete sentence that names it and gives the
// accepted values.
class InputError : public std::invalid_argument {
 public:
  InputError(std::string parameter, const std::string& message);
  const std::string& parameter() const noexcept { return parameter_; }

 private:
  std::string parameter_;
};

}  // namespace deltacrit
