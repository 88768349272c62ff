#include "deltacrit/core/status.hpp"

namespace deltacrit {

std::string_view to_string(Status s) {
  switch (s) {
    case Status::not_computed: return "not_computed";
    case Status::success: return "success";
    case Status::not_converged: return "not_converged";
    case Status::numerical_issue: return "numerical_issue";
  }
  return "unknown";
}

namespace {
int severity(Status s) {
  switch (s) {
    case Status::success: return 0;
    case Status::not_converged: return 1;
    case Status::numerical_issue: return 2;
    case Status::not_computed: return 3;
  }
  return 3;
}
}  // namespace

Status worst(Status a, Status b) { return severity(a) >= severity(b) ? a : b; }

InputError::InputError(std::string parameter, const std::string& message)
    : std::invalid_argument(message), parameter_(std::move(parameter)) {}

}  // namespace deltacrit
