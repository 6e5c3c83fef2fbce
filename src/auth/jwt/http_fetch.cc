#include "auth/jwt/http_fetch.h"

#include "common/url.h"
#include "net/http_exchange.h"

namespace coffer::auth::jwt {

Result<std::string> HttpGet(const std::string& url, const std::string& ca_pem,
                            std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(net::HttpResponse res,
                   net::Exchange({.method = "GET",
                                  .url = url,
                                  .headers = {{"Accept", "application/json"}},
                                  .ca_pem = ca_pem,
                                  .user_agent = "coffer-jwt-auth",
                                  .timeout = timeout,
                                  .max_body = 1 << 20}));
  if (res.status != 200) {
    ASSIGN_OR_RETURN(HttpUrl u, ParseHttpUrl(url));
    return Err(Unavailable("GET " + u.host + u.target + " answered " + std::to_string(res.status)));
  }
  return std::move(res.body);
}

}  // namespace coffer::auth::jwt
