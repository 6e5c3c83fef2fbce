#include "core/audited_headers.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/text.h"

namespace coffer::core {
namespace {

constexpr std::string_view kAuditedHeadersKey = "core/audited-headers";

// RFC 9110's token characters.
bool IsHeaderName(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

}  // namespace

void AuditedHeaders::Publish() {
  current_ =
      headers_.empty() ? nullptr : std::make_shared<const List>(headers_.begin(), headers_.end());
  any_.store(!headers_.empty(), std::memory_order_release);
}

Status AuditedHeaders::Load(storage::Backend& barrier) {
  ASSIGN_OR_RETURN(auto stored, barrier.Get(kAuditedHeadersKey));
  std::map<std::string, bool> headers;
  if (stored) {
    auto j = nlohmann::json::parse(stored->value, nullptr, false);
    if (!j.is_object()) return Internal("the stored audited headers are corrupt");
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!it->is_object() || !IsHeaderName(it.key())) {
        return Internal("the stored audited headers are corrupt");
      }
      headers[it.key()] = it->value("hmac", false);
    }
  }
  std::scoped_lock lock(write_mu_);
  headers_ = std::move(headers);
  Publish();
  return Status::Ok();
}

Status AuditedHeaders::Store(storage::Backend& barrier, std::map<std::string, bool> headers) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, hmac] : headers) j[name] = {{"hmac", hmac}};
  TRY(barrier.Put(kAuditedHeadersKey, j.dump()));
  headers_ = std::move(headers);
  Publish();
  return Status::Ok();
}

Status AuditedHeaders::Set(storage::Backend& barrier, std::string_view name, bool hmac) {
  if (!IsHeaderName(name))
    return InvalidArgument("\"" + std::string(name) + "\" is not a header name");
  std::string lower = AsciiLower(name);
  if (lower == "x-vault-token" || lower == "authorization") {
    return InvalidArgument(
        "the " + lower +
        " header carries the token, which audit entries already carry as its HMAC");
  }
  if (lower == "x-vault-mfa") {
    return InvalidArgument(
        "the x-vault-mfa header carries MFA passcodes, which audit entries never carry");
  }
  std::scoped_lock lock(write_mu_);
  auto headers = headers_;
  headers[lower] = hmac;
  return Store(barrier, std::move(headers));
}

std::optional<bool> AuditedHeaders::Find(std::string_view name) const {
  auto snapshot = Snapshot();
  if (!snapshot) return std::nullopt;
  const std::string lower = AsciiLower(name);
  for (const auto& [header, hmac] : *snapshot) {
    if (header == lower) return hmac;
  }
  return std::nullopt;
}

Status AuditedHeaders::Remove(storage::Backend& barrier, std::string_view name) {
  std::scoped_lock lock(write_mu_);
  auto headers = headers_;
  if (headers.erase(AsciiLower(name)) == 0) return NotFound("header is not audited");
  return Store(barrier, std::move(headers));
}

}  // namespace coffer::core
