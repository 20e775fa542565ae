#include "core/status.h"

namespace vigil {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "Ok";
    case ErrorCode::kMalformed: return "Malformed";
    case ErrorCode::kInvalidArgument: return "InvalidArgument";
    case ErrorCode::kNotFound: return "NotFound";
    case ErrorCode::kAlreadyExists: return "AlreadyExists";
    case ErrorCode::kConflict: return "Conflict";
    case ErrorCode::kUnauthenticated: return "Unauthenticated";
    case ErrorCode::kPermissionDenied: return "PermissionDenied";
    case ErrorCode::kResourceExhausted: return "ResourceExhausted";
    case ErrorCode::kFailedPrecondition: return "FailedPrecondition";
    case ErrorCode::kUnavailable: return "Unavailable";
    case ErrorCode::kInternal: return "Internal";
  }
  return "Unknown";
}

std::string Status::detail() const {
  if (field_.empty()) return message_;
  return field_ + ": " + message_;
}

std::string Status::to_string() const {
  if (ok()) return "Ok";
  std::string out(error_code_name(code_));
  if (!message_.empty() || !field_.empty()) {
    out += ": ";
    out += detail();
  }
  return out;
}

}  // namespace vigil
