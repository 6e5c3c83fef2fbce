#include "core/core.h"

#include <mutex>
#include <set>

#include "common/fiber.h"
#include "common/json_fast.h"
#include "common/log.h"
#include "common/loop_turn.h"
#include "core/list_pages.h"
#include "core/login.h"
#include "core/request_metrics.h"
#include "core/secret_leases.h"
#include "core/system_backend.h"
#include "crypto/random.h"
#include "http/error_map.h"

namespace coffer::core {
namespace {

// identity/oidc/.well-known/...: answered without a token, as in Vault.
bool IsUnauthenticatedIdentity(std::string_view path) {
  return path.starts_with("identity/") && identity::OidcTokens::IsUnauthenticated(path.substr(9));
}

// As Vault's request handling does for every auth block: a token whose
// entity has identity policies gets them listed in `policies` and apart in
// `identity_policies` (its own stay in `token_policies`). Most tokens have
// no entity, and their auth block (often text) is left as it is.
Status AddIdentityPolicies(const identity::IdentityStore& identity, logical::Response& r) {
  if (!r.auth_text.empty()) {
    if (r.auth_text.find("\"entity_id\":\"\"") != std::string::npos) return Status::Ok();
  } else if (!r.auth.is_object() || r.auth.value("entity_id", "").empty()) {
    return Status::Ok();
  }
  logical::Json auth = r.auth_text.empty() ? r.auth : ParseJson(r.auth_text);
  if (!auth.is_object()) return Internal("a token's auth block is malformed JSON");
  const std::string entity = auth.value("entity_id", "");
  if (entity.empty()) return Status::Ok();
  std::vector<std::string> from_identity = identity.IdentityPolicies(entity);
  if (from_identity.empty()) return Status::Ok();
  std::set<std::string> all(from_identity.begin(), from_identity.end());
  const std::set<std::string> own_identity(all);
  if (auth.contains("token_policies") && auth["token_policies"].is_array()) {
    for (const auto& p : auth["token_policies"]) {
      if (p.is_string()) all.insert(p.get<std::string>());
    }
  }
  auth["policies"] = std::vector<std::string>(all.begin(), all.end());
  auth["identity_policies"] = std::vector<std::string>(own_identity.begin(), own_identity.end());
  r.auth = std::move(auth);
  r.auth_text.clear();
  return Status::Ok();
}

// Revokes what a lease stands for when it expires or is revoked: a token
// (with its subtree and cubbyhole) or, later, an engine's secret.
class CoreRevoker final : public expiration::Revoker {
 public:
  explicit CoreRevoker(Core& core) : core_(core) {}
  Status Revoke(const expiration::Lease& lease) override {
    if (lease.kind == expiration::Lease::Kind::kToken) {
      // The token store's revoke hook destroys each token's cubbyhole.
      Status s = core_.tokens().RevokeTree(lease.token_hmac);
      if (s.ok()) PublishLeaseRevoke(core_, lease);
      return s;
    }
    // Secrets engines with revocable leases (database) are called here.
    Status s = RevokeSecretLease(core_, lease);
    if (s.ok()) PublishLeaseRevoke(core_, lease);
    return s;
  }
  logical::SecretTtls CurrentTtls(const expiration::Lease& lease) override {
    return SecretLeaseTtls(core_, lease);
  }
  Status Renew(const expiration::Lease& renewed) override {
    return RenewSecretLease(core_, renewed);
  }

 private:
  Core& core_;
};

constexpr std::string_view kClusterKey = "core/cluster";
constexpr std::string_view kTokenMountTuneKey = "core/auth-token-tune";

// Paths answered while sealed (Vault's unauthenticated sys paths).
bool AllowedWhileSealed(std::string_view path) {
  return path == "sys/init" || path == "sys/unseal" || path == "sys/seal-status" ||
         path == "sys/health" || path == "sys/leader";
}

// The built-in mount that answers `path`: its type, as Vault names it, and
// its mount point; both empty for a routed mount.
struct BuiltinMount {
  std::string_view type;
  std::string_view path;
};
BuiltinMount BuiltinMountOf(std::string_view path) {
  if (path == "sys" || path.starts_with("sys/")) return {"system", "sys/"};
  if (path.starts_with("auth/token/")) return {"token", "auth/token/"};
  if (path.starts_with("identity/")) return {"identity", "identity/"};
  if (path == "cubbyhole" || path.starts_with("cubbyhole/")) return {"cubbyhole", "cubbyhole/"};
  return {};
}

// Only secrets engines take scans (those whose HandlesScan says so): no
// built-in mount's path and no auth method's does.
bool ScanMayReachEngine(std::string_view path) {
  return BuiltinMountOf(path).type.empty() && !path.starts_with("auth/");
}

// Answers that need no storage and no token: given on the I/O thread.
bool IsInlinePath(std::string_view path) {
  return path == "sys/health" || path == "sys/seal-status" || path == "sys/leader";
}

// Reads served by engines whose reads have no side effects (unlike, say,
// dynamic credentials, where a read creates a user). Wrapping mints a token.
bool ChangesNothing(const logical::Request& request, const audit::MountInfo& mount) {
  // A read of cubbyhole/response with a wrapping token is the older unwrap:
  // it spends the token, so its entry is written first, as a write's is.
  if (mount.type == "cubbyhole" && request.path.starts_with("cubbyhole/response")) return false;
  return logical::IsReadOperation(request.operation) && request.wrap_ttl.empty() &&
         (mount.type == "kv" || mount.type == "cubbyhole" || mount.type == "system" ||
          mount.type == "token");
}

// 500 without detail for the client; the server log names the device.
Status AuditFailure() { return Internal("audit: no device could record the request"); }

logical::Response Finish(Result<logical::Response> result) {
  if (!result) return http::ResponseFor(result.error());
  logical::Response& r = *result;
  bool empty = r.data.is_null() && r.data_text.empty() && r.auth.is_null() && r.auth_text.empty() &&
               r.wrap_info.is_null() && r.warnings.is_null() && !r.raw && r.lease_id.empty();
  if (empty && r.http_status == 200 && !r.stream) r.http_status = 204;
  return std::move(r);
}

}  // namespace

Core::Core(CoreOptions options)
    : physical_(std::move(options.physical)),
      clock_(options.clock),
      prometheus_metrics_(options.prometheus_metrics),
      configured_cluster_name_(std::move(options.cluster_name)),
      sanitized_config_(
          std::make_shared<const logical::Json>(std::move(options.sanitized_config))) {
  barrier_ = std::make_unique<barrier::AesGcmBarrier>(*physical_, *clock_);
  seal_ = std::make_unique<seal::ShamirSeal>(*physical_, *barrier_);
  token_view_ = std::make_unique<barrier::BarrierView>(*barrier_, "sys/token/");
  tokens_ = std::make_unique<token::TokenStore>(
      *token_view_, *clock_, token::Options{options.default_lease_ttl, options.max_lease_ttl});
  router_ = std::make_unique<router::Router>(*barrier_, *clock_);
  router_->SetPasswordGenerator(
      [this](std::string_view policy) { return GeneratePolicyPassword(*this, policy); });
  // Cubbyhole is built in (one per server, like sys/): not in the mount table.
  cubbyhole_view_ = std::make_unique<barrier::BarrierView>(*barrier_, "cubbyhole/");
  cubbyhole_ = std::make_unique<engines::cubbyhole::CubbyholeBackend>(*cubbyhole_view_);
  quotas_view_ = std::make_unique<barrier::BarrierView>(*barrier_, "sys/quotas/");
  quotas_ = std::make_unique<RateLimiter>(*quotas_view_, *clock_);
  policy_view_ = std::make_unique<barrier::BarrierView>(*barrier_, "sys/policy/");
  policies_ = std::make_unique<policy::PolicyStore>(*policy_view_, 1024, *clock_);
  policy_backend_ = std::make_unique<policy::PolicyBackend>(*policies_, *clock_);
  revoker_ = std::make_unique<CoreRevoker>(*this);
  expire_view_ = std::make_unique<barrier::BarrierView>(*barrier_, "sys/expire/");
  expiration::Options lease_options;
  lease_options.default_lease_ttl = options.default_lease_ttl;
  lease_options.max_lease_ttl = options.max_lease_ttl;
  expiration_ = std::make_unique<expiration::ExpirationManager>(*expire_view_, *clock_, *revoker_,
                                                                lease_options);
  tokens_->AttachExpiration(expiration_.get(), {barrier_.get(), "sys/token/", "sys/expire/"});
  tokens_->SetRevokeHook([this](std::string_view hmac) { return cubbyhole_->Destroy(hmac); });
  // A login token renews only while the role or user it came from exists,
  // and on its terms as they are now, as Vault's auth methods decide at
  // renewal. A mount that is gone has revoked its tokens already.
  tokens_->SetLoginRenewalCheck([this](const token::TokenEntry& entry,
                                       const std::vector<std::string>* peer_certificates)
                                    -> Result<std::optional<token::LoginTerms>> {
    auto match = router_->Route(entry.path);
    if (!match) return std::optional<token::LoginTerms>();
    const logical::LoginRenewalRequest request{&entry.meta, &entry.policies, &entry.internal,
                                               peer_certificates};
    ASSIGN_OR_RETURN(auto renewal, match->mount->engine->CheckLoginRenewal(request));
    if (!renewal) return std::optional<token::LoginTerms>();
    return std::optional<token::LoginTerms>(logins_->RenewalTerms(match->mount->entry, *renewal));
  });
  leases_backend_ = std::make_unique<expiration::LeasesBackend>(
      *expiration_,
      [this](std::string_view token_hmac) {
        // A lookup that fails says nothing: the lease is kept.
        auto entry = tokens_->LookupByHmac(token_hmac);
        return !entry.has_value() || *entry != nullptr;
      },
      [this](std::string_view lease_id) -> std::string {
        if (lease_id.starts_with("auth/token/")) return std::string(internal::kTokenAuthAccessor);
        auto match = router_->Route(lease_id);
        return match ? match->mount->entry.accessor : std::string();
      });
  token_backend_ = std::make_unique<token::TokenBackend>(*tokens_, [this](std::string_view name) {
    // A failed look-up says nothing: no warning.
    auto policy = policies_->Get(name);
    return !policy.has_value() || *policy != nullptr;
  });
  authorizer_ = std::make_unique<Authorizer>(*tokens_, *policies_);
  wrapper_ = std::make_unique<Wrapper>(*tokens_, *cubbyhole_, *clock_);
  audit_ = std::make_unique<audit::Broker>(*barrier_, *clock_);
  pool_ = std::make_unique<ThreadPool>(options.worker_threads);
  logins_ =
      std::make_unique<Logins>(*tokens_, *clock_, options.default_lease_ttl, options.max_lease_ttl);
  identity_view_ = std::make_unique<barrier::BarrierView>(*barrier_, "sys/identity/");
  identity_ = std::make_unique<identity::IdentityStore>(*identity_view_, *clock_);
  mfa_ = std::make_unique<identity::mfa::MfaStore>(*identity_view_, *clock_);
  identity_backend_ = std::make_unique<identity::IdentityBackend>(*identity_, *mfa_);
  oidc_tokens_ = std::make_unique<identity::OidcTokens>(
      *identity_view_, *identity_, *clock_, [this]() -> std::string {
        const std::shared_ptr<const logical::Json> config = sanitized_config();
        if (!config || !config->is_object()) return "";
        auto it = config->find("api_addr");
        return it != config->end() && it->is_string() ? it->get<std::string>() : "";
      });
  identity_backend_->SetOidc(oidc_tokens_.get());
  identity_->SetMountLookup([this](std::string_view accessor) -> std::optional<identity::MountRef> {
    // The token auth method, outside the router, takes aliases too (those
    // of create/:role's entity_alias), as in Vault.
    if (accessor == internal::kTokenAuthAccessor) return identity::MountRef{"auth/token/", "token"};
    const auto snap = router_->snapshot();  // held while the loop runs
    for (const auto& m : snap->mounts) {
      if (m->entry.accessor == accessor) return identity::MountRef{m->entry.path, m->entry.type};
    }
    return std::nullopt;
  });
  token_backend_->SetEntityForAlias([this](std::string_view alias_name) {
    return identity_->EntityForLogin(internal::kTokenAuthAccessor,
                                     identity::MountRef{"auth/token/", "token"}, alias_name);
  });
  authorizer_->SetIdentity(identity_.get());
  logins_->AttachIdentity(identity_.get(), mfa_.get());
  events_ = std::make_unique<EventsService>(*this);
  router_->SetEventBus(&events_->bus());
  logins_->SetEventBus(&events_->bus());
}

Core::~Core() {
  Shutdown();
  events_->Shutdown();
  tokens_->StopTidy();  // it revokes through the expiration manager
  expiration_->Stop();
  // Nothing encrypts any more: the count goes to storage before it closes.
  if (Status st = barrier_->SaveEncryptionCount(); !st.ok()) {
    Log(LogModule::kBarrier)
        .warn("saving the encryption count at shutdown failed: {}", st.ToString());
  }
}

Result<std::unique_ptr<Core>> Core::Create(CoreOptions options) {
  if (!options.physical) return Err(InvalidArgument("core needs a storage backend"));
  std::unique_ptr<Core> core(new Core(std::move(options)));
  ASSIGN_OR_RETURN(bool initialized, core->seal_->Initialized());
  core->initialized_ = initialized;
  return core;
}

void Core::Shutdown() {
  if (pool_) pool_->Shutdown();
}

Result<bool> Core::Initialized() {
  if (initialized_.load()) return true;
  ASSIGN_OR_RETURN(bool initialized, seal_->Initialized());
  if (initialized) initialized_ = true;
  return initialized;
}

std::string Core::cluster_name() const {
  std::scoped_lock lock(cluster_mu_);
  return cluster_name_;
}

std::string Core::cluster_id() const {
  std::scoped_lock lock(cluster_mu_);
  return cluster_id_;
}

Result<InitResult> Core::Initialize(int shares, int threshold, bool stay_unsealed,
                                    std::string_view root_token_id) {
  std::unique_lock lock(state_mu_);
  ASSIGN_OR_RETURN(bool initialized, seal_->Initialized());
  if (initialized) return Err(AlreadyExists("Coffer is already initialized"));
  ASSIGN_OR_RETURN(seal::InitResult generated, seal_->Initialize(shares, threshold));

  // Unseal with the fresh shares to create the root token and cluster
  // identity, as the operator would.
  for (int i = 0; i < threshold; ++i) {
    ASSIGN_OR_RETURN(seal::UnsealProgress progress,
                     seal_->SubmitShare(generated.shares[static_cast<std::size_t>(i)]));
    (void)progress;
  }
  if (seal_->Progress().sealed) return Err(Internal("unseal after init did not complete"));
  {
    ASSIGN_OR_RETURN(std::string id, crypto::NewUuid());
    std::string name = configured_cluster_name_.empty() ? "coffer-cluster-" + id.substr(0, 8)
                                                        : configured_cluster_name_;
    logical::Json cluster{{"name", std::move(name)}, {"id", id}};
    TRY(barrier_->Put(kClusterKey, cluster.dump()));
  }
  TRY(PostUnseal());
  ASSIGN_OR_RETURN(SecretBytes root, tokens_->CreateRoot(root_token_id));
  initialized_ = true;
  if (!stay_unsealed) {
    PreSeal();
    TRY(seal_->Seal());
  }
  return InitResult{std::move(generated.shares), std::move(root)};
}

Result<seal::UnsealProgress> Core::Unseal(const SecretBytes& key) {
  std::unique_lock lock(state_mu_);
  if (!sealed_.load()) return seal_->Progress();
  ASSIGN_OR_RETURN(seal::UnsealProgress progress, seal_->SubmitShare(key));
  if (!progress.sealed) {
    Status s = PostUnseal();
    if (!s.ok()) {
      Log(LogModule::kCore).error("post-unseal setup failed, sealing again: {}", s.ToString());
      PreSeal();
      seal_->Seal().IgnoreError();
      return Err(Internal("post-unseal setup failed"));
    }
    Log(LogModule::kCore).info("unsealed");
    events_->PublishSecurity("coffer/unseal", {});
  }
  return progress;
}

Status Core::PostUnseal() {
  ASSIGN_OR_RETURN(auto cluster, barrier_->Get(kClusterKey));
  if (cluster) {
    logical::Json j = logical::Json::parse(cluster->value, nullptr, false);
    if (!j.is_object()) return Internal("the stored cluster identity is corrupt");
    if (!configured_cluster_name_.empty() && j.value("name", "") != configured_cluster_name_) {
      // The config names the cluster: that name is stored, as Vault does.
      j["name"] = configured_cluster_name_;
      TRY(barrier_->Put(kClusterKey, j.dump()));
    }
    std::scoped_lock lock(cluster_mu_);
    cluster_name_ = j.value("name", "");
    cluster_id_ = j.value("id", "");
  }
  TRY(RecordRunningVersion(*barrier_, *clock_));
  TRY(policies_->Load());
  TRY(tokens_->Load());
  TRY(LoadTokenMountTune());
  // Engines first: expiry after a restart calls them to revoke.
  TRY(router_->Load());
  TRY(expiration_->Load());
  TRY(audit_->Load());
  TRY(identity_->Load());
  TRY(mfa_->Load());
  TRY(events_->Load());
  TRY(quotas_->Load());
  QuotasChanged();
  TRY(cors_.Load(*barrier_));
  TRY(audited_headers_.Load(*barrier_));
  sealed_ = false;
  return Status::Ok();
}

void Core::PreSeal() {
  sealed_ = true;
  quotas_active_ = false;
  quotas_->Clear();
  tokens_->StopTidy();  // it revokes through the expiration manager
  expiration_->Stop();
  events_->Unload();
  audit_->Unload();
  mfa_->Unload();
  identity_->Unload();
  router_->Unload();
  tokens_->Unload();
  // What was read from storage goes with the seal; PostUnseal reads it again.
  ApplyTokenMountTtls(logical::Json::object());
  std::atomic_store(&token_mount_tune_,
                    std::make_shared<const logical::Json>(logical::Json::object()));
}

Status Core::Seal() {
  std::unique_lock lock(state_mu_);
  events_->PublishSecurity("coffer/seal", {});  // queued before the streams end
  PreSeal();
  TRY(seal_->Seal());
  Log(LogModule::kCore).info("sealed");
  return Status::Ok();
}

namespace {

// Reads of secrets touch storage only through the read path (the embedded
// store's read connections and page cache, microseconds), so they run on the
// I/O thread: a hand-off to the worker pool and back costs more than the read
// itself. Anything that may write and wait for a group commit goes to the
// pool: writes, sys/ and auth/ paths (lease and token bookkeeping), wrapped
// responses (they mint a token), and scans (a whole subtree). A read with a
// use-limited token still records the use inline.
bool IsInlineRead(const logical::Request& request, const router::Router& router) {
  bool read = request.operation == logical::Operation::kRead ||
              request.operation == logical::Operation::kList ||
              request.operation == logical::Operation::kHead;
  if (!read || !request.wrap_ttl.empty() || request.path.starts_with("sys/") ||
      request.path.starts_with("auth/")) {
    return false;
  }
  // A read of dynamic credentials creates a database user and a lease.
  auto match = router.Route(request.path);
  return !match || match->mount->entry.type != "database";
}

}  // namespace

bool Core::EngineRunsInline(const logical::Request& request) const {
  // Only without audit devices: an audited write waits for its entry.
  if (!request.wrap_ttl.empty() || sealed_.load() || audit_->Enabled()) return false;
  if (request.operation != logical::Operation::kUpdate &&
      request.operation != logical::Operation::kCreate) {
    return false;
  }
  // A batch's work grows with its body: the pool's, so that one request
  // cannot hold a network thread (and every connection on it) for seconds.
  if (request.data.is_object() && request.data.contains("batch_input")) return false;
  return AskEngine(request, &logical::Backend::RunsInline);
}

bool Core::AskEngine(const logical::Request& request,
                     bool (logical::Backend::*question)(const logical::Request&) const) const {
  // The core's own paths are not routed to a secrets engine.
  if (request.path.starts_with("sys/") || request.path.starts_with("auth/") ||
      request.path.starts_with("cubbyhole/")) {
    return false;
  }
  auto match = router_->Route(request.path);
  if (!match) return false;
  logical::Request probe;  // what the engine will see, without the body
  probe.operation = request.operation;
  probe.path = request.path;
  probe.relative_path = match->relative_path;
  probe.mount_point = match->mount->entry.path;
  return (match->mount->engine.get()->*question)(probe);
}

bool Core::RunsInlineInMemory(const logical::Request& request) const {
  // Audited requests wait for their entries; sealed ones are refused anyway.
  if (physical_->Type() != "inmem" || audit_->Enabled() || sealed_.load()) return false;
  // Work that grows with a whole tree stays on the pool: revoking a token
  // with its descendants, tidying.
  const std::string_view path = request.path;
  if (path.find("revoke") != std::string_view::npos ||
      path.find("tidy") != std::string_view::npos) {
    return false;
  }
  if (path.starts_with("auth/token/")) return true;  // the token store, not routed
  auto match = router_->Route(request.path);
  if (!match) return false;
  const std::string& type = match->mount->entry.type;
  return type == "token" || type == "kv" || type == "cubbyhole" || type == "approle";
}

bool Core::RunsOnFiber(const logical::Request& request) const {
  if (physical_->Type() != "local" || audit_->Enabled() || sealed_.load() ||
      !request.wrap_ttl.empty()) {
    return false;
  }
  // Every request on a fiber holds state_mu_ shared while it is suspended:
  // a seal waiting for it exclusively does not stop other requests on the
  // thread from taking it shared too (std::shared_mutex is glibc's rwlock,
  // which prefers readers), so the thread keeps running and resumes the
  // fiber. (A writer-preferring lock would deadlock here.)
  const std::string_view path = request.path;
  // The token store's create paths: the store suspends only around the
  // write of a new token with its lease (TokenStore::StoreWithLease), where
  // it holds no lock another request on this thread could wait for.
  if (request.operation == logical::Operation::kUpdate ||
      request.operation == logical::Operation::kCreate) {
    if (path == "auth/token/create" || path == "auth/token/create-orphan" ||
        path.starts_with("auth/token/create/")) {
      return true;
    }
  }
  // An engine's writes that say so (logical::Backend::SuspendsForCommit):
  // KV v2's data/ writes. Reads, lists and deletes are not routed for it.
  if (request.operation != logical::Operation::kUpdate &&
      request.operation != logical::Operation::kCreate &&
      request.operation != logical::Operation::kPatch) {
    return false;
  }
  return AskEngine(request, &logical::Backend::SuspendsForCommit);
}

// Set while an I/O thread runs an inline read with audit devices enabled:
// the pipeline then hands the read's audit entries to the devices without
// waiting and leaves the ticket here, so the I/O thread can serve other
// connections while the entries are written.
static thread_local std::shared_ptr<audit::Ticket>* deferred_audit = nullptr;

void Core::Handle(logical::Request request, std::function<void(logical::Response)> done) {
  // Every answer is counted (request_metrics.h) just before it leaves.
  const auto started = std::chrono::steady_clock::now();
  const metrics::Method method = MetricsMethod(request.operation);
  if (IsInlineRead(request, *router_) && audit_->Enabled() && !sealed_.load()) {
    std::shared_ptr<audit::Ticket> ticket;
    deferred_audit = &ticket;
    logical::Response response = HandleRequest(request);
    deferred_audit = nullptr;
    const metrics::Family family = MetricsFamily(request, response, *router_);
    if (!ticket) {
      CountRequest(family, method, response, started);
      done(std::move(response));
      return;
    }
    // The answer leaves only once a device recorded it.
    ticket->Then([done = std::move(done), response = std::move(response), family, method,
                  started](Status s) mutable {
      logical::Response answer = s.ok() ? std::move(response) : http::ResponseFor(AuditFailure());
      CountRequest(family, method, answer, started);
      done(std::move(answer));
    });
    return;
  }
  const bool inline_path =
      IsInlinePath(request.path) && request.operation != logical::Operation::kHelp;
  if (inline_path || IsInlineRead(request, *router_) || EngineRunsInline(request) ||
      RunsInlineInMemory(request) || (sealed_.load() && !AllowedWhileSealed(request.path))) {
    Answer(request, done, method, started);
    return;
  }
  if (RunsOnFiber(request)) {
    LoopTurn* loop = LoopTurn::Current();
    Fiber::Post post = loop != nullptr ? loop->Poster() : Fiber::Post();
    if (post) {
      Fiber::Start(std::move(post),
                   [this, request = std::move(request), done = std::move(done), method,
                    started]() mutable { Answer(request, done, method, started); });
      return;
    }
  }
  auto shared_done = std::make_shared<std::function<void(logical::Response)>>(std::move(done));
  auto shared_req = std::make_shared<logical::Request>(std::move(request));
  bool queued = pool_->Post([this, shared_req, shared_done, method, started] {
    Answer(*shared_req, *shared_done, method, started);
  });
  if (!queued) {
    logical::Response response = http::ResponseFor(Unavailable("server is shutting down"));
    CountRequest(MetricsFamily(*shared_req, response, *router_), method, response, started);
    (*shared_done)(std::move(response));
  }
}

void Core::Answer(logical::Request& request, const std::function<void(logical::Response)>& done,
                  metrics::Method method, std::chrono::steady_clock::time_point started) {
  logical::Response response = HandleRequest(request);
  CountRequest(MetricsFamily(request, response, *router_), method, response, started);
  done(std::move(response));
}

std::optional<logical::Response> Core::Preflight(std::string_view path,
                                                 std::string_view remote_address,
                                                 std::map<std::string, std::string>* headers) {
  if (sealed_.load()) return std::nullopt;
  RateLimiter::Verdict v = quotas_->Check(path, remote_address);
  if (headers != nullptr) headers->merge(v.headers);
  return std::move(v.refusal);
}

namespace {
// A refusal's message (logical::ErrorResponse's first error), the error of
// its audit entry.
std::string RefusalError(const logical::Response& refusal) {
  if (refusal.raw && refusal.raw->contains("errors")) {
    const logical::Json& errors = refusal.raw->at("errors");
    if (!errors.empty() && errors[0].is_string()) return errors[0].get<std::string>();
  }
  return "rate limit quota exceeded";
}
}  // namespace

void Core::PreflightRefused(logical::Request request, const logical::Response& refusal) {
  if (!quotas_->AuditLogging()) return;
  if (refusal_audits_queued_.fetch_add(1) >= kMaxQueuedRefusalAudits) {
    refusal_audits_queued_.fetch_sub(1);
    metrics::Telemetry::Global().RecordRateLimitedAuditDropped();
    const std::uint64_t dropped = refusal_audits_dropped_.fetch_add(1) + 1;
    if (dropped % 1000 == 1) {
      Log(LogModule::kAudit)
          .warn(
              "{} entries of rate-limited requests dropped so far: the audit devices write "
              "slower than requests are refused",
              dropped);
    }
    return;
  }
  auto shared = std::make_shared<const logical::Request>(std::move(request));
  bool queued = pool_->Post([this, shared, error = RefusalError(refusal)] {
    {
      std::shared_lock lock(state_mu_);
      if (!sealed_.load()) AuditRateLimited(*shared, error);
    }
    refusal_audits_queued_.fetch_sub(1);
  });
  if (!queued) {
    refusal_audits_queued_.fetch_sub(1);
    Log(LogModule::kAudit).warn("a request refused by a rate limit quota was not logged");
  }
}

void Core::AuditRateLimited(const logical::Request& request, std::string_view error) {
  if (!audit_->Enabled()) return;
  Status s = audit_->LogRequest(request, AuditMount(request), error);
  if (!s.ok()) {
    Log(LogModule::kAudit)
        .warn("logging a request refused by a rate limit quota failed: {}", s.ToString());
  }
}

logical::Response Core::HandleRequest(logical::Request& request) {
  // As in Vault, the query string is the request's data for reads, lists and
  // deletes (a read's body is ignored), and never for writes: what the ACL's
  // parameter rules and the audit entry see is what the handler uses.
  const bool query_is_data = logical::IsReadOperation(request.operation);
  if ((query_is_data && !request.query.empty()) ||
      (request.operation == logical::Operation::kDelete && request.data.empty())) {
    request.data = logical::Json::object();
    for (const auto& [k, v] : request.query) request.data[k] = v;
  }
  if (request.operation == logical::Operation::kScan && !ScanMayReachEngine(request.path)) {
    return http::ResponseFor(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  if (request.operation == logical::Operation::kHelp) {
    // Help on any path, the lifecycle ones included, runs nothing but the
    // token check, the audit and the help itself; it needs the mounts, so
    // not while sealed (as Vault).
    std::shared_lock lock(state_mu_);
    if (sealed_.load()) return http::ResponseFor(::coffer::Sealed("Coffer is sealed"));
    return Finish(Dispatch(request));
  }
  if (IsInlinePath(request.path)) {
    // Health and status read only atomics and the seal's own state: no state
    // lock, so an unseal in progress never stalls a load balancer's probe.
    return Finish(SystemBackend(*this).Handle(request));
  }
  if (request.path == "sys/seal") {
    // Sealing takes the state lock exclusively, so it cannot run inside the
    // shared section: authorise first, then seal.
    Result<logical::Response> checked = [&]() -> Result<logical::Response> {
      // PUT/POST only, as in Vault: a policy granting read or delete (plus
      // sudo) on sys/seal does not seal.
      if (request.operation != logical::Operation::kUpdate &&
          request.operation != logical::Operation::kCreate) {
        return Err(Status(Code::kMethodNotAllowed, "sys/seal accepts only PUT and POST"));
      }
      std::shared_lock lock(state_mu_);
      if (sealed_.load()) return Err(::coffer::Sealed("Coffer is sealed"));
      TRY(SystemBackend(*this).Authorize(request));
      if (audit_->Enabled()) {
        // Sealing closes the devices: only the request entry is written.
        if (!audit_->LogRequest(request, AuditMount(request), "").ok()) return Err(AuditFailure());
      }
      // A token on its last use is revoked now: after the seal there is no
      // token store to do it.
      if (request.auth && request.auth->last_use) {
        TRY(tokens_->FinishLastUse(request.auth->token_hmac));
      }
      return logical::Response{};
    }();
    if (!checked) return http::ResponseFor(checked.error());
    Status s = Seal();
    if (!s.ok()) return http::ResponseFor(s);
    return Finish(logical::Response{});
  }
  if (SystemBackend::IsGenerateRootPath(request.path)) {
    // No token and no audit, like sys/rekey; the new root token is made
    // under the state lock, so a seal cannot remove the token store
    // underneath.
    std::shared_lock lock(state_mu_);
    if (sealed_.load()) return http::ResponseFor(::coffer::Sealed("Coffer is sealed"));
    return Finish(SystemBackend(*this).GenerateRoot(request));
  }
  if (request.path == "sys/unseal" || request.path == "sys/init" ||
      SystemBackend::IsRekeyPath(request.path)) {
    // These take the state lock themselves.
    return Finish(SystemBackend(*this).HandleLifecycle(request));
  }
  std::shared_lock lock(state_mu_);
  if (sealed_.load() && !AllowedWhileSealed(request.path)) {
    return http::ResponseFor(::coffer::Sealed("Coffer is sealed"));
  }
  return Finish(Dispatch(request));
}

std::optional<logical::Response> Core::CheckRoleQuota(logical::Request& request) {
  // The preflight left requests to auth mounts with role quotas to this
  // point, where the body is parsed; a login's role is known before the
  // method hashes a password.
  auto match = router_->Route(request.path);
  if (!match || !quotas_->HasRoleQuotas(match->mount->entry.path)) return std::nullopt;
  std::string role;
  if (Logins::MatchLogin(*router_, request.path)) {
    // The login stage sets these too; the method reads them to find the role.
    request.mount_point = match->mount->entry.path;
    request.relative_path = match->relative_path;
    role = match->mount->engine->LoginRole(request);
  }
  RateLimiter::Verdict v = quotas_->CheckLogin(request.path, role, request.remote_address);
  return std::move(v.refusal);
}

Status Core::Admit(logical::Request& request) {
  if (SystemBackend::IsUnauthenticated(request.path) || IsUnauthenticatedIdentity(request.path)) {
    return Status::Ok();
  }
  if (request.operation == logical::Operation::kHelp) {
    // As Vault: help takes a valid token and no capability on the path, and
    // no token where the path itself needs none (a login; sys/health above).
    if (Logins::MatchLogin(*router_, request.path)) return Status::Ok();
    return authorizer_->Authenticate(request);
  }
  // A bad X-Vault-Wrap-TTL is refused before anything happens.
  if (!request.wrap_ttl.empty()) {
    ASSIGN_OR_RETURN(std::chrono::seconds ttl, Wrapper::ParseWrapTtl(request.wrap_ttl));
    (void)ttl;
  }
  // Logins (an auth method's unauthenticated paths) need no token.
  if (Logins::MatchLogin(*router_, request.path)) return Status::Ok();
  if (request.path == "sys/mfa/validate") return Status::Ok();  // the second half of a login
  TRY(ResolveWriteOperation(request));
  if (request.path.starts_with("sys/internal/ui/mounts")) {
    if (SystemBackend::IsAnonymousMountListing(request)) return Status::Ok();
    // Any valid token; the answer is filtered by the caller's ACL.
    return authorizer_->Authenticate(request);
  }
  if (request.path == "sys/wrapping/unwrap" || request.path == "sys/wrapping/rewrap") {
    // As Vault, the wrapping token (the body's "token", else the client
    // token) is checked before the caller's: an unknown, used or expired
    // one is a 400, which clients read as "nothing to unwrap" (Spring
    // Vault's unwrap answers null), not a 403.
    TRY(CheckWrappingTokenOf(request));
  }
  return SystemBackend(*this).Authorize(request);
}

Status Core::CheckWrappingTokenOf(const logical::Request& request) {
  if (request.data.is_object()) {
    auto it = request.data.find("token");
    if (it != request.data.end() && !it->is_null()) {
      if (!it->is_string()) return InvalidArgument("could not decode token in request body");
      if (it->get_ref<const std::string&>().empty()) {
        return InvalidArgument("empty token in request body");
      }
      return wrapper_->Check(it->get_ref<const std::string&>());
    }
  }
  return wrapper_->Check(request.client_token);
}

Result<logical::Response> Core::Dispatch(logical::Request& request) {
  // Audit (fail closed): the request entry is written after admission and
  // before anything is done; the response entry before the answer leaves.
  // When no device could write an entry, the request fails with 500.
  if (quotas_active_.load(std::memory_order_relaxed) && request.path.starts_with("auth/")) {
    if (auto refusal = CheckRoleQuota(request)) {
      if (quotas_->AuditLogging()) AuditRateLimited(request, RefusalError(*refusal));
      return std::move(*refusal);
    }
  }
  Status admitted = Admit(request);
  const bool audited = audit_->Enabled();
  audit::MountInfo mount;
  if (audited) mount = AuditMount(request);
  if (!admitted.ok()) {
    if (admitted.code() == Code::kPermissionDenied) PublishDenied(*events_, request);
    if (audited) {
      if (!audit_->LogRequest(request, mount, admitted.message()).ok()) {
        return Err(AuditFailure());
      }
      if (!audit_->LogResponse(request, mount, nullptr, admitted.message()).ok()) {
        return Err(AuditFailure());
      }
    }
    return Err(std::move(admitted));
  }
  // A token on its last use is revoked once the request is done, whatever
  // its outcome.
  struct LastUse {
    Core& core;
    const logical::Request& request;
    ~LastUse() {
      if (request.auth && request.auth->last_use) {
        Status s = core.tokens().FinishLastUse(request.auth->token_hmac);
        if (!s.ok())
          Log(LogModule::kCore).warn("revoking a used-up token failed: {}", s.ToString());
      }
    }
  } last_use{*this, request};

  if (audited && ChangesNothing(request, mount)) {
    // A read changes nothing, so its request entry can wait for the
    // response: both go out in one write, and the answer leaves only after
    // it (or fails with 500 without a byte of the secret). The entry is
    // rendered from the answer here, and the audit parses an answer sent
    // as text (ChangesNothing excludes wrapping).
    request.data_text_ok = request.answer_on_wire;
    auto started = clock_->Wall();
    Result<logical::Response> result = Execute(request);
    if (deferred_audit != nullptr) {
      *deferred_audit = audit_->LogRequestAndResponseAsync(
          request, mount, started, result ? &*result : nullptr,
          result ? std::string_view() : std::string_view(result.error().message()));
      return result;
    }
    Status s = result ? audit_->LogRequestAndResponse(request, mount, started, &*result, "")
                      : audit_->LogRequestAndResponse(request, mount, started, nullptr,
                                                      result.error().message());
    if (!s.ok()) return Err(AuditFailure());
    return result;
  }
  if (audited && !audit_->LogRequest(request, mount, "").ok()) return Err(AuditFailure());
  // Nothing but the HTTP layer reads this answer: it may come as text.
  request.data_text_ok = request.answer_on_wire && !audited && request.wrap_ttl.empty();
  Result<logical::Response> result = Execute(request);
  if (audited) {
    Status s = result ? audit_->LogResponse(request, mount, &*result, "")
                      : audit_->LogResponse(request, mount, nullptr, result.error().message());
    if (!s.ok()) return Err(AuditFailure());
  }
  return result;
}

Result<logical::Response> Core::Help(const logical::Request& request) const {
  const std::string_view p = request.path;
  // The path under `mount` ("sys/"), which may be named without its '/'.
  auto under = [p](std::string_view mount) -> std::optional<std::string_view> {
    if (p == mount.substr(0, mount.size() - 1)) return std::string_view();
    if (p.starts_with(mount)) return p.substr(mount.size());
    return std::nullopt;
  };
  if (auto rel = under("sys/")) return logical::RenderHelp(SystemBackend::Help(), *rel);
  if (auto rel = under("auth/token/")) return logical::RenderHelp(token_backend_->Help(), *rel);
  if (auto rel = under("identity/")) return logical::RenderHelp(identity_backend_->Help(), *rel);
  if (auto rel = under("cubbyhole/")) return logical::RenderHelp(cubbyhole_->Help(), *rel);
  auto match = router_->Route(p);
  if (!match) {
    return Err(NotFound("no handler for route \"" + request.path + "\". route entry not found."));
  }
  return logical::RenderHelp(match->mount->engine->Help(), match->relative_path);
}

Result<logical::Response> Core::Execute(logical::Request& request) {
  if (request.operation == logical::Operation::kHelp) return Help(request);
  SystemBackend sys(*this);
  // Answers without a token are never wrapped: a caller without one may
  // not create the wrapping token.
  if (SystemBackend::IsUnauthenticated(request.path) ||
      SystemBackend::IsAnonymousMountListing(request)) {
    return sys.Handle(request);
  }
  if (IsUnauthenticatedIdentity(request.path)) {
    // The identity token issuer's discovery document and public keys.
    request.mount_point = "identity/";
    request.relative_path = request.path.substr(9);
    return identity_backend_->HandleRequest(request);
  }
  Result<logical::Response> result;
  if (request.path == "sys/mfa/validate") {
    result = logins_->ValidateMfa(request);
  } else if (request.path.starts_with("identity/")) {
    request.mount_point = "identity/";
    request.relative_path = request.path.substr(9);
    result = identity_backend_->HandleRequest(request);
  } else if (request.path == "sys" || request.path.starts_with("sys/")) {
    std::string_view rel = std::string_view(request.path).substr(4);
    if (expiration::LeasesBackend::Handles(rel)) {
      request.mount_point = "sys/";
      request.relative_path = std::string(rel);
      // A renewal asks the issuing engine first (CoreRevoker::Renew).
      result = leases_backend_->HandleRequest(request);
    } else {
      result = sys.Handle(request);
    }
  } else if (request.path.starts_with("auth/token/")) {
    request.mount_point = "auth/token/";
    request.relative_path = request.path.substr(request.mount_point.size());
    result = token_backend_->HandleRequest(request);
    if (result) TRY(AddIdentityPolicies(*identity_, *result));
    if (result && result->data.is_object() && request.path.starts_with("auth/token/lookup")) {
      std::string entity = result->data.value("entity_id", "");
      // As Vault: only when the entity's groups give any.
      if (!entity.empty()) {
        auto policies = identity_->IdentityPolicies(entity);
        if (!policies.empty()) result->data["identity_policies"] = std::move(policies);
      }
    }
  } else if (request.path == "cubbyhole/response" &&
             request.operation == logical::Operation::kRead && request.auth &&
             IsWrappingPolicySet(request.auth->policies)) {
    // Only a wrapping token gets here with that one policy (Authorizer).
    result = wrapper_->UnwrapFromCubbyhole(request.client_token);
  } else if (auto login = Logins::MatchLogin(*router_, request.path)) {
    // The method checks the credentials; the token is minted here, and
    // only for a successful login.
    result = logins_->Login(request, *login);
    if (result) TRY(AddIdentityPolicies(*identity_, *result));
  } else {
    result = RouteToEngine(request);
  }
  if (!result) return result;
  // The envelope names the answering mount's type, the built-in ones too.
  if (result->mount_type.empty()) result->mount_type = BuiltinMountOf(request.path).type;
  if (logical::IsListOperation(request.operation) && request.auth && request.auth->may_see_listed) {
    TRY(FilterListing(request, *result));
  }
  if (request.operation == logical::Operation::kList) TRY(PageListing(request, *result));
  TRY(MaybeWrap(request, *result));
  return result;
}

Status Core::FilterListing(logical::Request& request, logical::Response& response) {
  const auto& may_see = request.auth->may_see_listed;
  for (;;) {
    logical::Json& data = response.data;
    if (!data.is_object()) return Status::Ok();
    auto keys = data.find("keys");
    if (keys == data.end() || !keys->is_array()) return Status::Ok();
    logical::Json kept = logical::Json::array();
    for (const logical::Json& key : *keys) {
      if (!key.is_string()) continue;
      ASSIGN_OR_RETURN(bool visible, may_see(key.get_ref<const std::string&>()));
      if (visible) kept.push_back(key);
    }
    auto next = data.find("next_after");
    const bool more = next != data.end() && next->is_string();
    if (kept.empty() && more && ScanMayReachEngine(request.path)) {
      // Every name of this page is hidden: the next page, from the engine.
      const std::string after = next->get<std::string>();
      request.query["after"] = after;
      if (request.data.is_object()) request.data["after"] = after;
      ASSIGN_OR_RETURN(response, RouteToEngine(request));
      continue;
    }
    if (kept.empty()) {
      response = logical::NotFoundResponse();
      return Status::Ok();
    }
    if (more) *next = kept.back();
    KeepKeyInfo(data, kept);
    *keys = std::move(kept);
    return Status::Ok();
  }
}

namespace {
// The audit keys a mount's config names (audit_non_hmac_request_keys, ...).
void ConfiguredKeys(const logical::Json& config, const char* name, std::set<std::string>& out) {
  auto it = config.find(name);
  if (it == config.end() || !it->is_array()) return;
  for (const auto& k : *it) {
    if (k.is_string()) out.insert(k.get<std::string>());
  }
}
}  // namespace

audit::MountInfo Core::AuditMount(const logical::Request& request) const {
  audit::MountInfo m;
  const std::string& p = request.path;
  if (const BuiltinMount builtin = BuiltinMountOf(p); !builtin.type.empty()) {
    m.type = builtin.type;
    m.path = builtin.path;
    if (builtin.type == "token") {
      const std::shared_ptr<const logical::Json> tune = token_mount_tune();
      if (auto it = tune->find("config"); it != tune->end() && it->is_object()) {
        ConfiguredKeys(*it, "audit_non_hmac_request_keys", m.non_hmac_request_keys);
        ConfiguredKeys(*it, "audit_non_hmac_response_keys", m.non_hmac_response_keys);
      }
    }
  } else if (auto match = router_->Route(p)) {
    const router::MountEntry& e = match->mount->entry;
    m.type = e.type;
    m.path = e.path;
    m.accessor = e.accessor;
    ConfiguredKeys(e.config, "audit_non_hmac_request_keys", m.non_hmac_request_keys);
    ConfiguredKeys(e.config, "audit_non_hmac_response_keys", m.non_hmac_response_keys);
  }
  return m;
}

void Core::ReopenAuditDevices() {
  std::shared_lock lock(state_mu_);
  if (sealed_.load()) return;
  audit_->Reopen().IgnoreError();
}

Status Core::ResolveWriteOperation(logical::Request& request) {
  // As in Vault, a write to something that does not exist yet needs the
  // "create" capability: the engine's existence check decides, and an engine
  // without one treats every write as an update. The system backend has none.
  if (request.operation != logical::Operation::kUpdate) return Status::Ok();
  if (request.path.starts_with("sys/")) return Status::Ok();
  logical::Request probe;
  probe.operation = request.operation;
  probe.path = request.path;
  // The probe borrows the body and query (swapped in, and back out below)
  // rather than copying them: a token creation's body alone is a dozen
  // allocations.
  struct Borrow {
    logical::Request& from;
    logical::Request& to;
    Borrow(logical::Request& f, logical::Request& t) : from(f), to(t) { Swap(); }
    ~Borrow() { Swap(); }
    void Swap() {
      std::swap(from.data, to.data);
      std::swap(from.query, to.query);
    }
  } borrow(request, probe);
  logical::Backend* engine = nullptr;
  if (request.path.starts_with("cubbyhole/")) {
    // A cubbyhole belongs to the calling token: an unknown token is left to
    // the ACL check, which refuses it.
    ASSIGN_OR_RETURN(auto entry, tokens_->Lookup(request.client_token));
    if (!entry) return Status::Ok();
    auto auth = std::make_shared<logical::Auth>();
    auth->token_hmac = entry->id_hmac;
    probe.auth = std::move(auth);
    probe.mount_point = "cubbyhole/";
    probe.relative_path = request.path.substr(probe.mount_point.size());
    engine = cubbyhole_.get();
  } else if (request.path.starts_with("auth/token/")) {
    probe.mount_point = "auth/token/";
    probe.relative_path = request.path.substr(probe.mount_point.size());
    engine = token_backend_.get();
  } else {
    auto match = router_->Route(request.path);
    if (!match) return Status::Ok();  // RouteToEngine answers 404 after the ACL
    probe.mount_point = match->mount->entry.path;
    probe.relative_path = match->relative_path;
    engine = match->mount->engine.get();
  }
  ASSIGN_OR_RETURN(bool exists, engine->ExistenceCheck(probe));
  if (!exists) request.operation = logical::Operation::kCreate;
  return Status::Ok();
}

Status Core::MaybeWrap(const logical::Request& request, logical::Response& response) {
  bool always = request.path == "sys/wrapping/wrap";
  if (request.wrap_ttl.empty() && !always) return Status::Ok();
  if (response.http_status >= 300) return Status::Ok();
  bool has_content = !response.data.is_null() || !response.data_text.empty() ||
                     !response.auth.is_null() || !response.auth_text.empty() || response.raw;
  if (!has_content) return Status::Ok();
  std::chrono::seconds ttl(300);  // sys/wrapping/wrap without a header: 5m, as Vault
  if (!request.wrap_ttl.empty()) {
    ASSIGN_OR_RETURN(ttl, Wrapper::ParseWrapTtl(request.wrap_ttl));
  }
  if (!response.data_text.empty()) {
    // Not given when wrapping (Dispatch); should an engine send it anyway,
    // the wrapper still gets the tree.
    response.data = ParseJson(response.data_text);
    if (response.data.is_discarded()) return Internal("an engine answered with malformed JSON");
    response.data_text.clear();
  }
  if (!response.auth_text.empty()) {
    response.auth = ParseJson(response.auth_text);
    if (response.auth.is_discarded()) return Internal("a token's auth block is malformed JSON");
    response.auth_text.clear();
  }
  return wrapper_->Wrap(response, ttl, request.path);
}

void Core::ApplyTokenMountTtls(const logical::Json& config) {
  router::MountEntry mount;
  mount.config = config;
  auto [default_ttl, max_ttl] = MountLeaseTtls(mount);
  tokens_->SetMountTtls(default_ttl, max_ttl);
}

Status Core::LoadTokenMountTune() {
  std::scoped_lock lock(token_tune_mu_);
  logical::Json tune = logical::Json::object();
  ASSIGN_OR_RETURN(auto stored, barrier_->Get(kTokenMountTuneKey));
  if (stored) {
    tune = logical::Json::parse(stored->value, nullptr, false);
    if (!tune.is_object()) return Internal("the token auth method's stored tune is corrupt");
  }
  ApplyTokenMountTtls(tune.value("config", logical::Json::object()));
  std::atomic_store(&token_mount_tune_, std::make_shared<const logical::Json>(std::move(tune)));
  return Status::Ok();
}

Status Core::TuneTokenMount(const logical::Json& config,
                            const std::optional<std::string>& description,
                            const logical::Json& options) {
  std::scoped_lock lock(token_tune_mu_);
  logical::Json tune = *token_mount_tune();
  logical::Json& stored_config = tune["config"];
  if (!stored_config.is_object()) stored_config = logical::Json::object();
  stored_config.update(config);
  if (description) tune["description"] = *description;
  if (!options.empty()) {
    logical::Json& stored_options = tune["options"];
    if (!stored_options.is_object()) stored_options = logical::Json::object();
    stored_options.update(options);
  }
  TRY(barrier_->Put(kTokenMountTuneKey, tune.dump()));
  ApplyTokenMountTtls(stored_config);
  std::atomic_store(&token_mount_tune_, std::make_shared<const logical::Json>(std::move(tune)));
  return Status::Ok();
}

std::pair<std::chrono::seconds, std::chrono::seconds> Core::MountLeaseTtls(
    const router::MountEntry& mount) const {
  auto tuned = [&](const char* name, std::chrono::seconds system) {
    auto it = mount.config.find(name);
    if (it == mount.config.end() || !it->is_number_integer() || it->get<std::int64_t>() <= 0) {
      return system;
    }
    return std::chrono::seconds(it->get<std::int64_t>());
  };
  const expiration::Options& system = expiration_->options();
  return {tuned("default_lease_ttl", system.default_lease_ttl),
          tuned("max_lease_ttl", system.max_lease_ttl)};
}

Result<logical::Response> Core::RouteToEngine(logical::Request& request) {
  if (request.path == "cubbyhole" || request.path.starts_with("cubbyhole/")) {
    request.mount_point = "cubbyhole/";
    request.relative_path =
        request.path.size() > request.mount_point.size() ? request.path.substr(10) : "";
    return cubbyhole_->HandleRequest(request);
  }
  auto match = router_->Route(request.path);
  if (!match) {
    return Err(NotFound("no handler for route \"" + request.path + "\". route entry not found."));
  }
  if (request.operation == logical::Operation::kScan && !match->mount->engine->HandlesScan()) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  request.mount_point = match->mount->entry.path;
  request.relative_path = match->relative_path;
  ASSIGN_OR_RETURN(logical::Response response, match->mount->engine->HandleRequest(request));
  if (response.mount_type.empty()) response.mount_type = match->mount->entry.type;
  if (response.mount_default_lease_duration) {
    response.lease_duration = MountLeaseTtls(match->mount->entry).first.count();
    response.mount_default_lease_duration = false;
  }
  TRY(RegisterSecretLease(*this, request, *match->mount, response));
  return response;
}

}  // namespace coffer::core
