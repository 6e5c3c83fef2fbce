#pragma once
// The cubbyhole engine: private storage for each token. A token sees only its
// own cubbyhole, keyed by its salted HMAC (logical::Auth::token_hmac), and
// the core destroys a cubbyhole when its token is revoked. Response wrapping
// keeps the wrapped response in the wrapping token's cubbyhole.
//
// Paths (relative to the mount): GET/LIST/PUT/POST/DELETE <key>, as KV v1.

#include "logical/backend.h"

namespace coffer::engines::cubbyhole {

class CubbyholeBackend final : public logical::Backend {
 public:
  explicit CubbyholeBackend(storage::Backend& storage) : storage_(storage) {}

  Result<logical::Response> HandleRequest(const logical::Request& request) override;
  Result<bool> ExistenceCheck(const logical::Request& request) override;
  logical::EngineHelp Help() const override;  // cubbyhole_help.cc

  // Deletes every entry of one token's cubbyhole (token revocation).
  Status Destroy(std::string_view token_hmac);

  // Direct access for response wrapping, bypassing the HTTP shape.
  Status Put(std::string_view token_hmac, std::string_view key, std::string_view value);
  Result<std::optional<std::string>> Get(std::string_view token_hmac, std::string_view key);

 private:
  storage::Backend& storage_;
};

// Registers the "cubbyhole" engine type.
void RegisterCubbyholeEngine();

}  // namespace coffer::engines::cubbyhole
