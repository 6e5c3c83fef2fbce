#pragma once
// Response wrapping: a response is stored in the cubbyhole of a fresh,
// single-use "wrapping token" and the client gets only that token
// (wrap_info). Unwrapping reads the stored response once and revokes the
// token, so a wrapping token used twice, after its TTL, or on any other path
// fails. Thread-safe.

#include <chrono>
#include <string>
#include <vector>

#include "common/clock.h"
#include "engines/cubbyhole/cubbyhole.h"
#include "logical/request.h"
#include "token/token_store.h"

namespace coffer::core {

// Whether a token with these policies is a wrapping token: it holds
// "response-wrapping" alone (the authorizer, the wrapper and the core's
// cubbyhole/response read all decide by this).
bool IsWrappingPolicySet(const std::vector<std::string>& policies);

class Wrapper {
 public:
  Wrapper(token::TokenStore& tokens, engines::cubbyhole::CubbyholeBackend& cubbyhole, Clock& clock)
      : tokens_(tokens), cubbyhole_(cubbyhole), clock_(clock) {}

  // Replaces `response` with its wrapped form. `creation_path` is the
  // request path; kInvalidArgument for a bad TTL.
  Status Wrap(logical::Response& response, std::chrono::seconds ttl,
              const std::string& creation_path);

  // The original response; revokes the wrapping token. kInvalidArgument
  // ("wrapping token is not valid or does not exist") when it is unknown,
  // used or expired.
  Result<logical::Response> Unwrap(std::string_view wrapping_token);

  // Ends the wrapping token with this HMAC without reading what it wraps:
  // its cubbyhole destroyed, the token revoked (a wrapping token that
  // authenticated the unwrap of another has used its single use).
  void Spend(std::string_view hmac);

  // Ok when `wrapping_token` is a live wrapping token; kInvalidArgument
  // ("wrapping token is not valid or does not exist") otherwise. Uses
  // nothing.
  Status Check(std::string_view wrapping_token);

  // The older way to unwrap, which Vault still serves (and Spring Vault's
  // UnwrappingEndpoints.Cubbyhole uses): a read of cubbyhole/response with
  // the wrapping token as the client token. Uses the token as Unwrap does;
  // answers {"response": the wrapped response's JSON envelope, as a string}.
  Result<logical::Response> UnwrapFromCubbyhole(std::string_view wrapping_token);

  // {creation_path, creation_time, creation_ttl} without using the token.
  Result<logical::Response> Lookup(std::string_view wrapping_token);

  // Moves the wrapped response to a new token with the same TTL.
  Result<logical::Response> Rewrap(std::string_view wrapping_token);

  // Parses X-Vault-Wrap-TTL ("5m", "300"); bounds 1s..max TTL.
  static Result<std::chrono::seconds> ParseWrapTtl(std::string_view text);

 private:
  Result<std::shared_ptr<const token::TokenEntry>> ValidEntry(std::string_view wrapping_token);

  token::TokenStore& tokens_;
  engines::cubbyhole::CubbyholeBackend& cubbyhole_;
  Clock& clock_;
};

}  // namespace coffer::core
