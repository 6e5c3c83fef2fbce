#include "engines/kv/kv_v1.h"

#include "common/json_numbers.h"
#include "engines/kv/kv_events.h"
#include "engines/kv/list_page.h"
#include "engines/kv/params.h"

namespace coffer::engines::kv {
namespace {

using logical::Operation;
using logical::Request;
using logical::Response;

// Vault reports the secret's own "ttl"/"lease" field as a KV v1 read's
// lease_duration, or else the mount's default lease TTL (filled in by the
// core). KV v1 never creates a lease (no lease_id).

Status Upgrading() {
  return Unavailable("the mount is being upgraded to KV version 2; retry shortly");
}

}  // namespace

bool KvV1Backend::Enter() {
  std::scoped_lock lock(gate_mu_);
  if (closed_) return false;
  ++in_flight_;
  return true;
}

void KvV1Backend::Leave() {
  std::scoped_lock lock(gate_mu_);
  if (--in_flight_ == 0) gate_idle_.notify_all();
}

Status KvV1Backend::CloseForUpgrade() {
  std::unique_lock lock(gate_mu_);
  if (closed_) return Upgrading();
  closed_ = true;
  gate_idle_.wait(lock, [this] { return in_flight_ == 0; });
  return Status::Ok();
}

void KvV1Backend::Reopen() {
  std::scoped_lock lock(gate_mu_);
  closed_ = false;
}

Result<Response> KvV1Backend::HandleRequest(const Request& request) {
  if (!Enter()) return Err(Upgrading());
  Result<Response> result = Route(request);
  if (result) PublishV1Change(events_, request);  // after the write is durable
  Leave();
  return result;
}

Result<Response> KvV1Backend::Route(const Request& request) {
  const std::string& key = request.relative_path;
  switch (request.operation) {
    case Operation::kRead:
      return Read(key);
    case Operation::kCreate:
    case Operation::kUpdate:
      return Write(key, request);
    case Operation::kDelete:
      if (key.empty()) return Err(InvalidArgument("missing path"));
      TRY(ValidateSecretKey(key));
      TRY(storage_.Delete(key));
      return NoContent();
    case Operation::kList:
    case Operation::kScan:
      return List(key, request);
    default:
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
}

Result<bool> KvV1Backend::ExistenceCheck(const Request& request) {
  const std::string& key = request.relative_path;
  if (!ValidateSecretKey(key).ok()) return false;
  if (!Enter()) return Err(Upgrading());
  auto entry = storage_.Get(key);
  Leave();
  if (!entry) return Err(std::move(entry).error());
  return entry->has_value();
}

Result<Response> KvV1Backend::Read(const std::string& key) {
  if (!ValidateSecretKey(key).ok()) return NotFoundResponse();
  ASSIGN_OR_RETURN(auto entry, storage_.Get(key));
  if (!entry) return NotFoundResponse();
  // Numbers as the client wrote them (common/json_numbers.h).
  auto parsed = ParseJsonNumbers(entry->value, kKeepNumberText);
  if (!parsed || !parsed->value.is_object()) return Err(Internal("kv: corrupt secret record"));
  Json& data = parsed->value;
  Response r;
  r.number_text = parsed->inexact_numbers;
  r.mount_default_lease_duration = true;
  for (const char* ttl_field : {"ttl", "lease"}) {
    auto it = data.find(ttl_field);
    if (it == data.end()) continue;
    auto secs = ParseDurationSeconds(WithoutNumberText(*it), ttl_field);
    // Beyond what a Go duration holds (~292 years) Vault's parse fails and
    // the mount's default applies; a client that adds the TTL to a Go
    // duration (consul-template) would overflow on a larger value.
    constexpr std::int64_t kGoDurationMaxSeconds = 9'223'372'036;
    if (secs && *secs >= 0 && *secs <= kGoDurationMaxSeconds) {
      r.lease_duration = *secs;
      r.mount_default_lease_duration = false;
    }
    break;
  }
  r.data = std::move(data);
  return r;
}

Result<Response> KvV1Backend::Write(const std::string& key, const Request& request) {
  TRY(ValidateSecretKey(key));
  if (!request.data.is_object()) {
    return Err(InvalidArgument("the request body must be a JSON object of key/value pairs"));
  }
  if (request.data.empty()) return Err(InvalidArgument("missing data fields"));
  TRY(storage_.Put(key, request.DataAsWrittenText()));
  return NoContent();
}

Result<Response> KvV1Backend::List(std::string prefix, const Request& request) {
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  if (!prefix.empty()) {
    std::string_view folder(prefix.data(), prefix.size() - 1);
    if (!ValidateSecretKey(folder).ok()) return NotFoundResponse();
  }
  ASSIGN_OR_RETURN(ListPage page, ListFolder(storage_, prefix, request));
  return PageResponse(std::move(page));
}

}  // namespace coffer::engines::kv
