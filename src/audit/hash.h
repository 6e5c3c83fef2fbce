#pragma once
// The HMAC that hides secret values in audit entries.
//
// Each audit device has its own random salt (kept encrypted in the audit
// table). A value v is logged as "hmac-sha256:<hex of HMAC-SHA256(salt, v)>",
// so an investigator who knows a value can find every entry that carried it
// (sys/audit-hash) while the log itself reveals nothing.
//
// Thread-safe after construction.

#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "common/secret_bytes.h"
#include "common/status.h"
#include "logical/request.h"

namespace coffer::audit {

class Salt {
 public:
  // Errors: kInternal if OpenSSL cannot set up the MAC.
  static Result<std::shared_ptr<const Salt>> Create(SecretBytes key);
  ~Salt();
  Salt(const Salt&) = delete;
  Salt& operator=(const Salt&) = delete;

  // "hmac-sha256:<hex>".
  std::string Hash(std::string_view value) const;
  // Appends "hmac-sha256:<hex>" to `out` (no temporary strings).
  void AppendHash(std::string& out, std::string_view value) const;
  // AppendHash, remembered for the values hashed on every request (the
  // caller's token and accessor); compared in constant time.
  void AppendHashCached(std::string& out, std::string_view value) const;
  // Whether the keyed MAC's states and the cache of recent values (tokens
  // and accessors in the clear) are in the secure heap (InitSecureMemory).
  bool InSecureMemory() const;
  // AppendHash of "true" or "false" (hashed once, when the salt is made).
  void AppendHashOfBool(std::string& out, bool value) const;
  // The raw 32-byte MAC.
  std::string Mac(std::string_view value) const;
  const SecretBytes& key() const { return key_; }

 private:
  struct Impl;
  explicit Salt(SecretBytes key);
  // "hmac-sha256:<hex>" of `value`, always computed.
  void AppendMacHex(std::string& out, std::string_view value) const;
  SecretBytes key_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coffer::audit
