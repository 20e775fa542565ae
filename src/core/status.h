// Status and Expected<T>: how likely failures (I/O, network, bad input) travel without
// exceptions. Broken invariants assert instead. A Status is cheap to copy when ok.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vigil {

enum class ErrorCode {
  kOk = 0,
  kMalformed,           // the caller's input cannot be read at all: not JSON, wrong shape (400)
  kInvalidArgument,     // the caller's input is readable but wrong (422)
  kNotFound,            // 404
  kAlreadyExists,       // 409 duplicate
  kConflict,            // 409 state conflict (in use, wrong state)
  kUnauthenticated,     // 401
  kPermissionDenied,    // 403
  kResourceExhausted,   // 413/429: a limit was hit
  kFailedPrecondition,  // the system is not in a state to do this (e.g. schema too new)
  kUnavailable,         // a dependency (database, queue) cannot be reached; retry may help
  kInternal,            // a bug or an unexpected outside failure
};

std::string_view error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  // An error about one named field of the caller's input ("email", "metadata.features"): the
  // API answers it with that field in the problem's "errors".
  Status(ErrorCode code, std::string field, std::string message)
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status ok_status() { return {}; }
  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  // What went wrong, without the field's name.
  const std::string& message() const { return message_; }
  // The input field the error is about; empty when it is about no single field.
  const std::string& field() const { return field_; }
  // "field: message", or the message alone: for a person to read (problem details, the CLI).
  std::string detail() const;
  // "NotFound: model x" — for logs and CLI output.
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::string field_;
};

inline Status invalid_argument(std::string m) {
  return {ErrorCode::kInvalidArgument, std::move(m)};
}
// kInvalidArgument about one field: invalid_field("email", "not an email address").
inline Status invalid_field(std::string field, std::string m) {
  return {ErrorCode::kInvalidArgument, std::move(field), std::move(m)};
}
// kMalformed about one field (or none: field "").
inline Status malformed(std::string field, std::string m) {
  return {ErrorCode::kMalformed, std::move(field), std::move(m)};
}
inline Status not_found(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
inline Status already_exists(std::string m) { return {ErrorCode::kAlreadyExists, std::move(m)}; }
inline Status conflict(std::string m) { return {ErrorCode::kConflict, std::move(m)}; }
inline Status failed_precondition(std::string m) {
  return {ErrorCode::kFailedPrecondition, std::move(m)};
}
inline Status unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
inline Status internal_error(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }

// Holds a T or a non-ok Status. Accessing the wrong side is a bug (asserts).
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Expected(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace vigil

// Returns early from the enclosing function with the error of `expr` (a Status).
#define VIGIL_RETURN_IF_ERROR(expr)              \
  do {                                           \
    if (::vigil::Status s_ = (expr); !s_.ok()) { \
      return s_;                                 \
    }                                            \
  } while (0)
