#include "expiration/lease.h"

namespace coffer::expiration {

using Json = nlohmann::json;

Json LeaseToJson(const Lease& l) {
  return Json{{"id", l.id},
              {"path", l.path},
              {"token_hmac", l.token_hmac},
              {"issue_time", l.issue_time},
              {"expire_time", l.expire_time},
              {"last_renewal", l.last_renewal},
              {"renewable", l.renewable},
              {"ttl", l.ttl},
              {"max_ttl", l.max_ttl},
              {"internal", l.internal},
              {"kind", l.kind == Lease::Kind::kToken ? "token" : "secret"}};
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
