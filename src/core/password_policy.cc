#include "core/password_policy.h"

#include <array>
#include <limits>
#include <nlohmann/json.hpp>

#include "crypto/random.h"
#include "hcl/hcl.h"

namespace coffer::core {
namespace {

using Json = nlohmann::json;

constexpr int kMinLength = 4;
constexpr int kMaxLength = 4096;

// Collects the unique characters of `text` in first-seen order.
Result<std::string> UniqueCharset(std::string_view text) {
  std::array<bool, 128> seen{};
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) {
      return Err(InvalidArgument("charset must be printable ASCII characters"));
    }
    if (!seen[u]) {
      seen[u] = true;
      out.push_back(c);
    }
  }
  if (out.empty()) return Err(InvalidArgument("charset must not be empty"));
  return out;
}

Result<CharsetRule> ParseRule(const Json& body) {
  if (!body.is_object()) return Err(InvalidArgument("rule \"charset\" must be a block"));
  CharsetRule rule;
  for (const auto& [key, value] : body.items()) {
    if (key == "charset") {
      if (!value.is_string()) return Err(InvalidArgument("charset must be a string"));
      ASSIGN_OR_RETURN(rule.charset, UniqueCharset(value.get<std::string>()));
    } else if (key == "min-chars" || key == "min_chars") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
          value.get<std::int64_t>() > kMaxLength) {
        return Err(InvalidArgument("min-chars must be a non-negative integer"));
      }
      rule.min_chars = value.get<int>();
    } else {
      return Err(InvalidArgument("unknown field in rule \"charset\": " + key));
    }
  }
  if (rule.charset.empty()) return Err(InvalidArgument("rule \"charset\" needs a charset"));
  return rule;
}

// The union of every rule's charset, each character once.
std::string UnionCharset(const PasswordPolicy& policy) {
  std::string all;
  for (const auto& r : policy.rules) all += r.charset;
  auto unique = UniqueCharset(all);
  return unique ? *unique : std::string();
}

Status Validate(const PasswordPolicy& policy) {
  if (policy.length < kMinLength || policy.length > kMaxLength) {
    return InvalidArgument("length must be between 4 and 4096");
  }
  if (policy.rules.empty()) return InvalidArgument("a password policy needs at least one rule");
  std::int64_t required = 0;
  for (const auto& r : policy.rules) required += r.min_chars;
  if (required > policy.length) {
    return InvalidArgument("impossible policy: the rules require " + std::to_string(required) +
                           " characters but length is " + std::to_string(policy.length));
  }
  return Status::Ok();
}

constexpr std::string_view kStoragePrefix = "policy/";

}  // namespace

Result<std::uint32_t> UniformRandom(std::uint32_t bound) {
  if (bound == 0) return Err(Internal("UniformRandom: empty range"));
  // Reject the top partial block so every residue is equally likely.
  const std::uint32_t limit = std::numeric_limits<std::uint32_t>::max() -
                              (std::numeric_limits<std::uint32_t>::max() % bound + 1) % bound;
  for (;;) {
    std::array<std::uint8_t, 4> b{};
    TRY(crypto::RandomFill(b));
    std::uint32_t v = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                      (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
    if (v <= limit) return v % bound;
  }
}

Result<PasswordPolicy> ParsePasswordPolicy(std::string_view text) {
  if (text.empty()) return Err(InvalidArgument("missing password policy"));
  ASSIGN_OR_RETURN(hcl::Document doc, hcl::Parse(text));
  const Json& root = doc.json();
  if (!root.is_object()) return Err(InvalidArgument("a password policy must be an object"));
  PasswordPolicy policy;
  for (const auto& [key, value] : root.items()) {
    if (key == "length") {
      if (!value.is_number_integer()) return Err(InvalidArgument("length must be an integer"));
      std::int64_t n = value.get<std::int64_t>();
      if (n < 0 || n > kMaxLength) return Err(InvalidArgument("length must be between 4 and 4096"));
      policy.length = static_cast<int>(n);
    } else if (key == "rule") {
      if (!value.is_object()) return Err(InvalidArgument("rule must be a labelled block"));
      for (const auto& [type, body] : value.items()) {
        if (type != "charset") return Err(InvalidArgument("unknown rule type: " + type));
        if (body.is_array()) {
          for (const auto& b : body) {
            ASSIGN_OR_RETURN(CharsetRule r, ParseRule(b));
            policy.rules.push_back(std::move(r));
          }
        } else {
          ASSIGN_OR_RETURN(CharsetRule r, ParseRule(body));
          policy.rules.push_back(std::move(r));
        }
      }
    } else {
      return Err(InvalidArgument("unknown field in password policy: " + key));
    }
  }
  TRY(Validate(policy));
  return policy;
}

const PasswordPolicy& DefaultPasswordPolicy() {
  static const PasswordPolicy policy{
      20,
      {{"abcdefghijklmnopqrstuvwxyz", 1},
       {"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1},
       {"0123456789", 1},
       {"-", 1}},
  };
  return policy;
}

Result<SecretBytes> GeneratePassword(const PasswordPolicy& policy) {
  TRY(Validate(policy));
  const std::string all = UnionCharset(policy);
  if (all.empty()) return Err(InvalidArgument("a password policy needs a charset"));
  SecretBytes out(static_cast<std::size_t>(policy.length));
  std::uint8_t* p = out.data();
  std::size_t i = 0;
  for (const auto& rule : policy.rules) {
    for (int k = 0; k < rule.min_chars; ++k) {
      ASSIGN_OR_RETURN(std::uint32_t idx,
                       UniformRandom(static_cast<std::uint32_t>(rule.charset.size())));
      p[i++] = static_cast<std::uint8_t>(rule.charset[idx]);
    }
  }
  for (; i < out.size(); ++i) {
    ASSIGN_OR_RETURN(std::uint32_t idx, UniformRandom(static_cast<std::uint32_t>(all.size())));
    p[i] = static_cast<std::uint8_t>(all[idx]);
  }
  for (std::size_t j = out.size() - 1; j > 0; --j) {
    ASSIGN_OR_RETURN(std::uint32_t k, UniformRandom(static_cast<std::uint32_t>(j + 1)));
    std::swap(p[j], p[k]);
  }
  return out;
}

Status PasswordPolicies::ValidateName(std::string_view name) {
  if (name.empty() || name.size() > 128) return InvalidArgument("invalid password policy name");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return InvalidArgument("invalid password policy name");
  }
  if (name == "." || name == "..") return InvalidArgument("invalid password policy name");
  return Status::Ok();
}

Status PasswordPolicies::Put(std::string_view name, std::string_view text) {
  TRY(ValidateName(name));
  ASSIGN_OR_RETURN(PasswordPolicy policy, ParsePasswordPolicy(text));
  ASSIGN_OR_RETURN(SecretBytes probe, GeneratePassword(policy));
  (void)probe;
  Json record{{"policy", std::string(text)}};
  return view_.Put(std::string(kStoragePrefix) + std::string(name), record.dump());
}

Result<std::string> PasswordPolicies::Get(std::string_view name) {
  TRY(ValidateName(name));
  ASSIGN_OR_RETURN(auto entry, view_.Get(std::string(kStoragePrefix) + std::string(name)));
  if (!entry) return Err(NotFound("no password policy named " + std::string(name)));
  Json record = Json::parse(entry->value, nullptr, false);
  if (!record.is_object() || !record.contains("policy") || !record["policy"].is_string()) {
    return Err(Internal("password policy record is corrupt"));
  }
  return record["policy"].get<std::string>();
}

Status PasswordPolicies::Delete(std::string_view name) {
  TRY(ValidateName(name));
  return view_.Delete(std::string(kStoragePrefix) + std::string(name));
}

Result<std::vector<std::string>> PasswordPolicies::List() {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, view_.List(kStoragePrefix));
  std::erase_if(keys, [](const std::string& k) { return k.ends_with('/'); });
  return keys;
}

Result<SecretBytes> PasswordPolicies::Generate(std::string_view name) {
  if (name.empty()) return GeneratePassword(DefaultPasswordPolicy());
  ASSIGN_OR_RETURN(std::string text, Get(name));
  ASSIGN_OR_RETURN(PasswordPolicy policy, ParsePasswordPolicy(text));
  return GeneratePassword(policy);
}

}  // namespace coffer::core
