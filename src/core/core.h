#pragma once
// Core: the server's lifecycle (init, unseal, seal) and its request pipeline.
//
// Core only wires the stages (DESIGN.md, "The request pipeline"); each stage
// is its own class: the seal (seal/), the token store (token/), the router
// (router/) and the system backend (core/system_backend.h).
//
// Threading: Handle() is called on HTTP I/O threads. Cheap unauthenticated
// answers (health, seal-status, sealed 503s), reads of secrets, and (on
// in-memory storage) token, KV, cubbyhole and AppRole requests are given
// inline; everything else runs on a worker pool so a storage write never
// blocks an I/O thread.
// A shared "state lock" is held by every request in flight; Seal() takes it
// exclusively, so sealing waits for in-flight requests and no request sees a
// half-sealed core.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "audit/broker.h"
#include "barrier/aes_gcm_barrier.h"
#include "barrier/barrier_view.h"
#include "common/clock.h"
#include "common/secret_bytes.h"
#include "common/thread_pool.h"
#include "core/audited_headers.h"
#include "core/authorizer.h"
#include "core/cors.h"
#include "core/login.h"
#include "core/quotas.h"
#include "core/sys_events.h"
#include "core/wrapping.h"
#include "engines/cubbyhole/cubbyhole.h"
#include "expiration/expiration_manager.h"
#include "expiration/leases_backend.h"
#include "http/handler.h"
#include "identity/backend.h"
#include "metrics/telemetry.h"
#include "policy/policy_backend.h"
#include "policy/policy_store.h"
#include "router/router.h"
#include "seal/shamir_seal.h"
#include "storage/backend.h"
#include "token/token_backend.h"
#include "token/token_store.h"

namespace coffer::core {

struct CoreOptions {
  std::unique_ptr<storage::Backend> physical;
  Clock* clock = &SystemClock::Instance();
  std::size_t worker_threads = 32;
  // System-wide token and lease TTLs (config default_lease_ttl/max_lease_ttl).
  std::chrono::seconds default_lease_ttl{768 * 3600};
  std::chrono::seconds max_lease_ttl{768 * 3600};
  // sys/metrics?format=prometheus (off when the config's telemetry block
  // sets prometheus_retention_time = 0, as in Vault).
  bool prometheus_metrics = true;
  // sys/config/state/sanitized: the server's configuration without its
  // storage and seal parameters (config/sanitized.h); null when the core
  // was not started from a configuration (tests).
  logical::Json sanitized_config;
  // The config's cluster_name: when set, the cluster's name (stored at init,
  // and replacing the stored one at unseal); empty: the name stored at init,
  // generated then.
  std::string cluster_name;
};

struct InitResult {
  std::vector<SecretBytes> keys;
  SecretBytes root_token;
};

class Core final : public http::Handler {
 public:
  static Result<std::unique_ptr<Core>> Create(CoreOptions options);
  ~Core() override;

  void Handle(logical::Request request, std::function<void(logical::Response)> done) override;
  // Request headers copied into audit entries (audited_headers.h).
  std::shared_ptr<const std::vector<std::pair<std::string, bool>>> AuditedHeaders() const override {
    return audited_headers_.Snapshot();
  }
  // Cross-origin requests from browsers (cors.h).
  bool WantsCors() const override { return cors_.Enabled(); }
  std::optional<logical::Response> CheckCors(std::string_view origin, std::string_view method,
                                             std::string_view preflight_method,
                                             std::map<std::string, std::string>* headers) override {
    return cors_.Check(origin, method, preflight_method, headers);
  }
  // Rate limit quotas, before the body is decoded (see quotas.h).
  bool WantsPreflight() const override { return quotas_active_.load(std::memory_order_relaxed); }
  std::optional<logical::Response> Preflight(std::string_view path, std::string_view remote_address,
                                             std::map<std::string, std::string>* headers) override;
  // With enable_rate_limit_audit_logging, the refused request's entry is
  // written by a pool thread (the audit devices may block). A flood of
  // refusals faster than the devices write is not queued without bound:
  // past kMaxQueuedRefusalAudits waiting entries, further ones are dropped,
  // counted in a warning and in coffer_audit_rate_limited_dropped_total.
  void PreflightRefused(logical::Request request, const logical::Response& refusal) override;
  static constexpr int kMaxQueuedRefusalAudits = 1024;
  // GET sys/metrics on a listener with unauthenticated_metrics_access: no
  // token, not audited (as Vault), answered inline also while sealed
  // (sys_metrics.cc).
  void HandleUnauthenticatedMetrics(logical::Request request,
                                    std::function<void(logical::Response)> done) override;

  // The whole pipeline, synchronously (tests and the worker pool call it).
  logical::Response HandleRequest(logical::Request& request);

  // Lifecycle. Initialize leaves the core sealed unless `stay_unsealed`
  // (dev mode). Errors: kAlreadyExists, kInvalidArgument.
  Result<InitResult> Initialize(int shares, int threshold, bool stay_unsealed = false,
                                std::string_view root_token_id = {});
  Result<seal::UnsealProgress> Unseal(const SecretBytes& key);
  Status Seal();
  bool Sealed() const { return sealed_.load(); }
  Result<bool> Initialized();

  // Stops taking work and finishes what is in flight.
  void Shutdown();

  // Accessors for the system backend.
  seal::ShamirSeal& seal() { return *seal_; }
  barrier::AesGcmBarrier& barrier() { return *barrier_; }
  router::Router& router() { return *router_; }
  token::TokenStore& tokens() { return *tokens_; }
  engines::cubbyhole::CubbyholeBackend& cubbyhole() { return *cubbyhole_; }
  policy::PolicyStore& policies() { return *policies_; }
  policy::PolicyBackend& policy_backend() { return *policy_backend_; }
  expiration::ExpirationManager& expiration() { return *expiration_; }
  expiration::LeasesBackend& leases_backend() { return *leases_backend_; }
  Authorizer& authorizer() { return *authorizer_; }
  Wrapper& wrapper() { return *wrapper_; }
  audit::Broker& audit() { return *audit_; }
  Logins& logins() { return *logins_; }
  identity::IdentityStore& identity() { return *identity_; }
  EventsService& events() { return *events_; }
  RateLimiter& quotas() { return *quotas_; }
  Cors& cors() { return cors_; }
  core::AuditedHeaders& audited_headers() { return audited_headers_; }
  // What sys/config/state/sanitized shows; replaced when a SIGHUP reloads
  // the file. Thread-safe.
  std::shared_ptr<const logical::Json> sanitized_config() const {
    return std::atomic_load(&sanitized_config_);
  }
  void SetSanitizedConfig(logical::Json config) {
    std::atomic_store(&sanitized_config_, std::make_shared<const logical::Json>(std::move(config)));
  }
  // Called after sys/quotas changes: turns the preflight on or off.
  void QuotasChanged() { quotas_active_ = !quotas_->List().empty(); }
  // Log rotation (SIGHUP). Errors are logged; a device that cannot reopen
  // fails requests until it can.
  void ReopenAuditDevices();
  storage::Backend& physical() { return *physical_; }
  Clock& clock() { return *clock_; }
  std::string_view storage_type() const { return physical_->Type(); }
  std::string cluster_name() const;
  std::string cluster_id() const;
  bool prometheus_metrics() const { return prometheus_metrics_; }
  std::chrono::steady_clock::time_point created_at() const { return created_at_; }
  // The token auth method's tune settings (sys/auth/token/tune): an object
  // with "config" (TTLs, audit keys, listing visibility, headers),
  // "description" and "options", each present once tuned. Kept under the
  // barrier; the TTLs are the token store's (TokenStore::SetMountTtls).
  std::shared_ptr<const logical::Json> token_mount_tune() const {
    return std::atomic_load(&token_mount_tune_);
  }
  // Merges `config` into the stored config, sets the description and the
  // options when given, stores the result and applies its TTLs.
  Status TuneTokenMount(const logical::Json& config, const std::optional<std::string>& description,
                        const logical::Json& options);
  // A mount's default and max lease TTLs as its engines see them (Vault's
  // system view): the tuned values, the system's where a mount has none.
  std::pair<std::chrono::seconds, std::chrono::seconds> MountLeaseTtls(
      const router::MountEntry& mount) const;

 private:
  explicit Core(CoreOptions options);

  Status PostUnseal();
  void PreSeal();
  // Reads the token auth method's tune settings and applies their TTLs.
  Status LoadTokenMountTune();
  // Gives the token store the TTLs a token mount `config` puts in effect
  // (MountLeaseTtls: the system's where it sets none).
  void ApplyTokenMountTtls(const logical::Json& config);
  // The stages after the sealed check, under the shared state lock.
  Result<logical::Response> Dispatch(logical::Request& request);
  Result<logical::Response> RouteToEngine(logical::Request& request);
  // Drops the names of a LIST or SCAN answer that the caller's
  // list_scan_response_keys_filter_path hides (Auth::may_see_listed), from
  // `keys` and `key_info`. A paged answer's next_after becomes the last name
  // kept; a page with none kept is followed by the next, so a hidden name is
  // never the cursor and paging never stops early.
  Status FilterListing(logical::Request& request, logical::Response& response);
  // Decides create versus update for a write, before the ACL sees it.
  Status ResolveWriteOperation(logical::Request& request);
  // The wrapping stage: wraps a successful response when asked to.
  Status MaybeWrap(const logical::Request& request, logical::Response& response);
  // The authentication stages of Dispatch: wrap TTL, create/update, ACL.
  Status Admit(logical::Request& request);
  // sys/wrapping/unwrap and rewrap: the wrapping token they name is live
  // (Wrapper::Check); a body "token" that is not a non-empty string is a 400.
  Status CheckWrappingTokenOf(const logical::Request& request);
  // Rate limit quotas that name a login role (see quotas.h).
  std::optional<logical::Response> CheckRoleQuota(logical::Request& request);
  // The request entry of a request a rate limit quota refused, as Vault
  // writes it with enable_rate_limit_audit_logging: the request and the
  // refusal's message as its error, no response entry. Best effort: the
  // request is refused whatever happens here, so a device that cannot
  // write is only logged. Called under the shared state lock.
  void AuditRateLimited(const logical::Request& request, std::string_view error);
  // The serving stages of Dispatch, after admission and the request entry.
  Result<logical::Response> Execute(logical::Request& request);
  // Path help (logical/help.h) for the route `request` names: the system
  // backend's, the token store's, identity's, cubbyhole's or the mounted
  // engine's table; 404 for a path no mount serves.
  Result<logical::Response> Help(const logical::Request& request) const;
  // A write the serving engine answers without storage (see
  // logical::Backend::RunsInline), run on the I/O thread.
  bool EngineRunsInline(const logical::Request& request) const;
  // `question` asked of the secrets engine that `request` routes to, with
  // the request as the engine will see it; false for the core's own paths
  // and for paths no mount serves.
  bool AskEngine(const logical::Request& request,
                 bool (logical::Backend::*question)(const logical::Request&) const) const;
  // On in-memory storage (-dev) nothing waits for a disk: requests to the
  // token store, KV, cubbyhole and AppRole mounts then run on the I/O thread,
  // where the hand-off to the pool and back cost ~20 % of a token create's
  // CPU (bench token_create). Not with audit devices (entries are awaited),
  // nor revocations or tidying (work that grows with a tree).
  bool RunsInlineInMemory(const logical::Request& request) const;
  // A token creation on local storage, with no audit device: its only wait
  // is the group commit of the token and its lease, which suspends a fiber
  // on the I/O thread (common/fiber.h) instead of holding a pool thread.
  bool RunsOnFiber(const logical::Request& request) const;
  // Handles the request and gives `done` its answer, counted in the request
  // metrics (on whichever thread or fiber Handle chose).
  void Answer(logical::Request& request, const std::function<void(logical::Response)>& done,
              metrics::Method method, std::chrono::steady_clock::time_point started);
  // What the audit entries say about the mount that serves a request.
  audit::MountInfo AuditMount(const logical::Request& request) const;

  std::unique_ptr<storage::Backend> physical_;
  Clock* clock_;
  std::unique_ptr<barrier::AesGcmBarrier> barrier_;
  std::unique_ptr<seal::ShamirSeal> seal_;
  std::unique_ptr<storage::Backend> token_view_;
  std::unique_ptr<token::TokenStore> tokens_;
  std::unique_ptr<router::Router> router_;
  std::unique_ptr<storage::Backend> cubbyhole_view_;
  std::unique_ptr<storage::Backend> policy_view_;
  std::unique_ptr<policy::PolicyStore> policies_;
  std::unique_ptr<policy::PolicyBackend> policy_backend_;
  std::unique_ptr<expiration::Revoker> revoker_;
  std::unique_ptr<storage::Backend> expire_view_;
  std::unique_ptr<expiration::ExpirationManager> expiration_;
  std::unique_ptr<expiration::LeasesBackend> leases_backend_;
  std::unique_ptr<token::TokenBackend> token_backend_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<Wrapper> wrapper_;
  std::unique_ptr<engines::cubbyhole::CubbyholeBackend> cubbyhole_;
  std::unique_ptr<audit::Broker> audit_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Logins> logins_;
  std::unique_ptr<storage::Backend> identity_view_;  // identity/ and login MFA
  std::unique_ptr<identity::IdentityStore> identity_;
  std::unique_ptr<identity::mfa::MfaStore> mfa_;
  std::unique_ptr<identity::OidcTokens> oidc_tokens_;
  std::unique_ptr<identity::IdentityBackend> identity_backend_;
  std::unique_ptr<EventsService> events_;  // change and security events
  std::unique_ptr<storage::Backend> quotas_view_;
  std::unique_ptr<RateLimiter> quotas_;
  std::atomic<bool> quotas_active_{false};
  Cors cors_;
  core::AuditedHeaders audited_headers_;
  // Audit entries of rate-limited requests queued for the pool, and those
  // dropped because too many were (PreflightRefused).
  std::atomic<int> refusal_audits_queued_{0};
  std::atomic<std::uint64_t> refusal_audits_dropped_{0};
  bool prometheus_metrics_ = true;
  const std::string configured_cluster_name_;
  std::shared_ptr<const logical::Json> sanitized_config_;
  std::shared_ptr<const logical::Json> token_mount_tune_ =
      std::make_shared<const logical::Json>(logical::Json::object());
  std::mutex token_tune_mu_;  // serialises TuneTokenMount's read, change and write
  const std::chrono::steady_clock::time_point created_at_ = std::chrono::steady_clock::now();

  std::shared_mutex state_mu_;  // shared by requests, exclusive for seal/unseal
  std::atomic<bool> sealed_{true};
  std::atomic<bool> initialized_{false};  // cached once true
  mutable std::mutex cluster_mu_;
  std::string cluster_name_;  // guarded by cluster_mu_
  std::string cluster_id_;    // guarded by cluster_mu_
};

}  // namespace coffer::core
