#pragma once
// The logical request and response that travel from the HTTP layer through
// the core pipeline to an engine, as in Vault's sdk/logical. Nothing here
// knows about HTTP wire details beyond what Vault's API exposes.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace coffer::logical {

using Json = nlohmann::json;
class StreamSource;  // logical/stream.h

// kScan is OpenBao's recursive list (the SCAN method, `GET ?scan=true`, and
// Coffer's `LIST ?recursive=true`); it needs the "scan" capability and only
// engines that say so (Backend::HandlesScan) take it. kHelp is Vault's help
// operation (`?help=1`, the HELP method): it answers the route's description
// (logical/help.h) and never reaches an engine's HandleRequest.
enum class Operation { kRead, kCreate, kUpdate, kPatch, kDelete, kList, kHead, kScan, kHelp };

std::string_view OperationName(Operation op);

// Operations that change nothing by themselves: read, head, list and scan.
inline bool IsReadOperation(Operation op) {
  return op == Operation::kRead || op == Operation::kList || op == Operation::kHead ||
         op == Operation::kScan;
}

// List and scan: requests for a folder, whose path ends in '/'.
inline bool IsListOperation(Operation op) {
  return op == Operation::kList || op == Operation::kScan;
}

// Who is calling, as the core established it from the client token. Engines
// that act on the caller (the token store, cubbyhole) read it; nobody else
// needs to.
struct Auth {
  std::string token_hmac;  // the salted HMAC of the client token: its identity
  std::string accessor;
  std::vector<std::string> policies;
  std::string display_name;
  std::map<std::string, std::string> metadata;
  std::string entity_id;
  bool root = false;   // holds the root policy
  bool sudo = false;   // root, or the ACL grants sudo on this request's path
  bool batch = false;  // a batch token (never stored; no cubbyhole, no accessor)
  std::int64_t ttl = 0;
  // This request spends the token's last use; the core revokes the token
  // when the request is done.
  bool last_use = false;
  // For a LIST or SCAN that a policy's list_scan_response_keys_filter_path
  // governs: whether the caller may see one listed name (the authorizer
  // sets it; the core filters the answer with it). Empty: no filtering.
  std::function<Result<bool>(const std::string& key)> may_see_listed;
};

// A request header an operator chose to audit (sys/config/auditing/
// request-headers): its lower-case name, every value sent, and whether the
// audit entry carries the values' HMACs rather than the values.
struct AuditedHeader {
  std::string name;
  std::vector<std::string> values;
  bool hmac = false;
};

struct Request {
  std::string id;  // request_id, a UUID
  Operation operation = Operation::kRead;
  std::string path;            // canonical, without the leading "/v1/"
  Json data = Json::object();  // the JSON body (object) or {} when empty
  // The same body with the numbers a double would change kept as written
  // (common/json_numbers.h), when it holds any; null otherwise. Read it
  // through DataAsWritten().
  std::shared_ptr<const Json> data_as_written;
  std::map<std::string, std::string> query;  // decoded query parameters
  std::string client_token;  // from X-Vault-Token or Authorization: Bearer (secret!)
  std::string wrap_ttl;      // X-Vault-Wrap-TTL, unparsed
  std::string mfa;           // X-Vault-MFA, "method_id:passcode" (secret!)
  std::string remote_address;
  bool tls = false;
  // The TLS client's certificate chain as DER, leaf first (empty without
  // mTLS). Unverified: auth/cert checks it against its trusted certificates.
  std::shared_ptr<const std::vector<std::string>> peer_certificates;
  // The audited headers it carries (only those), for the audit entries.
  std::vector<AuditedHeader> audited_headers;

  // Set by the router before an engine sees the request: the mount's path
  // ("secret/") and the request path relative to it ("data/app"). `path`
  // keeps the full canonical path.
  std::string mount_point;
  std::string relative_path;

  // Set by the core for authenticated requests; null for unauthenticated
  // paths.
  std::shared_ptr<const Auth> auth;

  // Set by the HTTP layer: the answer is rendered to the wire and read by
  // nothing else in the process (the audit entry parses text). A caller in
  // the process (a test, a tool) leaves it false and always gets trees.
  bool answer_on_wire = false;

  // Set by the core when no one but the HTTP layer and the audit entry
  // will look at the answer (answer_on_wire, no wrapping): an engine may
  // then answer with Response::data_text instead of a tree in
  // Response::data, and a token's auth block comes as Response::auth_text.
  bool data_text_ok = false;

  // A field of `data`: the JSON body, or for GET/LIST the query parameters
  // (the core copies them into `data`).
  const Json* Field(std::string_view name) const;
  // `data` with its numbers as the client wrote them, for an engine that
  // stores what it was sent: data_as_written when it still describes
  // `data` (nothing changed `data` since), else `data`. May hold number
  // texts: write it with AppendJsonWithNumberText, never dump().
  const Json& DataAsWritten() const;
  // DataAsWritten() as JSON text, for an engine that stores the body whole.
  std::string DataAsWrittenText() const;
  // A boolean field as Vault's field decoding reads one: true/false, a
  // number (0 is false), or a string Go's strconv.ParseBool takes ("1",
  // "t", "TRUE", "false", ...); `fallback` when absent or null.
  // kInvalidArgument for anything else.
  Result<bool> BoolField(std::string_view name, bool fallback) const;
};

// What an auth method answers for a successful login: who logged in and
// what their token may do. The core mints the token (core/login.cc) and
// fills Response::auth; an engine never creates tokens itself.
struct LoginResult {
  std::vector<std::string> policies;
  std::map<std::string, std::string> metadata;
  std::string display_name;  // "alice" → token display name "userpass-alice"
  std::int64_t ttl = 0;      // seconds; 0 = the mount's default
  std::int64_t max_ttl = 0;  // seconds; 0 = the mount's maximum
  std::int64_t explicit_max_ttl = 0;
  std::int64_t period = 0;
  std::int64_t num_uses = 0;
  bool no_default_policy = false;
  // token_bound_cidrs: checked at login, and carried by the token.
  std::vector<std::string> bound_cidrs;
  std::string token_type = "service";
  // The login's alias name (username, role_id), for reporting.
  std::string alias_name;
  // The metadata the login sets on its entity alias (Vault's
  // Alias.Metadata: AppRole's and JWT's token metadata), which policy
  // templates read as identity.entity.aliases.<accessor>.metadata.<key>;
  // nullopt: the method sets none and the alias keeps what it has.
  std::optional<std::map<std::string, std::string>> alias_metadata;
  // The caller's groups at the identity provider (JWT groups_claim), matched
  // against group aliases on this mount; nullopt: the method reports none
  // and memberships of external groups stay as they are.
  std::optional<std::vector<std::string>> group_aliases;
  // What the method keeps with the token for its renewals (Vault's
  // InternalData): stored, never reported (cert: the client certificate's
  // fingerprint, for renewal binding).
  std::map<std::string, std::string> internal;
};

// A login token's renewal as its auth method sees it
// (Backend::CheckLoginRenewal). Pointers to the caller's values, never null
// except peer_certificates.
struct LoginRenewalRequest {
  const std::map<std::string, std::string>* meta;      // the token's metadata
  const std::vector<std::string>* policies;            // its own policies
  const std::map<std::string, std::string>* internal;  // LoginResult::internal
  // The renewing client's TLS certificate chain, DER, leaf first; null or
  // empty without mTLS (Request::peer_certificates).
  const std::vector<std::string>* peer_certificates;
};

// The terms a login token renews on, from its role or user as they are at
// the renewal (Backend::CheckLoginRenewal), as Vault's methods hand them to
// the expiration manager.
struct LoginRenewal {
  std::int64_t ttl = 0;      // seconds; 0 = the mount's default
  std::int64_t max_ttl = 0;  // seconds; 0 = the mount's maximum
  std::int64_t period = 0;   // seconds; 0 = not periodic
};

// A secret with a lease, as an engine returns it (dynamic credentials). The
// core registers the lease (clamping ttl to the mount's and the system's
// maximum) and fills lease_id, lease_duration and renewable; `internal` is
// kept in the lease record, never sent to the client, and handed back to
// Backend::RevokeSecret / RenewSecret.
struct SecretInfo {
  std::int64_t ttl = 0;      // seconds; 0 = the mount's default
  std::int64_t max_ttl = 0;  // seconds from issue; 0 = the mount's maximum
  bool renewable = true;
  Json internal = Json::object();
};

struct Response {
  int http_status = 200;  // 204 when data is empty and nothing else is set
  Json data;              // null = no data
  // `data` holds number texts (common/json_numbers.h: numbers kept as the
  // client wrote them); whoever writes it out uses AppendJsonWithNumberText.
  bool number_text = false;
  // `data` as JSON text, for an answer the engine holds as text already (a
  // KV v2 read): rendering it costs a copy where a tree costs a parse, an
  // allocation per value and a dump. Only when Request::data_text_ok; then
  // `data` stays null, the HTTP layer sends this in its place and the audit
  // entry hashes its parsed values.
  std::string data_text;
  Json auth;  // null = none
  // `auth` as JSON text, on the same terms as data_text (a new or renewed
  // token's block: twelve members built as a tree cost ~75 allocations).
  // Set instead of `auth`, never with it.
  std::string auth_text;
  Json wrap_info;  // null = none
  Json warnings;   // null or array of strings
  std::string lease_id;
  bool renewable = false;
  std::int64_t lease_duration = 0;
  // lease_duration is to be the mount's default lease TTL (a KV version 1
  // read of a secret without its own "ttl"): the core fills it in, as the
  // tuned value can change under a running engine.
  bool mount_default_lease_duration = false;
  std::string mount_type;  // the type of the mount that answered ("kv", ...)

  // When set, this body is sent as is (health, seal-status and other sys
  // endpoints answer without Vault's envelope).
  std::optional<Json> raw;
  // Extra response headers.
  std::map<std::string, std::string> headers;
  // HEAD requests and some health answers carry no body.
  bool no_body = false;
  // Set by an auth method's login path; the core turns it into `auth`.
  std::optional<LoginResult> login;
  // A streaming body (Server-Sent Events, logical/stream.h): the HTTP layer
  // sends http_status and headers, then hands the connection to it.
  std::shared_ptr<StreamSource> stream;
  // Set by an engine returning a leased secret; the core registers it.
  std::optional<SecretInfo> secret;
};

// A scalar field value read as Vault's weak decoding reads it into a
// string: a string as is, a number with its digits, true "1" and false "0";
// nullopt for anything else (null, an object, an array).
std::optional<std::string> WeakString(const Json& value);

// Builds {"errors":[message]} with a status.
Response ErrorResponse(int http_status, std::string message);

// 200 with `data` as the answer's data.
Response DataResponse(Json data);
// 204 with no body.
Response NoContent();
// 404 with {"errors":[]}: Vault's answer for reading or listing nothing.
Response NotFoundResponse();
// 202 with Vault's tidy warning: what a tidy endpoint answers once it has
// started its job (what it did goes to the server log, as in Vault).
Response TidyStartedResponse();
// 200 with the warning "Tidy operation already in progress.": a tidy
// endpoint called while its job still runs (nothing new is started).
Response TidyRunningResponse();

}  // namespace coffer::logical
