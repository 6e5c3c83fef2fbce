#pragma once
// The loopback listener of `coffer login -method=oidc`: the identity
// provider sends the browser back to http://<callbackhost>:<port>/oidc/callback
// with the login's state and code (a query, or a form post); this waits for
// that one request and answers the browser a page once the login is done.
//
// Plain POSIX sockets: one connection at a time, requests read to 64 KiB,
// other paths (a browser's favicon) answered 404, callbacks of another
// login refused. The code is wiped when the
// callback goes. Not thread-safe; one login uses one listener.

#include <chrono>
#include <string>

#include "common/status.h"

namespace coffer::cli {

struct OidcCallbackRequest {
  bool post = false;
  std::string state;
  std::string code;
  std::string id_token;
  std::string error;  // the provider's error code, when it sent one
  OidcCallbackRequest() = default;
  OidcCallbackRequest(OidcCallbackRequest&&) = default;
  OidcCallbackRequest& operator=(OidcCallbackRequest&&) = default;
  ~OidcCallbackRequest();
};

class OidcCallbackListener {
 public:
  OidcCallbackListener() = default;
  OidcCallbackListener(const OidcCallbackListener&) = delete;
  OidcCallbackListener& operator=(const OidcCallbackListener&) = delete;
  ~OidcCallbackListener();

  // Listens on `address` ("localhost", "127.0.0.1", ...) and `port` (0: any
  // free port). kUnavailable when the address cannot be bound.
  Status Listen(const std::string& address, int port);
  int port() const { return port_; }

  // The callback request, waited for until `deadline`; kUnavailable when
  // none came. With `expected_state`, a callback carrying another state is
  // answered 400 and the wait goes on (login CSRF: a page that sends the
  // browser to this port with its own login's code). The browser's
  // connection stays open for Answer().
  Result<OidcCallbackRequest> Wait(std::chrono::steady_clock::time_point deadline,
                                   const std::string& expected_state = "");
  // Answers the browser with a small HTML page (success or failure) and
  // closes its connection.
  void Answer(bool ok, const std::string& detail);

 private:
  int listen_fd_ = -1;
  int client_fd_ = -1;
  int port_ = 0;
};

// Opens `url` in the desktop's browser (xdg-open), without waiting for it;
// its output goes to /dev/null. A failure is silent: the URL is printed too.
void OpenBrowser(const std::string& url);

}  // namespace coffer::cli
