#pragma once
// ACL policies in Vault's syntax (HCL or JSON), parsed into an immutable value.
//
//   path "secret/*" {
//     capabilities        = ["create", "read", "update", "patch", "delete", "list"]
//     allowed_parameters  = { "foo" = [], "bar" = ["zip", "zap"] }
//     denied_parameters   = { "baz" = [] }
//     required_parameters = ["foo"]
//     min_wrapping_ttl    = "1s"
//     max_wrapping_ttl    = "90s"
//   }
//   path "secret/legacy" { policy = "read" }    # deny | read | write | sudo
//
// Pattern syntax: an exact path; a trailing `*` for a prefix glob (the only
// place `*` may appear); `+` as a whole segment for exactly one segment.
// A policy is compiled into an Acl (policy/acl.h) to be checked.
//
// Thread-safety: ParsePolicy is reentrant; a Policy is immutable after
// parsing and may be shared (std::shared_ptr<const Policy>).
//
// Errors: kInvalidArgument naming the policy, the line and what is wrong.

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace coffer::policy {

// Capability bits (the same values Vault uses internally).
enum Capability : std::uint32_t {
  kCapDeny = 1u << 0,
  kCapCreate = 1u << 1,
  kCapRead = 1u << 2,
  kCapUpdate = 1u << 3,
  kCapDelete = 1u << 4,
  kCapList = 1u << 5,
  kCapSudo = 1u << 6,
  kCapPatch = 1u << 7,
};

// "read" -> kCapRead; nullopt for anything else (including "root").
std::optional<Capability> ParseCapability(std::string_view name);
std::string_view CapabilityName(Capability capability);
// The names of the bits set in `bits`, sorted alphabetically.
std::vector<std::string> CapabilityNames(std::uint32_t bits);

// Parameter name (lower-cased) -> allowed/denied values. An empty list means
// "any value". Values may be strings with a leading and/or trailing `*` glob.
using ParameterMap = std::map<std::string, std::vector<nlohmann::json>, std::less<>>;

// One `path "..." { ... }` stanza.
struct PathRules {
  std::string pattern;             // as written, without a leading '/', e.g. "secret/+/teamb*"
  std::uint32_t capabilities = 0;  // kCapDeny alone when deny was given
  ParameterMap allowed_parameters;
  ParameterMap denied_parameters;
  std::vector<std::string> required_parameters;  // lower-cased
  std::chrono::seconds min_wrapping_ttl{0};      // 0 = not set
  std::chrono::seconds max_wrapping_ttl{0};      // 0 = not set
  int line = 0;                                  // where the stanza starts
};

struct Policy {
  std::string name;  // canonical: lower-case, trimmed
  std::string raw;   // the text as uploaded
  std::vector<PathRules> paths;
};

// Lower-case and trim (Vault's sanitizeName).
std::string CanonicalPolicyName(std::string_view name);

// Checks a canonical name: not empty, at most 128 bytes, no '/', no control
// characters. kInvalidArgument otherwise.
Status ValidatePolicyName(std::string_view canonical_name);

// Parses policy text (HCL or JSON). `name` is canonicalised and validated;
// "root" is refused (the root policy is built in and cannot be changed).
Result<Policy> ParsePolicy(std::string_view name, std::string_view text);

}  // namespace coffer::policy
