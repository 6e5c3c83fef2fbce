#pragma once
// ApiClient: Vault-API semantics on top of HttpClient. Sends JSON, decodes
// JSON answers, and turns a non-2xx answer into an error whose message is
// the text Vault's CLI prints:
//
//   Error making API request.
//
//   URL: PUT http://127.0.0.1:8200/v1/sys/init
//   Code: 400. Errors:
//
//   * Vault is already initialized
//
// Error codes: transport errors from HttpClient (kUnavailable, ...); for
// HTTP errors the code follows the status (400 kInvalidArgument, 403
// kPermissionDenied, 404 kNotFound, 503 kUnavailable, others kInternal);
// an undecodable 2xx body is kInternal. Not thread-safe.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cli/http_client.h"
#include "common/status.h"

namespace coffer::cli {

// Keys keep the server's order, so -format=json prints what the server sent.
using Json = nlohmann::ordered_json;

struct ApiResponse {
  int status = 0;
  Json body;  // null when the body was empty
};

class ApiClient {
 public:
  explicit ApiClient(std::unique_ptr<HttpClient> http);

  // Sends the request; `body` is raw JSON text (empty: none). Returns the
  // decoded body of a 2xx answer (null when empty).
  Result<Json> Request(std::string_view method, std::string_view path, std::string_view body = {});

  // Like Request but hands back non-2xx answers too, for callers that treat
  // some statuses (404 on a read, 503 when sealed) as data.
  Result<ApiResponse> Send(std::string_view method, std::string_view path,
                           std::string_view body = {});

  const std::string& address() const { return http_->address(); }
  // The transport, for what is not a JSON request (event streams).
  HttpClient& http() { return *http_; }

  // See HttpClient::SetToken / SetHeader.
  void SetToken(SecretBytes token) { http_->SetToken(std::move(token)); }
  void SetHeader(const std::string& name, std::string value) {
    http_->SetHeader(name, std::move(value));
  }

 private:
  std::unique_ptr<HttpClient> http_;
};

// While alive, the client's requests are sent even under -output-policy: for
// the lookups a command makes before its own request (the KV mount's
// version, kv patch's read), which Vault's CLI does not turn into policy
// either. Nests.
class UncapturedScope {
 public:
  explicit UncapturedScope(ApiClient& client) : capture_(client.http().capture()) {
    if (capture_ != nullptr) ++capture_->paused;
  }
  ~UncapturedScope() {
    if (capture_ != nullptr) --capture_->paused;
  }
  UncapturedScope(const UncapturedScope&) = delete;
  UncapturedScope& operator=(const UncapturedScope&) = delete;

 private:
  RequestCapture* capture_;
};

// The "Error making API request..." text for a non-2xx answer. Exposed for tests.
std::string FormatApiError(std::string_view method, std::string_view url, int status,
                           const Json& body);

}  // namespace coffer::cli
