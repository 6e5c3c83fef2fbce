#pragma once
// KV version 1: unversioned secrets stored directly at their path in the
// mount's storage view, as Vault's "kv" passthrough engine.
//
//   GET    <path>   {data: <stored object>}, 404 when absent
//   POST   <path>   stores the JSON object body (204)
//   DELETE <path>   204 whether or not it existed
//   LIST   <path>/  {keys: [...]} one level, folders end in '/' (?after=&limit=)
//   SCAN   <path>/  every key below, as paths relative to the folder
//
// Thread safety: stateless apart from its storage and the upgrade gate (a
// mutex); safe for concurrent use.

#include <condition_variable>
#include <mutex>

#include "logical/backend.h"

namespace coffer::engines::kv {

class KvV1Backend final : public logical::Backend {
 public:
  explicit KvV1Backend(const logical::BackendConfig& config)
      : storage_(config.storage), events_(config.events) {}

  Result<logical::Response> HandleRequest(const logical::Request& request) override;
  // True when a secret is stored at the request's path.
  Result<bool> ExistenceCheck(const logical::Request& request) override;
  bool HandlesScan() const override { return true; }
  logical::EngineHelp Help() const override;  // kv_help.cc

  // The upgrade to version 2 (upgrade.h): waits until no request is in
  // flight, then refuses every later one with kUnavailable. kUnavailable when
  // already closed. Reopen undoes it.
  Status CloseForUpgrade();
  void Reopen();

 private:
  // Admits a request (false: closed for the upgrade) and lets it go.
  bool Enter();
  void Leave();

  Result<logical::Response> Read(const std::string& key);
  Result<logical::Response> Write(const std::string& key, const logical::Request& request);
  // LIST (?after=&limit=) or SCAN of a folder (list_page.h).
  Result<logical::Response> List(std::string prefix, const logical::Request& request);

  Result<logical::Response> Route(const logical::Request& request);

  storage::Backend& storage_;
  events::Bus* events_;  // null: no events

  std::mutex gate_mu_;
  std::condition_variable gate_idle_;
  int in_flight_ = 0;    // guarded by gate_mu_
  bool closed_ = false;  // guarded by gate_mu_
};

}  // namespace coffer::engines::kv
