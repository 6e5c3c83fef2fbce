#include "expiration/lease.h"

#include "common/encoding.h"

namespace coffer::expiration {

using Json = nlohmann::json;

std::string EncodeLease(const Lease& l) {
  std::string out;
  out.reserve(384);
  JsonObjectWriter w(out);
  w.Int("expire_time", l.expire_time);
  w.String("id", l.id);
  if (l.internal.is_object() && l.internal.empty()) {
    w.Raw("internal", "{}");
  } else {
    w.Raw("internal", l.internal.dump());
  }
  w.Int("issue_time", l.issue_time);
  w.String("kind", l.kind == Lease::Kind::kToken ? "token" : "secret");
  w.Int("last_renewal", l.last_renewal);
  w.Int("max_ttl", l.max_ttl);
  w.String("path", l.path);
  w.Bool("renewable", l.renewable);
  w.String("token_hmac", l.token_hmac);
  w.Int("ttl", l.ttl);
  w.Close();
  return out;
}

Result<Lease> LeaseFromJson(std::string_view text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Err(Internal("corrupt lease record"));
  try {
    Lease l;
    l.id = j.at("id").get<std::string>();
    l.path = j.value("path", "");
    l.token_hmac = j.value("token_hmac", "");
    l.issue_time = j.value("issue_time", std::int64_t{0});
    l.expire_time = j.value("expire_time", std::int64_t{0});
    l.last_renewal = j.value("last_renewal", std::int64_t{0});
    l.renewable = j.value("renewable", false);
    l.ttl = j.value("ttl", std::int64_t{0});
    l.max_ttl = j.value("max_ttl", std::int64_t{0});
    l.internal = j.value("internal", Json::object());
    l.kind = j.value("kind", "secret") == "token" ? Lease::Kind::kToken : Lease::Kind::kSecret;
    return l;
  } catch (const Json::exception&) {
    return Err(Internal("corrupt lease record"));
  }
}

}  // namespace coffer::expiration
