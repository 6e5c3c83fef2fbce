#pragma once
// Turns what the connection read off the wire into a logical::Request:
// canonical path, operation, query, token, body JSON (with a depth limit).
// No Beast types here, so it is unit-testable without sockets. Thread-safe.

#include <cstddef>
#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_numbers.h"
#include "common/status.h"
#include "logical/request.h"

namespace coffer::http {

// The parts of an HTTP request the API cares about, already framed.
struct WireRequest {
  std::string_view method;         // as sent, e.g. "GET", "LIST"
  std::string_view target;         // request-target, e.g. "/v1/secret/x?list=true"
  std::string_view vault_token;    // X-Vault-Token
  std::string_view authorization;  // Authorization
  std::string_view wrap_ttl;       // X-Vault-Wrap-TTL
  // X-Vault-MFA: each of the header's fields, one per line (a client sends
  // one field per method, as Vault's Go client does).
  std::string mfa;
  std::string_view vault_namespace;  // X-Vault-Namespace
  std::string_view content_type;     // Content-Type
  std::string_view accept;           // Accept (read only for sys/metrics)
  std::string_view body;
  std::string remote_address;
  bool tls = false;
  std::shared_ptr<const std::vector<std::string>> peer_certificates;  // DER, leaf first
  std::vector<logical::AuditedHeader> audited_headers;                // see Handler::AuditedHeaders
};

// Builds the logical request, or the response to send instead (404 for
// non-API paths, 400 for bad paths/queries/JSON, 405 for unknown methods,
// 415 for a PATCH that is not application/merge-patch+json). For
// sys/metrics without a `format` query parameter, an Accept header asking
// for Prometheus text sets format=prometheus (Vault's FormatFromRequest).
std::expected<logical::Request, logical::Response> BuildRequest(const WireRequest& wire,
                                                                const JsonParseLimits& json_limits);

// The operation an HTTP method asks for: GET is a read, a list with
// ?list=true or a scan with ?scan=true; SCAN is a scan, and so is a list
// with ?recursive=true; POST and PUT are updates. nullopt for a method the
// API does not take. (BuildRequest refuses ?list=true&scan=true first.)
std::optional<logical::Operation> OperationOf(std::string_view method,
                                              const std::map<std::string, std::string>& query);

// Parses a JSON request body. An empty (or all-whitespace) body is {}. The
// bounds (nesting depth, string length, entries, elements, values in all)
// are counted while parsing, before the tree is built, so a hostile
// "[[[[..." cannot exhaust the stack nor "[[],[],...]" the memory. Errors: kInvalidArgument
// "failed to parse JSON input: ..." (also for a top level that is not an
// object). When the body holds a number a double would change and
// `as_written` is given, *as_written gets the body with such numbers kept
// as written (common/json_numbers.h; Request::data_as_written).
Result<logical::Json> ParseJsonBody(std::string_view body, const JsonParseLimits& json_limits,
                                    std::shared_ptr<const logical::Json>* as_written = nullptr);

// A random (version 4) UUID from OpenSSL's RAND_bytes.
std::string NewRequestId();

// Vault's parseutil.ParseBool: 1 t T TRUE true True (and the false forms).
bool ParseBoolFlag(std::string_view v);

}  // namespace coffer::http
