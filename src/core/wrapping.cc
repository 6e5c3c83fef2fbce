#include "core/wrapping.h"

#include "common/duration.h"
#include "common/json_numbers.h"

namespace coffer::core {
namespace {

using logical::Json;

constexpr std::string_view kResponseKey = "response";
constexpr std::string_view kWrappingPolicy = "response-wrapping";

Status InvalidWrappingToken() {
  return InvalidArgument("wrapping token is not valid or does not exist");
}

Json ToStored(const logical::Response& r) {
  Json data = r.data;
  if (data.is_null() && r.raw) {
    // Responses that skip the envelope (some sys endpoints) are wrapped by
    // their data if they have it, or whole.
    data = r.raw->contains("data") ? (*r.raw)["data"] : *r.raw;
  }
  return Json{{"data", data},
              {"auth", r.auth},
              {"lease_id", r.lease_id},
              {"renewable", r.renewable},
              {"lease_duration", r.lease_duration},
              {"warnings", r.warnings},
              {"mount_type", r.mount_type}};
}

logical::Response FromStored(const Json& j) {
  logical::Response r;
  r.data = j.value("data", Json());
  r.auth = j.value("auth", Json());
  r.lease_id = j.value("lease_id", "");
  r.renewable = j.value("renewable", false);
  r.lease_duration = j.value("lease_duration", std::int64_t{0});
  r.warnings = j.value("warnings", Json());
  r.mount_type = j.value("mount_type", "");
  return r;
}

}  // namespace

bool IsWrappingPolicySet(const std::vector<std::string>& policies) {
  return policies.size() == 1 && policies[0] == kWrappingPolicy;
}

Result<std::chrono::seconds> Wrapper::ParseWrapTtl(std::string_view text) {
  ASSIGN_OR_RETURN(std::chrono::seconds ttl, ParseDuration(text));
  if (ttl.count() < 1) return Err(InvalidArgument("wrapping ttl must be at least 1s"));
  if (ttl > std::chrono::hours(768)) {
    return Err(InvalidArgument("wrapping ttl is longer than the maximum TTL (768h)"));
  }
  return ttl;
}

Status Wrapper::Wrap(logical::Response& response, std::chrono::seconds ttl,
                     const std::string& creation_path) {
  token::TokenRequest req;
  req.policies = {std::string(kWrappingPolicy)};
  req.no_default_policy = true;
  req.path = creation_path;
  req.display_name = "response-wrapping";
  req.ttl = ttl;
  req.explicit_max_ttl = ttl;
  req.num_uses = 1;
  req.renewable = false;
  req.system_ttls = true;
  ASSIGN_OR_RETURN(token::CreatedToken created, tokens_.CreateToken(req));
  // Number texts (numbers kept as written) are stored as written too.
  std::string stored = DumpJsonWithNumberText(ToStored(response));
  Status s = cubbyhole_.Put(created.entry->id_hmac, kResponseKey, stored);
  WipeString(stored);
  if (!s.ok()) {
    tokens_.RevokeTree(created.entry->id_hmac).IgnoreError();
    return s;
  }
  // What the wrapped answer gives access to: a token's accessor, or an
  // AppRole secret ID's (Vault fills both in, and Terraform's provider
  // names a wrapped secret ID by it).
  std::string wrapped_accessor;
  if (response.auth.is_object()) {
    wrapped_accessor = response.auth.value("accessor", "");
  } else if (response.mount_type == "approle" && response.data.is_object()) {
    auto it = response.data.find("secret_id_accessor");
    if (it != response.data.end() && it->is_string()) wrapped_accessor = it->get<std::string>();
  }
  logical::Response wrapped;
  wrapped.wrap_info =
      Json{{"token", std::string(created.id.view())},
           {"accessor", created.entry->accessor},
           {"ttl", ttl.count()},
           {"creation_time", FormatRfc3339(std::chrono::system_clock::time_point(
                                 std::chrono::seconds(created.entry->creation_time)))},
           {"creation_path", creation_path},
           {"wrapped_accessor", wrapped_accessor}};
  response = std::move(wrapped);
  return Status::Ok();
}

Result<std::shared_ptr<const token::TokenEntry>> Wrapper::ValidEntry(
    std::string_view wrapping_token) {
  if (wrapping_token.empty()) return Err(InvalidWrappingToken());
  ASSIGN_OR_RETURN(auto entry, tokens_.Lookup(wrapping_token));
  if (!entry || !IsWrappingPolicySet(entry->policies)) return Err(InvalidWrappingToken());
  return entry;
}

Status Wrapper::Check(std::string_view wrapping_token) {
  ASSIGN_OR_RETURN(auto entry, ValidEntry(wrapping_token));
  (void)entry;
  return Status::Ok();
}

Result<logical::Response> Wrapper::Unwrap(std::string_view wrapping_token) {
  ASSIGN_OR_RETURN(auto entry, ValidEntry(wrapping_token));
  // Read the response before spending the single use: the last use revokes
  // the token, and revocation destroys its cubbyhole. Two concurrent unwraps
  // still race for the use, and only the one that gets it answers.
  ASSIGN_OR_RETURN(auto stored, cubbyhole_.Get(entry->id_hmac, kResponseKey));
  ASSIGN_OR_RETURN(auto used, tokens_.UseToken(entry->id_hmac));
  Spend(entry->id_hmac);
  if (!used || !stored) return Err(InvalidWrappingToken());
  auto parsed = ParseJsonNumbers(*stored, kKeepNumberText);
  WipeString(*stored);
  if (!parsed || !parsed->value.is_object()) return Err(Internal("corrupt wrapped response"));
  logical::Response r = FromStored(parsed->value);
  r.number_text = parsed->inexact_numbers;
  return r;
}

void Wrapper::Spend(std::string_view hmac) {
  // The token store's revoke hook destroys the cubbyhole (the wrapped
  // response with it) before the token goes; a failure leaves the token
  // unusable, for a later revocation or tidy to finish.
  tokens_.RevokeTree(hmac).IgnoreError();
}

Result<logical::Response> Wrapper::UnwrapFromCubbyhole(std::string_view wrapping_token) {
  ASSIGN_OR_RETURN(logical::Response inner, Unwrap(wrapping_token));
  // Vault's HTTP envelope of the wrapped response, as it stores it.
  Json envelope = Json{{"request_id", ""},
                       {"lease_id", inner.lease_id},
                       {"renewable", inner.renewable},
                       {"lease_duration", inner.lease_duration},
                       {"data", std::move(inner.data)},
                       {"wrap_info", nullptr},
                       {"warnings", std::move(inner.warnings)},
                       {"auth", std::move(inner.auth)},
                       {"mount_type", inner.mount_type}};
  logical::Response r;
  r.data = Json{{"response", DumpJsonWithNumberText(envelope)}};
  return r;
}

Result<logical::Response> Wrapper::Lookup(std::string_view wrapping_token) {
  ASSIGN_OR_RETURN(auto entry, ValidEntry(wrapping_token));
  logical::Response r;
  r.data = Json{{"creation_path", entry->path},
                {"creation_time", FormatRfc3339(std::chrono::system_clock::time_point(
                                      std::chrono::seconds(entry->creation_time)))},
                {"creation_ttl", entry->ttl}};
  return r;
}

Result<logical::Response> Wrapper::Rewrap(std::string_view wrapping_token) {
  ASSIGN_OR_RETURN(auto entry, ValidEntry(wrapping_token));
  std::string path = entry->path;
  std::chrono::seconds ttl(entry->ttl);
  ASSIGN_OR_RETURN(logical::Response original, Unwrap(wrapping_token));
  TRY(Wrap(original, ttl, path));
  return original;
}

}  // namespace coffer::core
