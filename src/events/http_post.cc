#include "events/http_post.h"

#include "common/url.h"
#include "crypto/hmac.h"
#include "net/http_exchange.h"

namespace coffer::events {

Status ValidateWebhookUrl(const std::string& url) {
  ASSIGN_OR_RETURN(HttpUrl u, ParseHttpUrl(url));
  (void)u;
  return Status::Ok();
}

Result<std::string> SignatureHeader(std::string_view secret, std::string_view body) {
  ASSIGN_OR_RETURN(std::string mac, crypto::HmacSha256(secret, body));
  return "sha256=" + crypto::ToHex(mac);
}

Result<int> HttpPost(const std::string& url, const std::string& body,
                     const std::map<std::string, std::string>& headers,
                     std::chrono::milliseconds timeout) {
  std::map<std::string, std::string> all = {{"Content-Type", "application/json"}};
  for (const auto& [k, v] : headers) all[k] = v;
  auto res = net::Exchange({.method = "POST",
                            .url = url,
                            .headers = std::move(all),
                            .body = body,
                            .user_agent = "coffer-webhook",
                            .timeout = timeout,
                            .max_body = 64 * 1024});
  if (!res) return Err(Status(res.error().code(), "webhook: " + res.error().message()));
  return res->status;
}

}  // namespace coffer::events
