#include "http/request_builder.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>

#include "common/duration.h"
#include "common/encoding.h"
#include "common/json_numbers.h"
#include "common/log.h"
#include "common/text.h"
#include "http/path.h"
#include "metrics/exposition.h"

namespace coffer::http {
namespace {

using logical::Json;
using logical::Operation;

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The media type without parameters ("application/json; charset=utf-8").
std::string_view MediaType(std::string_view content_type) {
  return Trim(content_type.substr(0, content_type.find(';')));
}

// Whether a POST or PUT body is a form rather than JSON, as Vault decides
// (isForm): its media type is application/x-www-form-urlencoded and it does
// not start with '{' or '[' after whitespace. Vault never required a JSON
// Content-Type, and curl's -d sends the form type with JSON bodies too.
bool IsFormBody(std::string_view content_type, std::string_view body) {
  if (!IEquals(MediaType(content_type), "application/x-www-form-urlencoded")) return false;
  const std::size_t first = body.find_first_not_of(" \t\r\n");
  return first == std::string_view::npos || (body[first] != '{' && body[first] != '[');
}

Result<Json> ParseFormAsData(std::string_view body) {
  auto pairs = ParseFormBody(body);
  if (!pairs) return Err(InvalidArgument("error parsing form data: " + pairs.error().message()));
  Json data = Json::object();
  for (auto& [key, value] : *pairs) data[key] = std::move(value);
  return data;
}

}  // namespace

bool ParseBoolFlag(std::string_view v) { return ParseGoBool(v).value_or(false); }

Result<Json> ParseJsonBody(std::string_view body, const JsonParseLimits& json_limits,
                           std::shared_ptr<const Json>* as_written) {
  if (std::all_of(body.begin(), body.end(),
                  [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; })) {
    return Json::object();
  }
  // The bounds are checked as the text is read, before what it describes
  // is built.
  JsonParseLimits limits = json_limits;
  limits.max_depth = std::min<std::size_t>(limits.max_depth, 1 << 20);
  limits.keep_number_text = false;
  ASSIGN_OR_RETURN(JsonNumbersParse parsed, ParseJsonNumbers(body, limits));
  // `null` is no data, as in Vault: its Go client sends it for a nil map
  // (Logical().Unwrap(""), Auth().Token().Create(nil)).
  if (parsed.value.is_null()) return Json::object();
  if (!parsed.value.is_object()) {
    return Err(InvalidArgument("failed to parse JSON input: top level must be an object"));
  }
  // A number a double would change (common/json_numbers.h): the body is
  // read once more, keeping such numbers as written, for the engines that
  // store what the client sent. Rare: clients print doubles that round-trip.
  if (parsed.inexact_numbers && as_written != nullptr) {
    limits.keep_number_text = true;
    ASSIGN_OR_RETURN(JsonNumbersParse exact, ParseJsonNumbers(body, limits));
    *as_written = std::make_shared<const Json>(std::move(exact.value));
  }
  return std::move(parsed.value);
}

std::string NewRequestId() {
  // Random bytes are drawn 512 at a time per thread: one RAND_bytes call
  // (its DRBG locking) per 32 requests instead of per request (~5% of a KV
  // read). A request id is not a secret; it only has to be unique.
  thread_local unsigned char pool[512];
  thread_local std::size_t used = sizeof(pool);
  if (used + 16 > sizeof(pool)) {
    if (RAND_bytes(pool, sizeof(pool)) != 1) {
      // RAND_bytes fails only when the DRBG cannot be seeded; a duplicate id
      // would confuse audit logs, so say so.
      Log(LogModule::kHttp).error("RAND_bytes failed for a request id");
    }
    used = 0;
  }
  unsigned char b[16];
  std::memcpy(b, pool + used, sizeof(b));
  used += sizeof(b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0F]);
  }
  return out;
}

namespace {

// Whether the query sets `name` to a true value.
bool QueryFlag(const std::map<std::string, std::string>& query, const char* name) {
  auto it = query.find(name);
  return it != query.end() && ParseBoolFlag(it->second);
}

}  // namespace

std::optional<logical::Operation> OperationOf(std::string_view method,
                                              const std::map<std::string, std::string>& query) {
  // As Vault: any method with a non-empty `help` parameter asks for help.
  if (method == "HELP") return Operation::kHelp;
  if (auto help = query.find("help"); help != query.end() && !help->second.empty()) {
    return Operation::kHelp;
  }
  if (method == "GET") {
    if (QueryFlag(query, "scan")) return Operation::kScan;
    if (!QueryFlag(query, "list")) return Operation::kRead;
  } else if (method == "SCAN") {
    return Operation::kScan;
  }
  if (method == "GET" || method == "LIST") {
    // A recursive list is a scan: the same operation, the same capability.
    return QueryFlag(query, "recursive") ? Operation::kScan : Operation::kList;
  }
  if (method == "POST" || method == "PUT") return Operation::kUpdate;
  if (method == "PATCH") return Operation::kPatch;
  if (method == "DELETE") return Operation::kDelete;
  if (method == "HEAD") return Operation::kHead;
  return std::nullopt;
}

std::expected<logical::Request, logical::Response> BuildRequest(
    const WireRequest& wire, const JsonParseLimits& json_limits) {
  using logical::ErrorResponse;
  logical::Request req;
  req.answer_on_wire = true;
  Target target = SplitTarget(wire.target);

  if (auto cleaned = RedirectForRepeatedSlashes(target.path)) {
    // As Vault (Go's ServeMux): 301 to the cleaned path, query kept. The
    // client asks again, and that request is checked like any other.
    logical::Response r;
    r.http_status = 301;
    std::string location = std::move(*cleaned);
    if (!target.query.empty()) {
      location += '?';
      location += target.query;
    }
    // No body: clients follow the Location header (Go's HTML link would
    // echo the request's bytes into a page).
    r.headers.emplace("Content-Type", "text/html; charset=utf-8");
    r.raw = Json(std::string());
    r.headers.emplace("Location", std::move(location));
    return std::unexpected(std::move(r));
  }

  auto path = CanonicalizePath(target.path);
  if (!path) {
    if (path.error().code() == Code::kNotFound) {
      logical::Response r;
      r.http_status = 404;
      r.raw = Json{{"errors", Json::array()}};
      return std::unexpected(std::move(r));
    }
    return std::unexpected(ErrorResponse(400, path.error().message()));
  }
  req.path = std::move(*path);

  auto query = ParseQuery(target.query);
  if (!query) return std::unexpected(ErrorResponse(400, query.error().message()));
  req.query = std::move(*query);

  if (wire.method == "GET" && QueryFlag(req.query, "list") && QueryFlag(req.query, "scan")) {
    return std::unexpected(ErrorResponse(400, "\"list\" and \"scan\" cannot both be true"));
  }
  const std::optional<Operation> op = OperationOf(wire.method, req.query);
  if (!op) return std::unexpected(ErrorResponse(405, "unsupported method"));
  req.operation = *op;
  const bool parse_body =
      *op == Operation::kUpdate || *op == Operation::kPatch || *op == Operation::kDelete;
  if (*op == Operation::kPatch &&
      !IEquals(MediaType(wire.content_type), "application/merge-patch+json")) {
    return std::unexpected(
        ErrorResponse(415, "PATCH requires Content-Type of application/merge-patch+json"));
  }
  // As Vault does: a list (or scan) is always of a folder.
  if (logical::IsListOperation(req.operation) && !req.path.ends_with('/')) req.path.push_back('/');

  if (*op == Operation::kUpdate && IsFormBody(wire.content_type, wire.body)) {
    auto data = ParseFormAsData(wire.body);
    if (!data) return std::unexpected(ErrorResponse(400, data.error().message()));
    req.data = std::move(*data);
  } else if (parse_body) {
    auto data = ParseJsonBody(wire.body, json_limits, &req.data_as_written);
    if (!data) return std::unexpected(ErrorResponse(400, data.error().message()));
    req.data = std::move(*data);
  }

  if (req.path == "sys/metrics" && !wire.accept.empty() && !req.query.contains("format")) {
    std::string_view format = metrics::FormatFromAccept(wire.accept);
    if (!format.empty()) req.query.emplace("format", format);
  }

  if (!wire.vault_token.empty()) {
    req.client_token = std::string(Trim(wire.vault_token));
  } else if (wire.authorization.size() > 7 && IEquals(wire.authorization.substr(0, 7), "Bearer ")) {
    req.client_token = std::string(Trim(wire.authorization.substr(7)));
  }
  req.wrap_ttl = std::string(Trim(wire.wrap_ttl));
  // A wrap TTL of zero ("0", "0s") asks for no wrapping, as in Vault; any
  // other value the core checks and answers 400 for if it is bad. Only a
  // true zero: "500ms" is a request to wrap (refused as under 1s), never an
  // unwrapped answer.
  if (!req.wrap_ttl.empty()) {
    if (auto ttl = ParseGoDuration(req.wrap_ttl); ttl && ttl->count() == 0) req.wrap_ttl.clear();
  }
  req.mfa = std::string(Trim(wire.mfa));
  // There is only the root namespace. A request meant for another one is
  // refused rather than served from the root's mounts and policies.
  if (std::string_view ns = Trim(Trim(wire.vault_namespace), "/"); !ns.empty() && ns != "root") {
    return std::unexpected(
        ErrorResponse(400,
                      "namespaces are not supported: this server has only the root namespace "
                      "(X-Vault-Namespace: \"" +
                          std::string(ns) + "\")"));
  }
  req.remote_address = wire.remote_address;
  req.peer_certificates = wire.peer_certificates;
  req.audited_headers = wire.audited_headers;
  req.tls = wire.tls;
  req.id = NewRequestId();
  return req;
}

}  // namespace coffer::http
