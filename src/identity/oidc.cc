#include "identity/oidc.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "auth/jwt/keys.h"
#include "auth/jwt/token.h"
#include "auth/util.h"
#include "common/duration.h"
#include "common/encoding.h"
#include "common/log.h"
#include "common/secret_bytes.h"
#include "common/text.h"
#include "crypto/random.h"
#include "identity/backend.h"
#include "identity/oidc_keys.h"

namespace coffer::identity {

using logical::DataResponse;
using logical::Json;
using logical::Operation;
using logical::Request;
using logical::Response;

namespace {

constexpr std::string_view kConfigKey = "oidc/config";
constexpr std::string_view kKeyPrefix = "oidc/keys/";
constexpr std::string_view kRolePrefix = "oidc/roles/";
constexpr std::string_view kDefaultKey = "default";
constexpr std::int64_t kDay = 24 * 60 * 60;

// Claims a template may not set (Vault's reserved claims).
constexpr std::string_view kReservedClaims[] = {
    "iat", "aud", "exp", "iss", "sub", "namespace", "nonce", "auth_time", "at_hash", "c_hash"};

bool IsReserved(std::string_view claim) {
  return std::find(std::begin(kReservedClaims), std::end(kReservedClaims), claim) !=
         std::end(kReservedClaims);
}

std::string ReservedList() {
  std::string out;
  for (auto c : kReservedClaims) {
    if (!out.empty()) out += ", ";
    out += c;
  }
  return out;
}

// A path segment without its trailing '/'.
std::string_view Unslashed(std::string_view s) {
  return s.ends_with('/') ? s.substr(0, s.size() - 1) : s;
}

// Vault's GenericNameRegex: word characters, '-' and '.', starting and
// ending with a word character.
bool ValidName(std::string_view name) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (name.empty() || !word(name.front()) || !word(name.back())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return word(c) || c == '-' || c == '.'; });
}

// A duration field: seconds as a number, or a duration string ("24h").
Result<std::optional<std::int64_t>> SecondsField(const Request& request, std::string_view name) {
  // At most ~34,000 years, so that sums and products of durations and times
  // cannot overflow.
  constexpr std::int64_t kMax = std::int64_t{1} << 40;
  const Json* v = request.Field(name);
  if (v == nullptr || v->is_null()) return std::optional<std::int64_t>();
  std::int64_t seconds = 0;
  if (v->is_number()) {
    const double d = v->get<double>();
    if (d < 0 || d > static_cast<double>(kMax)) {
      return Err(InvalidArgument(std::string(name) + " is out of range"));
    }
    seconds = v->is_number_integer() ? v->get<std::int64_t>() : static_cast<std::int64_t>(d);
  } else if (v->is_string()) {
    auto d = ParseDuration(v->get_ref<const std::string&>());
    if (!d) {
      return Err(InvalidArgument("invalid " + std::string(name) + ": " + d.error().message()));
    }
    if (d->count() > kMax) return Err(InvalidArgument(std::string(name) + " is out of range"));
    seconds = d->count();
  } else {
    return Err(InvalidArgument(std::string(name) + " must be a duration"));
  }
  return std::optional<std::int64_t>(seconds);
}

Result<std::optional<std::vector<std::string>>> ListField(const Request& request,
                                                          std::string_view name) {
  const Json* v = request.Field(name);
  if (v == nullptr || v->is_null()) return std::optional<std::vector<std::string>>();
  ASSIGN_OR_RETURN(auto list, StringList(*v, name));
  return std::optional<std::vector<std::string>>(std::move(list));
}

// ---- stored forms ----

struct StoredKey {
  std::string algorithm = "RS256";
  std::int64_t rotation_period = kDay;
  std::int64_t verification_ttl = kDay;
  std::vector<std::string> allowed_client_ids;
  std::int64_t next_rotation = 0;
  oidc::SigningKey signing;
  oidc::SigningKey next;
  // The public halves still published: expire_at 0 while in use.
  struct Published {
    Json jwk;
    std::int64_t expire_at = 0;
  };
  std::vector<Published> ring;
};

Json SigningKeyJson(const oidc::SigningKey& k) {
  return Json{{"kid", k.kid}, {"pem", std::string(k.pem.view())}};
}

oidc::SigningKey SigningKeyFrom(const Json& j) {
  oidc::SigningKey k;
  if (!j.is_object()) return k;
  k.kid = j.value("kid", "");
  if (auto it = j.find("pem"); it != j.end() && it->is_string()) {
    k.pem = SecretBytes::FromString(it->get_ref<const std::string&>());
  }
  return k;
}

Status PutKey(storage::Backend& storage, std::string_view name, const StoredKey& k) {
  Json ring = Json::array();
  for (const auto& p : k.ring) ring.push_back(Json{{"jwk", p.jwk}, {"expire_at", p.expire_at}});
  Json j{{"algorithm", k.algorithm},
         {"rotation_period", k.rotation_period},
         {"verification_ttl", k.verification_ttl},
         {"allowed_client_ids", k.allowed_client_ids},
         {"next_rotation", k.next_rotation},
         {"signing_key", SigningKeyJson(k.signing)},
         {"next_signing_key", SigningKeyJson(k.next)},
         {"key_ring", std::move(ring)}};
  std::string text = j.dump();
  // The private keys are in the tree and the text: wipe both.
  for (const char* field : {"signing_key", "next_signing_key"}) {
    WipeString(j[field]["pem"].get_ref<std::string&>());
  }
  Status s = storage.Put(std::string(kKeyPrefix) + std::string(name), text);
  WipeString(text);
  return s;
}

Result<std::optional<StoredKey>> GetKey(storage::Backend& storage, std::string_view name) {
  ASSIGN_OR_RETURN(auto entry, storage.Get(std::string(kKeyPrefix) + std::string(name)));
  if (!entry) return std::optional<StoredKey>();
  Json j = Json::parse(entry->value, nullptr, false);
  WipeString(entry->value);
  if (!j.is_object()) return Err(Internal("a stored identity token key is corrupt"));
  StoredKey k;
  k.algorithm = j.value("algorithm", "RS256");
  k.rotation_period = j.value("rotation_period", kDay);
  k.verification_ttl = j.value("verification_ttl", kDay);
  k.allowed_client_ids = j.value("allowed_client_ids", std::vector<std::string>{});
  k.next_rotation = j.value("next_rotation", std::int64_t{0});
  k.signing = SigningKeyFrom(j.value("signing_key", Json::object()));
  k.next = SigningKeyFrom(j.value("next_signing_key", Json::object()));
  for (const auto& p : j.value("key_ring", Json::array())) {
    if (!p.is_object()) return Err(Internal("a stored identity token key is corrupt"));
    k.ring.push_back({p.value("jwk", Json::object()), p.value("expire_at", std::int64_t{0})});
  }
  for (const char* field : {"signing_key", "next_signing_key"}) {
    if (auto it = j.find(field); it != j.end() && it->contains("pem") && (*it)["pem"].is_string()) {
      WipeString((*it)["pem"].get_ref<std::string&>());
    }
  }
  return std::optional<StoredKey>(std::move(k));
}

// A new key pair, published from now on.
Result<oidc::SigningKey> NewPublished(StoredKey& k) {
  ASSIGN_OR_RETURN(oidc::SigningKey key, oidc::GenerateSigningKey(k.algorithm));
  ASSIGN_OR_RETURN(Json jwk, oidc::PublicJwk(key, k.algorithm));
  k.ring.push_back({std::move(jwk), 0});
  return key;
}

void ExpirePublished(StoredKey& k, std::string_view kid, std::int64_t at) {
  for (auto& p : k.ring) {
    if (p.jwk.value("kid", "") == kid && p.expire_at == 0) p.expire_at = at;
  }
}

void DropExpired(StoredKey& k, std::int64_t now) {
  std::erase_if(k.ring, [&](const StoredKey::Published& p) {
    return p.expire_at != 0 && p.expire_at <= now;
  });
}

// Vault's rotate: the signing key's public half expires after the
// verification TTL, the next key signs, and a new next key is made.
Status Rotate(StoredKey& k, std::int64_t now, std::int64_t verification_ttl) {
  ExpirePublished(k, k.signing.kid, now + verification_ttl);
  DropExpired(k, now);
  if (k.next.kid.empty()) {
    ASSIGN_OR_RETURN(k.next, NewPublished(k));
  }
  k.signing = std::move(k.next);
  ASSIGN_OR_RETURN(k.next, NewPublished(k));
  k.next_rotation = now + k.rotation_period;
  return Status::Ok();
}

// The key brought up to date: rotated when its rotation period has passed,
// its retired keys dropped once they have stopped verifying. The caller
// holds the lock that serialises key writes.
Result<std::optional<StoredKey>> CurrentKeyLocked(storage::Backend& storage,
                                                  const std::string& name, std::int64_t now) {
  ASSIGN_OR_RETURN(auto k, GetKey(storage, name));
  if (!k) return k;
  const bool expired = std::any_of(k->ring.begin(), k->ring.end(), [&](const auto& p) {
    return p.expire_at != 0 && p.expire_at <= now;
  });
  if (k->next_rotation > now && !expired) return k;
  if (k->next_rotation <= now) {
    TRY(Rotate(*k, now, k->verification_ttl));
  } else {
    DropExpired(*k, now);
  }
  TRY(PutKey(storage, name, *k));
  return k;
}

struct StoredRole {
  std::string key;
  std::string templ;
  std::int64_t ttl = kDay;
  std::string client_id;
};

Json RoleJson(const StoredRole& r) {
  return Json{{"key", r.key}, {"template", r.templ}, {"ttl", r.ttl}, {"client_id", r.client_id}};
}

Result<std::optional<StoredRole>> GetRole(storage::Backend& storage, std::string_view name) {
  ASSIGN_OR_RETURN(auto entry, storage.Get(std::string(kRolePrefix) + std::string(name)));
  if (!entry) return std::optional<StoredRole>();
  Json j = Json::parse(entry->value, nullptr, false);
  if (!j.is_object()) return Err(Internal("a stored identity token role is corrupt"));
  StoredRole r;
  r.key = j.value("key", "");
  r.templ = j.value("template", "");
  r.ttl = j.value("ttl", kDay);
  r.client_id = j.value("client_id", "");
  return std::optional<StoredRole>(std::move(r));
}

// ---- claims templates (Vault's identity templating in JSON mode) ----

// Who a template is filled in for; null while a role's template is checked.
struct TemplateSubject {
  const Entity* entity = nullptr;
  std::vector<Alias> aliases;
  std::vector<std::string> group_ids;
  std::vector<std::string> group_names;
};

Json MapJson(const std::map<std::string, std::string>& m) {
  Json j = Json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

// A map's value as JSON: the whole map, or one key ("" when absent).
Json MapSelect(const std::map<std::string, std::string>& m, std::string_view sel,
               std::string_view field) {
  if (sel == field) return MapJson(m);
  auto it = m.find(std::string(sel.substr(field.size() + 1)));
  return it == m.end() ? Json("") : Json(it->second);
}

Result<Json> AliasValue(std::string_view sel, const Alias& a) {
  if (sel == "id") return Json(a.id);
  if (sel == "name") return Json(a.name);
  if (sel == "metadata" || sel.starts_with("metadata."))
    return MapSelect(a.metadata, sel, "metadata");
  if (sel == "custom_metadata" || sel.starts_with("custom_metadata.")) {
    return MapSelect(a.custom_metadata, sel, "custom_metadata");
  }
  return Err(InvalidArgument("no value could be found for one of the template directives"));
}

Result<Json> EntityValue(std::string_view sel, const TemplateSubject& who) {
  static const Entity kEmpty;
  const Entity& e = who.entity != nullptr ? *who.entity : kEmpty;
  if (sel == "id") return Json(e.id);
  if (sel == "name") return Json(e.name);
  if (sel == "metadata" || sel.starts_with("metadata."))
    return MapSelect(e.metadata, sel, "metadata");
  if (sel == "groups.names") return Json(who.group_names);
  if (sel == "groups.ids") return Json(who.group_ids);
  if (sel.starts_with("aliases.")) {
    std::string_view rest = sel.substr(8);
    const std::size_t dot = rest.find('.');
    if (dot == std::string_view::npos) return Err(InvalidArgument("invalid alias selector"));
    const std::string_view accessor = rest.substr(0, dot);
    for (const auto& a : who.aliases) {
      if (a.mount_accessor == accessor) return AliasValue(rest.substr(dot + 1), a);
    }
    return AliasValue(rest.substr(dot + 1), Alias{});  // defaults, as in Vault
  }
  return Err(InvalidArgument("no value could be found for one of the template directives"));
}

Result<Json> TimeValue(std::string_view sel, std::int64_t now) {
  if (sel == "now") return Json(now);
  if (!sel.starts_with("now.")) return Err(InvalidArgument("invalid time selector"));
  std::string_view rest = sel.substr(4);
  const std::size_t dot = rest.find('.');
  if (dot == std::string_view::npos) return Err(InvalidArgument("missing time operand"));
  const std::string_view op = rest.substr(0, dot);
  auto d = ParseDuration(rest.substr(dot + 1));
  if (!d) return Err(InvalidArgument("invalid duration: " + d.error().message()));
  if (op == "plus") return Json(now + d->count());
  if (op == "minus") return Json(now - d->count());
  return Err(InvalidArgument("invalid time operator \"" + std::string(op) + "\""));
}

// Fills in every {{...}} with its JSON value; the result must then parse as
// a JSON object. `who` empty: the check of a role's template (no groups).
Result<std::string> FillTemplate(std::string_view tpl, const TemplateSubject& who,
                                 std::int64_t now) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = tpl.find("{{", pos);
    const std::string_view literal =
        tpl.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos);
    if (literal.find("}}") != std::string_view::npos) {
      return Err(InvalidArgument("unbalanced templating characters"));
    }
    out += literal;
    if (open == std::string_view::npos) break;
    const std::size_t close = tpl.find("}}", open + 2);
    if (close == std::string_view::npos)
      return Err(InvalidArgument("unbalanced templating characters"));
    const std::string_view inner = tpl.substr(open + 2, close - open - 2);
    if (inner.find("{{") != std::string_view::npos) {
      return Err(InvalidArgument("unbalanced templating characters"));
    }
    const std::string_view param = Trim(inner);
    Result<Json> value =
        Err(InvalidArgument("no value could be found for one of the template directives"));
    if (param.starts_with("identity.entity.")) {
      value = EntityValue(param.substr(16), who);
    } else if (param.starts_with("identity.groups.")) {
      if (who.group_ids.empty()) {
        value = Err(InvalidArgument(
            "string contains groups templates directives but no groups were provided"));
      } else {
        value =
            Err(InvalidArgument("identity.groups templates are not supported in identity tokens; "
                                "use identity.entity.groups.names or .ids"));
      }
    } else if (param.starts_with("time.")) {
      value = TimeValue(param.substr(5), now);
    }
    if (!value) return Err(value.error());
    out += value->dump();
    pos = close + 2;
  }
  return out;
}

std::string Base62ClientId() { return crypto::RandomBase62(26).value_or(""); }

}  // namespace

bool OidcTokens::IsUnauthenticated(std::string_view rel) {
  rel = Unslashed(rel);
  return rel == "oidc/.well-known/openid-configuration" || rel == "oidc/.well-known/keys";
}

std::int64_t OidcTokens::Now() const { return UnixSeconds(clock_.Wall()); }

Result<Response> OidcTokens::Handle(const Request& request, std::string_view rel) {
  rel = rel.substr(5);  // "oidc/"
  const std::string_view trimmed = Unslashed(rel);
  if (trimmed == ".well-known/openid-configuration" || trimmed == ".well-known/keys") {
    if (request.operation != Operation::kRead) {
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    }
    return trimmed == ".well-known/keys" ? PublicKeys() : Discovery();
  }
  if (trimmed == "config") return Config(request);
  if (trimmed == "introspect") return Introspect(request);
  if (trimmed == "key" || rel.starts_with("key/")) {
    return Keys(request, trimmed == "key" ? "" : rel.substr(4));
  }
  if (trimmed == "role" || rel.starts_with("role/")) {
    return Roles(request, trimmed == "role" ? "" : rel.substr(5));
  }
  if (rel.starts_with("token/")) {
    if (request.operation != Operation::kRead) {
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    }
    return Token(request, rel.substr(6));
  }
  return Err(NotFound("unsupported path"));
}

Result<std::string> OidcTokens::ConfiguredIssuer() {
  ASSIGN_OR_RETURN(auto entry, storage_.Get(kConfigKey));
  if (!entry) return std::string();
  const Json j = Json::parse(entry->value, nullptr, false);
  if (!j.is_object()) return Err(Internal("the stored identity token config is corrupt"));
  return j.value("issuer", "");
}

Result<std::string> OidcTokens::Issuer() {
  ASSIGN_OR_RETURN(std::string base, ConfiguredIssuer());
  if (base.empty() && api_addr_) base = api_addr_();
  return std::string(Unslashed(base)) + "/v1/identity/oidc";
}

Result<Response> OidcTokens::Config(const Request& request) {
  if (request.operation == Operation::kRead) {
    ASSIGN_OR_RETURN(std::string issuer, ConfiguredIssuer());
    Response r = DataResponse(Json{{"issuer", issuer}});
    if (issuer.empty() && (!api_addr_ || api_addr_().empty())) {
      r.warnings =
          Json::array({"Both \"issuer\" and Coffer's \"api_addr\" are empty. The issuer "
                       "claim in generated tokens will not be network reachable."});
    }
    return r;
  }
  if (!detail::IsWrite(request.operation))
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  const Json* raw = request.Field("issuer");
  if (raw == nullptr) return logical::NoContent();
  if (!raw->is_string() && !raw->is_null()) return Err(InvalidArgument("issuer must be a string"));
  const std::string issuer = raw->is_string() ? raw->get<std::string>() : "";
  Response r = logical::NoContent();
  if (!issuer.empty()) {
    // A scheme, a host and an optional port: nothing more.
    const std::size_t sep = issuer.find("://");
    const std::string_view scheme = std::string_view(issuer).substr(0, sep);
    const std::string_view host =
        sep == std::string::npos ? "" : std::string_view(issuer).substr(sep + 3);
    const bool valid = sep != std::string::npos && (scheme == "http" || scheme == "https") &&
                       !host.empty() && host.find_first_of("/?#@ ") == std::string_view::npos;
    if (!valid) {
      return Err(InvalidArgument(
          "invalid issuer, which must include only a scheme, host, and optional port (e.g. "
          "https://example.com:8200)"));
    }
    r = DataResponse(Json::object());
    r.warnings = Json::array(
        {"If \"issuer\" is set explicitly, all tokens must be validated against that address, "
         "including those issued by secondary clusters. Setting issuer to \"\" will restore the "
         "default behavior of using the cluster's api_addr as the issuer."});
  }
  TRY(storage_.Put(kConfigKey, Json{{"issuer", issuer}}.dump()));
  return r;
}

Result<Response> OidcTokens::Keys(const Request& request, std::string_view rest) {
  if (rest.empty()) {
    if (!logical::IsListOperation(request.operation)) {
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    }
    ASSIGN_OR_RETURN(auto names, storage_.List(kKeyPrefix));
    return auth::KeysResponse(std::move(names));
  }
  const bool rotate = rest.ends_with("/rotate") || rest.ends_with("/rotate/");
  const std::string name(rotate ? rest.substr(0, rest.rfind("/rotate")) : Unslashed(rest));
  if (!ValidName(name)) return Err(NotFound("unsupported path"));
  std::scoped_lock lock(mu_);
  const std::int64_t now = Now();
  ASSIGN_OR_RETURN(std::optional<StoredKey> found, GetKey(storage_, name));

  if (rotate) {
    if (!detail::IsWrite(request.operation))
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    if (!found) return Err(InvalidArgument("no named key found at \"" + name + "\""));
    ASSIGN_OR_RETURN(auto ttl, SecondsField(request, "verification_ttl"));
    TRY(Rotate(*found, now, ttl.value_or(found->verification_ttl)));
    TRY(PutKey(storage_, name, *found));
    return logical::NoContent();
  }
  if (request.operation == Operation::kRead) {
    if (!found) return logical::NotFoundResponse();
    return DataResponse(Json{{"rotation_period", found->rotation_period},
                             {"verification_ttl", found->verification_ttl},
                             {"algorithm", found->algorithm},
                             {"allowed_client_ids", found->allowed_client_ids}});
  }
  if (request.operation == Operation::kDelete) {
    if (name == kDefaultKey) return Err(InvalidArgument("deletion of key \"default\" not allowed"));
    ASSIGN_OR_RETURN(auto roles, storage_.List(kRolePrefix));
    std::string users;
    for (const auto& role_name : roles) {
      ASSIGN_OR_RETURN(auto role, GetRole(storage_, role_name));
      if (role && role->key == name) users += (users.empty() ? "" : ", ") + role_name;
    }
    if (!users.empty()) {
      return Err(InvalidArgument("unable to delete key \"" + name +
                                 "\" because it is currently referenced by these roles: " + users));
    }
    TRY(storage_.Delete(std::string(kKeyPrefix) + name));
    return logical::NoContent();
  }
  if (!detail::IsWrite(request.operation))
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));

  StoredKey k = found ? std::move(*found) : StoredKey{};
  const std::string previous_alg = found ? k.algorithm : "";
  ASSIGN_OR_RETURN(auto rotation, SecondsField(request, "rotation_period"));
  ASSIGN_OR_RETURN(auto verification, SecondsField(request, "verification_ttl"));
  ASSIGN_OR_RETURN(auto clients, ListField(request, "allowed_client_ids"));
  if (rotation) k.rotation_period = *rotation;
  if (verification) k.verification_ttl = *verification;
  if (clients) k.allowed_client_ids = std::move(*clients);
  if (const Json* alg = request.Field("algorithm"); alg != nullptr && alg->is_string()) {
    k.algorithm = alg->get<std::string>();
  }
  if (k.rotation_period < 60)
    return Err(InvalidArgument("rotation_period must be at least one minute"));
  if (k.verification_ttl > 10 * k.rotation_period) {
    return Err(InvalidArgument("verification_ttl cannot be longer than 10x rotation_period"));
  }
  if (found) {
    ASSIGN_OR_RETURN(auto roles, storage_.List(kRolePrefix));
    for (const auto& role_name : roles) {
      ASSIGN_OR_RETURN(auto role, GetRole(storage_, role_name));
      if (role && role->key == name && role->ttl > k.verification_ttl) {
        return Err(InvalidArgument(
            "unable to update key \"" + name +
            "\" because it is currently referenced by one or more roles with a token ttl greater "
            "than " +
            std::to_string(k.verification_ttl) + " seconds"));
      }
    }
  }
  if (!oidc::IsSupportedAlgorithm(k.algorithm)) {
    return Err(InvalidArgument("unknown signing algorithm \"" + k.algorithm + "\""));
  }
  if (k.next_rotation == 0 || now + k.rotation_period < k.next_rotation) {
    k.next_rotation = now + k.rotation_period;
  }
  if (k.algorithm != previous_alg) {
    // New key pairs of the new algorithm; the old ones stay published for
    // the verification TTL, for the tokens they signed.
    ExpirePublished(k, k.signing.kid, now + k.verification_ttl);
    ExpirePublished(k, k.next.kid, now + k.verification_ttl);
    ASSIGN_OR_RETURN(k.signing, NewPublished(k));
    ASSIGN_OR_RETURN(k.next, NewPublished(k));
  }
  DropExpired(k, now);
  TRY(PutKey(storage_, name, k));
  return logical::NoContent();
}

Result<Response> OidcTokens::Roles(const Request& request, std::string_view rest) {
  if (rest.empty()) {
    if (!logical::IsListOperation(request.operation)) {
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    }
    ASSIGN_OR_RETURN(auto names, storage_.List(kRolePrefix));
    return auth::KeysResponse(std::move(names));
  }
  const std::string name(Unslashed(rest));
  if (!ValidName(name)) return Err(NotFound("unsupported path"));
  std::scoped_lock lock(mu_);
  ASSIGN_OR_RETURN(std::optional<StoredRole> found, GetRole(storage_, name));
  if (request.operation == Operation::kRead) {
    if (!found) return logical::NotFoundResponse();
    return DataResponse(RoleJson(*found));
  }
  if (request.operation == Operation::kDelete) {
    TRY(storage_.Delete(std::string(kRolePrefix) + name));
    return logical::NoContent();
  }
  if (!detail::IsWrite(request.operation))
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));

  StoredRole r = found ? std::move(*found) : StoredRole{};
  if (const Json* key = request.Field("key"); key != nullptr && key->is_string()) {
    r.key = key->get<std::string>();
  }
  if (r.key.empty()) return Err(InvalidArgument("the key parameter is required"));
  if (const Json* t = request.Field("template"); t != nullptr && t->is_string()) {
    r.templ = t->get<std::string>();
    // A template may come base64-encoded, as in Vault.
    if (auto decoded = Base64Decode(r.templ); decoded && !r.templ.empty()) {
      r.templ = std::string(decoded->view());
    }
  }
  if (!r.templ.empty()) {
    auto filled = FillTemplate(r.templ, TemplateSubject{}, Now());
    if (!filled) return Err(InvalidArgument("error parsing template: " + filled.error().message()));
    Json parsed = Json::parse(*filled, nullptr, false);
    if (!parsed.is_object()) {
      return Err(InvalidArgument("error parsing template JSON: the template is not a JSON object"));
    }
    for (const auto& [claim, value] : parsed.items()) {
      if (IsReserved(claim)) {
        return Err(InvalidArgument("top level key \"" + claim +
                                   "\" not allowed. Restricted keys: " + ReservedList()));
      }
    }
  }
  ASSIGN_OR_RETURN(auto ttl, SecondsField(request, "ttl"));
  if (ttl) r.ttl = *ttl;
  ASSIGN_OR_RETURN(std::optional<StoredKey> key, GetKey(storage_, r.key));
  if (!key && r.key == kDefaultKey) {
    // Vault's default key, made the first time a role names it: RS256, and
    // every role may use it.
    StoredKey k;
    k.allowed_client_ids = {"*"};
    k.next_rotation = Now() + k.rotation_period;
    ASSIGN_OR_RETURN(k.signing, NewPublished(k));
    ASSIGN_OR_RETURN(k.next, NewPublished(k));
    TRY(PutKey(storage_, kDefaultKey, k));
    key = std::move(k);
  }
  if (!key) return Err(InvalidArgument("cannot find key \"" + r.key + "\""));
  if (r.ttl > key->verification_ttl) {
    return Err(InvalidArgument(
        "a role's token ttl cannot be longer than the verification_ttl of the key it references"));
  }
  if (const Json* id = request.Field("client_id");
      id != nullptr && id->is_string() && !id->get_ref<const std::string&>().empty()) {
    r.client_id = id->get<std::string>();
  }
  if (r.client_id.empty()) {
    r.client_id = Base62ClientId();
    if (r.client_id.empty()) return Err(Internal("could not draw a client ID"));
  }
  TRY(storage_.Put(std::string(kRolePrefix) + name, RoleJson(r).dump()));
  return logical::NoContent();
}

Result<Response> OidcTokens::Token(const Request& request, std::string_view rest) {
  const std::string name(Unslashed(rest));
  ASSIGN_OR_RETURN(std::optional<StoredRole> role, GetRole(storage_, name));
  if (!role) return Err(InvalidArgument("role \"" + name + "\" not found"));
  std::optional<StoredKey> key;
  {
    std::scoped_lock lock(mu_);
    ASSIGN_OR_RETURN(key, CurrentKeyLocked(storage_, role->key, Now()));
  }
  if (!key) return Err(InvalidArgument("key \"" + role->key + "\" not found"));
  const auto& allowed = key->allowed_client_ids;
  if (std::find(allowed.begin(), allowed.end(), "*") == allowed.end() &&
      std::find(allowed.begin(), allowed.end(), role->client_id) == allowed.end()) {
    return Err(InvalidArgument("the key \"" + role->key +
                               "\" does not list the client ID of the role \"" + name +
                               "\" as an allowed client ID"));
  }
  const std::string entity_id = request.auth ? request.auth->entity_id : "";
  if (entity_id.empty())
    return Err(InvalidArgument("no entity associated with the request's token"));
  std::optional<Entity> entity = store_.EntityById(store_.CurrentEntityId(entity_id));
  if (!entity) return Err(Internal("error loading entity ID \"" + entity_id + "\""));

  Response r = DataResponse(Json::object());
  std::int64_t expiry = role->ttl;
  if (expiry > key->verification_ttl) {
    expiry = key->verification_ttl;
    r.warnings =
        Json::array({"a role's token ttl cannot be longer than the verification_ttl of "
                     "the key it references, setting token ttl to " +
                     std::to_string(expiry)});
  }
  const std::int64_t now = Now();
  ASSIGN_OR_RETURN(std::string issuer, Issuer());
  Json claims{{"iss", issuer},          {"namespace", "root"}, {"sub", entity->id},
              {"aud", role->client_id}, {"exp", now + expiry}, {"iat", now}};
  if (!role->templ.empty()) {
    TemplateSubject who;
    who.entity = &*entity;
    who.aliases = store_.AliasesOf(entity->id);
    for (const auto& id : store_.AllGroupIds(entity->id)) {
      if (auto g = store_.GroupById(id)) {
        who.group_ids.push_back(g->id);
        who.group_names.push_back(g->name);
      }
    }
    // As in Vault, a template that fails for this entity leaves its claims
    // out; the token keeps the standard ones.
    auto filled = FillTemplate(role->templ, who, now);
    Json extra = filled ? Json::parse(*filled, nullptr, false) : Json();
    if (extra.is_object()) {
      for (auto& [claim, value] : extra.items()) {
        if (!IsReserved(claim)) claims[claim] = value;
      }
    } else {
      Log(LogModule::kIdentity)
          .warn("the claims template of identity token role {} failed for entity {}: {}", name,
                entity->id, filled ? std::string("not a JSON object") : filled.error().message());
    }
  }
  ASSIGN_OR_RETURN(std::string token, oidc::SignJws(key->signing, key->algorithm, claims.dump()));
  r.data = Json{{"token", std::move(token)}, {"client_id", role->client_id}, {"ttl", role->ttl}};
  return r;
}

Result<Json> OidcTokens::PublicKeySet() {
  std::scoped_lock lock(mu_);
  const std::int64_t now = Now();
  Json keys = Json::array();
  ASSIGN_OR_RETURN(auto names, storage_.List(kKeyPrefix));
  for (const auto& name : names) {
    ASSIGN_OR_RETURN(auto k, CurrentKeyLocked(storage_, name, now));
    if (!k) continue;
    for (const auto& p : k->ring) {
      if (p.expire_at == 0 || p.expire_at > now) keys.push_back(p.jwk);
    }
  }
  return Json{{"keys", std::move(keys)}};
}

Result<Response> OidcTokens::PublicKeys() {
  ASSIGN_OR_RETURN(Json set, PublicKeySet());
  Response r;
  r.raw = std::move(set);
  return r;
}

Result<Response> OidcTokens::Discovery() {
  ASSIGN_OR_RETURN(std::string issuer, Issuer());
  Response r;
  r.raw = Json{{"issuer", issuer},
               {"jwks_uri", issuer + "/.well-known/keys"},
               {"response_types_supported", Json::array({"id_token"})},
               {"subject_types_supported", Json::array({"public"})},
               {"id_token_signing_alg_values_supported", oidc::SupportedAlgorithms()}};
  return r;
}

Result<Response> OidcTokens::Introspect(const Request& request) {
  if (!detail::IsWrite(request.operation))
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  auto answer = [](std::string error) {
    Response r;
    r.raw = error.empty() ? Json{{"active", true}} : Json{{"active", false}, {"error", error}};
    return r;
  };
  const std::string token = detail::Str(request, "token");
  const std::string client_id = detail::Str(request, "client_id");
  auto jwt = auth::jwt::ParseJwt(token);
  if (!jwt) return answer("error parsing token: " + jwt.error().message());
  ASSIGN_OR_RETURN(Json set, PublicKeySet());
  auto keys = auth::jwt::ParseJwks(set.dump());
  if (!keys || !auth::jwt::VerifyWithKeySet(*jwt, *keys).ok()) {
    return answer("unable to validate the token signature");
  }
  const Json& c = jwt->claims;
  ASSIGN_OR_RETURN(std::string issuer, Issuer());
  // go-jose's checks, with its leeway of a minute.
  constexpr std::int64_t kLeeway = 60;
  const std::int64_t now = Now();
  if (c.value("iss", "") != issuer)
    return answer("error validating claims: validation failed, invalid issuer claim (iss)");
  if (!client_id.empty()) {
    const Json aud = c.value("aud", Json());
    const bool listed = aud.is_string() ? aud == client_id
                                        : aud.is_array() && std::find(aud.begin(), aud.end(),
                                                                      Json(client_id)) != aud.end();
    if (!listed)
      return answer("error validating claims: validation failed, invalid audience claim (aud)");
  }
  if (c.contains("exp") && c["exp"].is_number() && now > c["exp"].get<std::int64_t>() + kLeeway) {
    return answer("error validating claims: validation failed, token is expired (exp)");
  }
  // nbf and iat as go-jose reads them: a number, not in the future. A
  // role's template may set nbf (it is not reserved), from entity metadata
  // too, which is text: such a token is not active.
  for (const char* name : {"nbf", "iat"}) {
    auto it = c.find(name);
    if (it == c.end()) continue;
    if (!it->is_number() || !std::isfinite(it->get<double>())) {
      return answer(std::string("error validating claims: ") + name + " is not a NumericDate");
    }
    if (static_cast<double>(now + kLeeway) < it->get<double>()) {
      return answer(std::string("error validating claims: validation failed, ") +
                    (name == std::string_view("nbf") ? "token not valid yet (nbf)"
                                                     : "token issued in the future (iat)"));
    }
  }
  std::optional<Entity> entity = store_.EntityById(c.value("sub", ""));
  if (!entity) return answer("entity was not found");
  if (entity->disabled) return answer("entity is disabled");
  return answer("");
}

}  // namespace coffer::identity
