#pragma once
// KV version 1: unversioned secrets stored directly at their path in the
// mount's storage view, as Vault's "kv" passthrough engine.
//
//   GET    <path>   {data: <stored object>}, 404 when absent
//   POST   <path>   stores the JSON object body (204)
//   DELETE <path>   204 whether or not it existed
//   LIST   <path>/  {keys: [...]} one level, folders end in '/'
//
// Thread safety: stateless apart from its storage; safe for concurrent use.

#include "logical/backend.h"

namespace coffer::engines::kv {

class KvV1Backend final : public logical::Backend {
 public:
  explicit KvV1Backend(const logical::BackendConfig& config)
      : storage_(config.storage), events_(config.events) {}

  Result<logical::Response> HandleRequest(const logical::Request& request) override;
  // True when a secret is stored at the request's path.
  Result<bool> ExistenceCheck(const logical::Request& request) override;

 private:
  Result<logical::Response> Read(const std::string& key);
  Result<logical::Response> Write(const std::string& key, const logical::Request& request);
  Result<logical::Response> List(std::string prefix);

  Result<logical::Response> Route(const logical::Request& request);

  storage::Backend& storage_;
  events::Bus* events_;  // null: no events
};

}  // namespace coffer::engines::kv
