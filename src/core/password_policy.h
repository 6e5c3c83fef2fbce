#pragma once
// Password policies (Vault's sys/policies/password): how generated
// passwords look, written in HCL:
//
//   length = 20
//   rule "charset" {
//     charset   = "abcdefghijklmnopqrstuvwxyz"
//     min-chars = 1
//   }
//
// Generation draws every character with the project's CSPRNG
// (crypto/random.h) by rejection sampling, so the choice among a charset is
// uniform (no modulo bias): first each rule's min-chars from its own
// charset, then the rest from the union of all charsets, then a
// Fisher-Yates shuffle so the guaranteed characters are not at the front.
//
// Charsets are printable ASCII (0x20-0x7e); duplicates are ignored.
//
// PasswordPolicies keeps named policies in a storage view (the core gives
// it a barrier view, so they are encrypted at rest).
//
// Thread-safety: the free functions are reentrant; PasswordPolicies is
// stateless besides its storage and safe to use from many threads.
// Errors: kInvalidArgument (bad HCL, a policy that cannot be satisfied:
// length < sum of min-chars, length outside 4..4096, empty charset),
// kNotFound (unknown policy name), storage errors, kInternal (CSPRNG).

#include <string>
#include <string_view>
#include <vector>

#include "common/secret_bytes.h"
#include "common/status.h"
#include "storage/backend.h"

namespace coffer::core {

struct CharsetRule {
  std::string charset;  // unique characters, in first-seen order
  int min_chars = 0;
};

struct PasswordPolicy {
  int length = 0;
  std::vector<CharsetRule> rules;
};

// Parses and validates a policy (HCL or JSON).
Result<PasswordPolicy> ParsePasswordPolicy(std::string_view text);

// Vault's default generator: 20 characters of [A-Za-z0-9-] with at least
// one lower-case letter, one upper-case letter, one digit and one dash.
const PasswordPolicy& DefaultPasswordPolicy();

// A fresh password satisfying `policy`.
Result<SecretBytes> GeneratePassword(const PasswordPolicy& policy);

// A uniform integer in [0, bound) from the CSPRNG (bound > 0), by rejection
// sampling.
Result<std::uint32_t> UniformRandom(std::uint32_t bound);

class PasswordPolicies {
 public:
  explicit PasswordPolicies(storage::Backend& view) : view_(view) {}

  // Names: [A-Za-z0-9_.-]+ (kInvalidArgument otherwise).
  static Status ValidateName(std::string_view name);

  // Stores the policy's text after checking that it parses and generates.
  Status Put(std::string_view name, std::string_view text);
  // The policy's text; kNotFound when there is none.
  Result<std::string> Get(std::string_view name);
  Status Delete(std::string_view name);
  Result<std::vector<std::string>> List();
  // A password from the named policy, or from DefaultPasswordPolicy() when
  // `name` is empty.
  Result<SecretBytes> Generate(std::string_view name);

 private:
  storage::Backend& view_;
};

}  // namespace coffer::core
