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
//   path "secret/metadata/*" {
//     capabilities = ["list", "scan"]
//     list_scan_response_keys_filter_path = "{{ .path }}{{ .key }}"  # OpenBao's
//     pagination_limit = 500                                          # OpenBao's
//   }
//   path "secret/legacy" { policy = "read" }    # deny | read | write | sudo
//   path "secret/data/break-glass" {
//     capabilities = ["read"]
//     expiration   = "2026-12-31T23:59:59Z"   # OpenBao's: RFC 3339
//     comment      = "free text, ignored"
//   }
//
// Pattern syntax: an exact path; a trailing `*` for a prefix glob (the only
// place `*` may appear); `+` as a whole segment for exactly one segment;
// `{{identity.…}}` parameters (Vault's ACL templating, see ExpandTemplate),
// filled in from the caller's identity when the ACL is compiled for it.
// A policy is compiled into an Acl (policy/acl.h) to be checked.
//
// Thread-safety: ParsePolicy is reentrant; a Policy is immutable after
// parsing and may be shared (std::shared_ptr<const Policy>).
//
// Errors: kInvalidArgument naming the policy, the line and what is wrong.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/go_template.h"
#include "common/status.h"

namespace coffer::policy {

// Capability bits (the same values Vault uses internally; scan is OpenBao's
// recursive list, with OpenBao's value).
enum Capability : std::uint32_t {
  kCapDeny = 1u << 0,
  kCapCreate = 1u << 1,
  kCapRead = 1u << 2,
  kCapUpdate = 1u << 3,
  kCapDelete = 1u << 4,
  kCapList = 1u << 5,
  kCapSudo = 1u << 6,
  kCapPatch = 1u << 7,
  kCapScan = 1u << 8,
  // Vault 1.16's: with subscribe_event_types, lets the events of a path
  // reach a subscriber (sys_events.cc).
  kCapSubscribe = 1u << 9,
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
  bool templated = false;                        // pattern has {{...}} parameters
  // OpenBao's list_scan_response_keys_filter_path: a template of `.path`
  // (the listed folder's request path) and `.key` (one listed name) giving
  // the path a caller must be able to read (list, for a folder) to see that
  // name in a LIST or SCAN answer. Empty: no filtering.
  std::string keys_filter_path;
  std::shared_ptr<const go_template::Template> keys_filter;  // compiled; null when empty
  // OpenBao's pagination_limit: the largest `limit` a LIST or SCAN may ask
  // for (0: no bound); see Acl::Check.
  std::int64_t pagination_limit = 0;
  // OpenBao's per-path expiration: from then on the stanza is left out of
  // the ACLs compiled (Acl::Compile). Unset: it never expires.
  std::optional<std::chrono::system_clock::time_point> expiration;
  // Vault's subscribe_event_types: globs of the event types `subscribe`
  // lets through for this path.
  std::vector<std::string> subscribe_event_types;
};

// The path keys_filter names for `key` listed under the request path `path`.
// kInvalidArgument when the template fails (e.g. an unknown function).
Result<std::string> KeysFilterPath(const go_template::Template& filter, std::string_view path,
                                   std::string_view key);

// OpenBao's per-policy opt-outs of ExpandTemplate's value check.
struct TemplateValues {
  bool wildcards = false;  // allow_wildcards_in_identity_templates: '*', and '+' first
  bool slashes = false;    // allow_slashes_in_identity_templates: '/'
};

struct Policy {
  std::string name;  // canonical: lower-case, trimmed
  std::string raw;   // the text as uploaded
  std::vector<PathRules> paths;
  bool templated = false;  // some path is templated: its ACL depends on the caller
  TemplateValues template_values;

  // OpenBao's policy lifecycle, kept by PolicyStore (policy_store.h); zero
  // and unset for the built-ins.
  std::int64_t version = 0;  // 1 for a new policy, +1 on each write
  bool cas_required = false;
  std::optional<std::chrono::system_clock::time_point> modified;
  std::optional<std::chrono::system_clock::time_point> expiration;
};

// What a templated path may name: the identity behind the caller's token.
struct TemplateIdentity {
  struct Alias {
    std::string mount_accessor;
    std::string id;
    std::string name;
    std::map<std::string, std::string, std::less<>> custom_metadata;
    std::map<std::string, std::string, std::less<>> metadata;  // set by the auth method
  };
  struct Group {
    std::string id;
    std::string name;
    std::map<std::string, std::string, std::less<>> metadata;
  };
  std::string entity_id;
  std::string entity_name;
  std::map<std::string, std::string, std::less<>> entity_metadata;
  std::vector<Alias> aliases;
  std::vector<Group> groups;  // the entity's groups, direct and inherited
};

// Checks the {{...}} parameters of a path pattern: balanced braces, and
// only the parameters Vault defines for ACL paths:
//   identity.entity.id | .name | .metadata.<key>
//   identity.entity.aliases.<mount accessor>.id | .name | .metadata.<key>
//                                            | .custom_metadata.<key>
//   identity.groups.ids.<group id>.id | .name | .metadata.<key>
//   identity.groups.names.<group name>.id | .name | .metadata.<key>
// Returns the pattern's shape when it is templated (each parameter replaced
// by "x": the text the glob rules apply to, as values are plain text, see
// ExpandTemplate), nullopt when it is not, or kInvalidArgument naming the
// problem (without the policy's name or line: the caller adds them).
Result<std::optional<std::string>> CheckTemplate(std::string_view pattern);

// The pattern with every parameter replaced by its value for `who` (null:
// a token without an entity). nullopt when a parameter has no value for
// this caller, or when a value could change what the pattern matches: it
// is empty, contains '/', '*', '{', '}' or a control character, or begins
// with '+'. The stanza is then left out of the caller's ACL, as in OpenBao
// (Vault has no such check: there a name like "a/b" reaches into another
// subtree). `allow` lets a policy accept '*' and a leading '+' (wildcards)
// or '/' (slashes) in values, as OpenBao's policy flags do.
std::optional<std::string> ExpandTemplate(std::string_view pattern, const TemplateIdentity* who,
                                          TemplateValues allow = {});

// Lower-case and trim (Vault's sanitizeName).
std::string CanonicalPolicyName(std::string_view name);

// Checks a canonical name: not empty, at most 128 bytes, no '/', no control
// characters. kInvalidArgument otherwise.
Status ValidatePolicyName(std::string_view canonical_name);

// Parses policy text (HCL or JSON). `name` is canonicalised and validated;
// "root" is refused (the root policy is built in and cannot be changed).
Result<Policy> ParsePolicy(std::string_view name, std::string_view text);

}  // namespace coffer::policy
