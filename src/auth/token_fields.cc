#include "auth/token_fields.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "auth/util.h"
#include "token/token_params.h"

namespace coffer::auth {
namespace {

using logical::Json;
namespace params = token::params;

// Parses "a.b.c.d[/n]" or an IPv6 "x::y[/n]" into 16 bytes (IPv4 mapped)
// and a prefix length over those 16 bytes.
bool ParseBlock(std::string_view text, std::array<unsigned char, 16>& addr, int& prefix) {
  std::string s(text);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
  std::string host = s;
  int bits = -1;
  if (auto slash = s.find('/'); slash != std::string::npos) {
    host = s.substr(0, slash);
    std::string n = s.substr(slash + 1);
    if (n.empty() || n.size() > 3 ||
        !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    bits = std::stoi(n);
  }
  addr.fill(0);
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    if (bits > 32) return false;
    addr[10] = 0xff;
    addr[11] = 0xff;
    std::memcpy(addr.data() + 12, &v4, 4);
    prefix = 96 + (bits < 0 ? 32 : bits);
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (bits > 128) return false;
    std::memcpy(addr.data(), &v6, 16);
    prefix = bits < 0 ? 128 : bits;
    return true;
  }
  return false;
}

bool InBlock(const std::array<unsigned char, 16>& a, const std::array<unsigned char, 16>& net,
             int prefix) {
  for (int i = 0; i < 16 && prefix > 0; ++i, prefix -= 8) {
    unsigned mask = prefix >= 8 ? 0xffu : (0xffu << (8 - prefix)) & 0xffu;
    if ((a[static_cast<std::size_t>(i)] & mask) != (net[static_cast<std::size_t>(i)] & mask)) {
      return false;
    }
  }
  return true;
}

Json StringList(const std::vector<std::string>& v) {
  Json out = Json::array();
  for (const auto& s : v) out.push_back(s);
  return out;
}

}  // namespace

std::string Canonical(std::string_view name) {
  while (!name.empty() && std::isspace(static_cast<unsigned char>(name.front()))) {
    name.remove_prefix(1);
  }
  while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) {
    name.remove_suffix(1);
  }
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool AddressAllowed(std::string_view remote, const std::vector<std::string>& cidrs) {
  if (cidrs.empty()) return true;
  std::array<unsigned char, 16> addr{};
  int bits = 0;
  if (!ParseBlock(remote, addr, bits) || bits != 128) return false;
  for (const auto& c : cidrs) {
    std::array<unsigned char, 16> net{};
    int prefix = 0;
    if (ParseBlock(c, net, prefix) && InBlock(addr, net, prefix)) return true;
  }
  return false;
}

Status ValidateCidrs(const std::vector<std::string>& cidrs) {
  for (const auto& c : cidrs) {
    std::array<unsigned char, 16> net{};
    int prefix = 0;
    if (!ParseBlock(c, net, prefix)) return InvalidArgument("invalid CIDR block: " + c);
  }
  return Status::Ok();
}

bool CidrsWithin(const std::vector<std::string>& inner, const std::vector<std::string>& outer) {
  if (outer.empty()) return true;
  for (const auto& in : inner) {
    std::array<unsigned char, 16> net{};
    int prefix = 0;
    if (!ParseBlock(in, net, prefix)) return false;
    bool inside = false;
    for (const auto& out : outer) {
      std::array<unsigned char, 16> onet{};
      int oprefix = 0;
      if (ParseBlock(out, onet, oprefix) && prefix >= oprefix && InBlock(net, onet, oprefix)) {
        inside = true;
        break;
      }
    }
    if (!inside) return false;
  }
  return true;
}

Status TokenFields::Update(const logical::Request& request) {
  ASSIGN_OR_RETURN(auto pol, params::List(request, "token_policies"));
  if (!pol) {
    ASSIGN_OR_RETURN(pol, params::List(request, "policies"));
  }
  if (pol) policies = *pol;
  ASSIGN_OR_RETURN(auto t, params::Duration(request, "token_ttl"));
  if (t) ttl = t->count();
  ASSIGN_OR_RETURN(auto mt, params::Duration(request, "token_max_ttl"));
  if (mt) max_ttl = mt->count();
  ASSIGN_OR_RETURN(auto emt, params::Duration(request, "token_explicit_max_ttl"));
  if (emt) explicit_max_ttl = emt->count();
  ASSIGN_OR_RETURN(auto per, params::Duration(request, "token_period"));
  if (!per) {
    ASSIGN_OR_RETURN(per, params::Duration(request, "period"));
  }
  if (per) period = per->count();
  ASSIGN_OR_RETURN(auto uses, params::Int(request, "token_num_uses"));
  if (uses) {
    if (*uses < 0) return InvalidArgument("token_num_uses cannot be negative");
    num_uses = *uses;
  }
  ASSIGN_OR_RETURN(auto ndp, params::Bool(request, "token_no_default_policy"));
  if (ndp) no_default_policy = *ndp;
  ASSIGN_OR_RETURN(auto cidrs, params::List(request, "token_bound_cidrs"));
  if (cidrs) {
    TRY(ValidateCidrs(*cidrs));
    bound_cidrs = *cidrs;
  }
  ASSIGN_OR_RETURN(auto type, params::String(request, "token_type"));
  if (type) {
    if (*type != "service" && *type != "batch" && *type != "default" &&
        *type != "default-service" && *type != "default-batch" && !type->empty()) {
      return InvalidArgument("invalid 'token_type' value \"" + *type + "\"");
    }
    token_type = type->empty() ? "default" : *type;
  }
  // Vault's tokenutil rules: a batch token has neither a period nor a use
  // count (the mount may still turn a "default" role into batch at login,
  // where the period/num_uses then refuse the login).
  if (token_type == "batch" || token_type == "default-batch") {
    if (period > 0) {
      return InvalidArgument(
          "'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic "
          "tokens");
    }
    if (num_uses > 0) {
      return InvalidArgument(
          "'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens with "
          "limited use count");
    }
  }
  if (max_ttl > 0 && ttl > max_ttl) {
    return InvalidArgument("\"token_ttl\" value must be less than \"token_max_ttl\" value");
  }
  return Status::Ok();
}

void TokenFields::AddTo(Json& out) const {
  out["token_policies"] = StringList(policies);
  out["policies"] = StringList(policies);
  out["token_ttl"] = ttl;
  out["token_max_ttl"] = max_ttl;
  out["token_explicit_max_ttl"] = explicit_max_ttl;
  out["token_period"] = period;
  out["period"] = period;
  out["token_num_uses"] = num_uses;
  out["token_no_default_policy"] = no_default_policy;
  out["token_bound_cidrs"] = StringList(bound_cidrs);
  out["token_type"] = token_type;
}

Json TokenFields::ToStored() const {
  Json j = Json::object();
  AddTo(j);
  j.erase("policies");
  j.erase("period");
  return j;
}

TokenFields TokenFields::FromStored(const Json& j) {
  TokenFields f;
  if (!j.is_object()) return f;
  f.policies = j.value("token_policies", std::vector<std::string>{});
  f.ttl = j.value("token_ttl", std::int64_t{0});
  f.max_ttl = j.value("token_max_ttl", std::int64_t{0});
  f.explicit_max_ttl = j.value("token_explicit_max_ttl", std::int64_t{0});
  f.period = j.value("token_period", std::int64_t{0});
  f.num_uses = j.value("token_num_uses", std::int64_t{0});
  f.no_default_policy = j.value("token_no_default_policy", false);
  f.bound_cidrs = j.value("token_bound_cidrs", std::vector<std::string>{});
  f.token_type = j.value("token_type", std::string("default"));
  return f;
}

logical::LoginResult TokenFields::ToLogin() const {
  logical::LoginResult r;
  r.policies = policies;
  r.ttl = ttl;
  r.max_ttl = max_ttl;
  r.explicit_max_ttl = explicit_max_ttl;
  r.period = period;
  r.num_uses = num_uses;
  r.no_default_policy = no_default_policy;
  r.bound_cidrs = bound_cidrs;
  r.token_type = token_type;  // resolved against the mount's token_type at login
  return r;
}

Result<EntryUpdate> BeginEntryUpdate(storage::Backend& storage, const std::string& key,
                                     std::string_view what, const logical::Request& request) {
  EntryUpdate u;
  u.stored = logical::Json::object();
  ASSIGN_OR_RETURN(auto entry, storage.Get(key));
  if (entry) {
    ASSIGN_OR_RETURN(u.stored, ParseStored(entry->value, what));
  }
  u.fields = TokenFields::FromStored(u.stored);
  TRY(u.fields.Update(request));
  return u;
}

}  // namespace coffer::auth
