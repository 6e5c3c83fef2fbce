#pragma once
// Errors are values: every fallible call returns Status or Result<T>.
// The code decides the HTTP status (http/error_map.cc); the message is shown
// to the client only for codes other than kInternal, so a message must never
// contain a secret value.

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace coffer {

enum class Code {
  kOk = 0,
  kInvalidArgument,   // 400: the request is malformed or a field is invalid
  kPermissionDenied,  // 403: no token, bad token, or the ACL says no
  kNotFound,          // 404
  kMethodNotAllowed,  // 405: the path exists but not for this operation
  kConflict,          // 400 in Vault's API: check-and-set failed
  kAlreadyExists,     // 400: e.g. init on an initialised server
  kTooLarge,          // 413
  kRateLimited,       // 429
  kUnsupported,       // 400/501: a feature that is not available here
  kSealed,            // 503: the barrier is sealed
  kUnavailable,       // 503: standby, shutting down, backend unreachable
  kStorageFull,       // 507: the storage has no space left; writes fail, reads go on
  kInternal,          // 500: details go to the log, not the client
};

std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  // Lets TRY/ASSIGN_OR_RETURN return the same expression from functions
  // returning Status and from functions returning Result<T>.
  Status(std::unexpected<Status>&& u) : Status(std::move(u.error())) {}  // NOLINT

  static Status Ok() { return {}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

  // Ignores a status on purpose, where failure is logged or irrelevant.
  void IgnoreError() const {}

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status PermissionDenied(std::string m = "permission denied") {
  return {Code::kPermissionDenied, std::move(m)};
}
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Status TooLarge(std::string m) { return {Code::kTooLarge, std::move(m)}; }
inline Status Unsupported(std::string m) { return {Code::kUnsupported, std::move(m)}; }
inline Status Sealed(std::string m = "Vault is sealed") { return {Code::kSealed, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status StorageFull(std::string m) { return {Code::kStorageFull, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
// 405: the path exists, but not for this operation.
inline Status MethodNotAllowed(std::string m = "unsupported operation") {
  return {Code::kMethodNotAllowed, std::move(m)};
}

template <typename T>
using Result = std::expected<T, Status>;

// Lets `return SomeError(...)` work in a function returning Result<T>.
inline std::unexpected<Status> Err(Status s) { return std::unexpected<Status>(std::move(s)); }

}  // namespace coffer

#define COFFER_CONCAT_INNER(a, b) a##b
#define COFFER_CONCAT(a, b) COFFER_CONCAT_INNER(a, b)

// TRY(expr): evaluates a Status expression and returns it from the enclosing
// function if it is not ok. Works in functions returning Status or Result<T>.
#define TRY(expr)                                          \
  do {                                                     \
    ::coffer::Status coffer_try_status_ = (expr);          \
    if (!coffer_try_status_.ok()) {                        \
      return ::coffer::Err(std::move(coffer_try_status_)); \
    }                                                      \
  } while (false)

// ASSIGN_OR_RETURN(lhs, expr): evaluates a Result<T> expression; on error
// returns the error, otherwise moves the value into lhs (which may declare).
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(COFFER_CONCAT(coffer_result_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)     \
  auto tmp = (expr);                              \
  if (!tmp.has_value()) {                         \
    return ::coffer::Err(std::move(tmp).error()); \
  }                                               \
  lhs = std::move(tmp).value()
