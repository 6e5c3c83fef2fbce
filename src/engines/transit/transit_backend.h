#pragma once
// TransitBackend: routes transit/ paths to their handlers (path_*.cc) and
// owns the key cache and the automatic-rotation thread.
//
// Keys are cached as immutable snapshots (shared_ptr<const Policy>) after
// the first read, so encrypt/decrypt/sign take a shared lock and no storage
// read. Every change (create, config, rotate, trim, delete, restore) is
// serialised by write_mu_, written to storage first, then swapped into the
// cache. This engine is the only writer of its storage view, so the cache
// never goes stale; Initialize() (after every unseal) drops it anyway.
//
// Thread safety: HandleRequest and RotateDueKeys may be called concurrently
// from any thread. The rotation thread is started by Initialize() and
// stopped and joined by the destructor.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "engines/transit/policy.h"
#include "engines/transit/transit.h"
#include "logical/backend.h"

namespace coffer::engines::transit {

using logical::Request;
using logical::Response;
using TimePoint = std::chrono::system_clock::time_point;

class TransitBackend final : public logical::Backend {
 public:
  TransitBackend(const logical::BackendConfig& config, TransitOptions options);
  ~TransitBackend() override;
  TransitBackend(const TransitBackend&) = delete;
  TransitBackend& operator=(const TransitBackend&) = delete;

  Result<Response> HandleRequest(const Request& request) override;
  // encrypt/:name is a create when the key does not exist yet (the ACL then
  // needs "create", and the key is made on first use, as in Vault).
  Result<bool> ExistenceCheck(const Request& request) override;
  // Crypto operations with a key already cached, random and hash.
  bool RunsInline(const Request& request) const override;
  Status Initialize() override;
  // Path help for every route served here (transit_help.cc).
  logical::EngineHelp Help() const override;

  // Rotates every key whose auto_rotate_period has elapsed at `now` (new
  // versions are stamped `now`). Returns when the next key falls due, or
  // TimePoint::max() when none has a period. Errors from storage.
  Result<TimePoint> RotateDueKeys(TimePoint now);

 private:
  // Key store (key_store.cc). nullptr when the key does not exist.
  Result<std::shared_ptr<const Policy>> GetPolicy(const std::string& name);
  // Applies `edit` to a copy of the key under write_mu_ and stores it when
  // it returns true. kInvalidArgument "key not found" when absent.
  using EditFn = std::function<Result<bool>(Policy&)>;
  Result<std::shared_ptr<const Policy>> EditPolicy(const std::string& name, const EditFn& edit);
  // Stores a new key unless one exists (then returns the existing one, and
  // `created` is false), or replaces it when `overwrite`.
  Result<std::shared_ptr<const Policy>> PutNewPolicy(Policy policy, bool overwrite, bool* created);
  Status DeletePolicy(const std::string& name);
  Status StoreLocked(const Policy& policy);
  Result<std::shared_ptr<const Policy>> LoadLocked(const std::string& name);
  // Wakes the rotation thread to recompute its schedule.
  void KickRotation();
  void RotationLoop();
  TimePoint Now() const { return clock_.Wall(); }
  std::int64_t NowNs() const;

  // Key paths (path_keys.cc).
  Result<Response> Keys(const Request& request, const std::string& name, const std::string& action);
  Result<Response> CreateKey(const Request& request, const std::string& name);
  Result<Response> ReadKey(const std::string& name);
  Result<Response> ListKeys();
  Result<Response> DeleteKey(const std::string& name);
  Result<Response> ConfigKey(const Request& request, const std::string& name);
  Result<Response> RotateKey(const std::string& name);
  Result<Response> TrimKey(const Request& request, const std::string& name);
  Result<Response> ExportKeyPath(const Request& request, const std::string& rest);
  Result<Response> Backup(const std::string& name);
  Result<Response> Restore(const Request& request, const std::string& name);
  Result<Response> CacheConfig(const Request& request);
  // config/keys: GET · POST {disable_upsert}. With disable_upsert, encrypt
  // never creates a missing key (Vault's setting, default false).
  Result<Response> ConfigKeys(const Request& request);
  Result<bool> UpsertDisabled();
  // Validates a period for auto_rotate_period.
  Status CheckRotatePeriod(std::int64_t seconds) const;

  // Data paths (path_crypt.cc, path_sign.cc).
  Result<Response> Encrypt(const Request& request, const std::string& name);
  Result<Response> Decrypt(const Request& request, const std::string& name);
  Result<Response> Rewrap(const Request& request, const std::string& name);
  Result<Response> DataKey(const Request& request, const std::string& kind,
                           const std::string& name);
  Result<Response> Hmac(const Request& request, const std::string& name,
                        const std::string& algorithm);
  Result<Response> Sign(const Request& request, const std::string& name,
                        const std::string& algorithm);
  Result<Response> Verify(const Request& request, const std::string& name,
                          const std::string& algorithm);
  // Adds or replaces a cached key, evicting beyond cache_limit_; the caller
  // holds cache_mu_ exclusively.
  void CacheInsertLocked(const std::string& name, std::shared_ptr<const Policy> snapshot);
  // The key or kInvalidArgument "encryption key not found".
  Result<std::shared_ptr<const Policy>> RequirePolicy(const std::string& name);

  storage::Backend& storage_;
  Clock& clock_;
  TransitOptions options_;

  mutable std::shared_mutex cache_mu_;
  std::map<std::string, std::shared_ptr<const Policy>, std::less<>>
      cache_;                            // GUARDED_BY(cache_mu_)
  std::deque<std::string> cache_order_;  // GUARDED_BY(cache_mu_): insertion order
  std::size_t cache_limit_ = 0;          // GUARDED_BY(cache_mu_): 0 = unlimited
  std::mutex write_mu_;                  // serialises changes and cache fills

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stop_ = false;  // GUARDED_BY(loop_mu_)
  bool kick_ = false;  // GUARDED_BY(loop_mu_)
  std::thread rotation_thread_;
};

// Helpers shared by the path files.
using logical::DataResponse;
using logical::NoContent;
using logical::NotFoundResponse;
// How a batch with failed items is answered, as Vault answers each
// operation: encrypt and decrypt 400 (with the same batch_results; when
// some items succeeded, the request's partial_failure_response_code, 1-599,
// replaces it); rewrap, sign, verify and hmac 200, the errors in the items.
enum class BatchFailures { kAre400, kAre200 };
Response BatchResponse(Json results, std::size_t failures, BatchFailures mode,
                       int partial_failure_code = 0);
// Runs `one` on the body itself, or on each object of its batch_input
// (then failures become {"error": message} items, plus `failed_fields` when
// given, as Vault's item types carry fields without omitempty; "reference"
// is echoed and kInternal still fails the whole request).
using ItemFn = std::function<Result<Json>(const Json& item)>;
Result<Response> RunBatch(const Json& body, const ItemFn& one, BatchFailures mode,
                          const Json* failed_fields = nullptr);

}  // namespace coffer::engines::transit
