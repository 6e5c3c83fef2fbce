#pragma once
// The request headers an operator chose to audit (sys/config/auditing/
// request-headers), as Vault's: each audit entry's request then carries
// them under "headers", by lower-case name, each value as sent or, with
// hmac, as its HMAC under the device's salt.
//
// The headers that carry a token (X-Vault-Token, Authorization) cannot be
// chosen: the entries already carry the token's HMAC, and a mistaken
// hmac=false would write tokens into the log.
//
// Stored in the barrier, read at unseal. Thread-safe; Snapshot is cheap and
// lock-free for the HTTP layer, which asks for every request.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "storage/backend.h"

namespace coffer::core {

class AuditedHeaders {
 public:
  using List = std::vector<std::pair<std::string, bool>>;  // name, hmac; sorted

  // Reads the stored list (unseal). kInternal if it is corrupt.
  Status Load(storage::Backend& barrier);
  // Adds or changes one header (the name in any case). kInvalidArgument for
  // a name that is not a header name, or one that carries a token.
  Status Set(storage::Backend& barrier, std::string_view name, bool hmac);
  // Removes one; kNotFound when it was not audited.
  Status Remove(storage::Backend& barrier, std::string_view name);
  // Whether `name` (any case) is audited, and with hmac; nullopt if not.
  std::optional<bool> Find(std::string_view name) const;
  // The list now; null when empty (then without touching the shared
  // pointer: every request asks).
  std::shared_ptr<const List> Snapshot() const {
    if (!any_.load(std::memory_order_acquire)) return nullptr;
    return current_.load();
  }

 private:
  Status Store(storage::Backend& barrier, std::map<std::string, bool> headers);
  // Makes headers_ what Snapshot answers. Called with write_mu_ held.
  void Publish();

  std::mutex write_mu_;                  // serialises changes
  std::map<std::string, bool> headers_;  // guarded by write_mu_
  std::atomic<std::shared_ptr<const List>> current_;
  std::atomic<bool> any_{false};
};

}  // namespace coffer::core
