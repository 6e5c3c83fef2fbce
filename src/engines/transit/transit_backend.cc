#include "engines/transit/transit_backend.h"

#include <algorithm>
#include <vector>

#include "common/encoding.h"
#include "common/log.h"
#include "engines/kv/params.h"
#include "engines/transit/tools.h"
#include "logical/registry.h"

namespace coffer::engines::transit {
namespace {

using logical::Operation;

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
  return parts;
}

bool IsWrite(Operation op) { return op == Operation::kCreate || op == Operation::kUpdate; }

Status WrongMethod(std::string_view path) {
  return Status(Code::kMethodNotAllowed, "unsupported operation on " + std::string(path));
}

// How long the rotation thread sleeps when nothing is scheduled, and after
// an error (a sealed barrier, a storage hiccup).
constexpr auto kIdleWait = std::chrono::hours(1);
constexpr auto kRetryWait = std::chrono::seconds(30);
constexpr auto kMinWait = std::chrono::milliseconds(5);

}  // namespace

Response BatchResponse(Json results, std::size_t failures, BatchFailures mode,
                       int partial_failure_code) {
  Response r;
  if (failures > 0 && mode == BatchFailures::kAre400) {
    r.http_status =
        failures < results.size() && partial_failure_code > 0 ? partial_failure_code : 400;
  }
  r.data = Json{{"batch_results", std::move(results)}};
  return r;
}

// The items one batch_input may hold (docs/transit.md).
constexpr std::size_t kMaxBatchItems = 100'000;

Result<Response> RunBatch(const Json& body, const ItemFn& one, BatchFailures mode,
                          const Json* failed_fields) {
  auto it = body.is_object() ? body.find("batch_input") : body.end();
  if (!body.is_object() || it == body.end() || it->is_null()) {
    ASSIGN_OR_RETURN(Json out, one(body));
    return DataResponse(std::move(out));
  }
  if (!it->is_array()) return Err(InvalidArgument("batch_input must be an array of objects"));
  if (it->empty()) return Err(InvalidArgument("missing batch input to process"));
  // Vault sets no bound but the body's size; 10 million empty items fit in
  // 32 MiB and their answers would take gigabytes.
  if (it->size() > kMaxBatchItems) {
    return Err(InvalidArgument("batch_input has " + std::to_string(it->size()) +
                               " items; at most " + std::to_string(kMaxBatchItems) +
                               " are taken in one request"));
  }
  // partial_failure_response_code: an integer (or its digits) from 1 to
  // 599; anything else keeps the 400, with Vault's warning.
  int partial_code = 0;
  bool bad_partial_code = false;
  if (auto pc = body.find("partial_failure_response_code"); pc != body.end() && !pc->is_null()) {
    std::optional<std::int64_t> code;
    if (pc->is_number_integer()) code = pc->get<std::int64_t>();
    if (pc->is_string()) code = ParseInt64(pc->get_ref<const std::string&>());
    if (code && *code >= 1 && *code <= 599) {
      partial_code = static_cast<int>(*code);
    } else {
      bad_partial_code = true;
    }
  }
  Json results = Json::array();
  std::size_t failures = 0;
  for (const Json& item : *it) {
    Json result;
    if (!item.is_object()) {
      result = Json{{"error", "batch_input items must be objects"}};
      ++failures;
    } else {
      Result<Json> r = one(item);
      if (!r) {
        if (r.error().code() == Code::kInternal) return Err(std::move(r).error());
        result = failed_fields != nullptr ? *failed_fields : Json::object();
        result["error"] = r.error().message();
        ++failures;
      } else {
        result = std::move(*r);
      }
      if (auto ref = item.find("reference"); ref != item.end() && !ref->is_null()) {
        result["reference"] = *ref;
      }
    }
    results.push_back(std::move(result));
  }
  const bool partial = failures > 0 && failures < results.size();
  Response r = BatchResponse(std::move(results), failures, mode, partial_code);
  if (partial && bad_partial_code && mode == BatchFailures::kAre400) {
    r.warnings = Json::array(
        {"invalid HTTP response code override from partial_failure_response_code, reverting to "
         "400"});
  }
  return r;
}

TransitBackend::TransitBackend(const logical::BackendConfig& config, TransitOptions options)
    : storage_(config.storage), clock_(config.clock), options_(options) {}

TransitBackend::~TransitBackend() {
  {
    std::scoped_lock lock(loop_mu_);
    stop_ = true;
  }
  loop_cv_.notify_all();
  if (rotation_thread_.joinable()) rotation_thread_.join();
}

std::int64_t TransitBackend::NowNs() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Now().time_since_epoch()).count();
}

Status TransitBackend::Initialize() {
  {
    // cache-config's size applies from here on (mount, unseal), as in Vault.
    ASSIGN_OR_RETURN(auto config, storage_.Get("config/cache"));
    std::int64_t size = 0;
    if (config) {
      Json j = Json::parse(config->value, nullptr, false);
      if (j.is_object()) size = j.value("size", std::int64_t{0});
    }
    std::scoped_lock lock(write_mu_);
    std::unique_lock cache_lock(cache_mu_);
    cache_.clear();
    cache_order_.clear();
    cache_limit_ = size > 0 ? static_cast<std::size_t>(size) : 0;
  }
  if (options_.rotation_thread && !rotation_thread_.joinable()) {
    rotation_thread_ = std::thread([this] { RotationLoop(); });
  } else {
    KickRotation();
  }
  return Status::Ok();
}

void TransitBackend::KickRotation() {
  {
    std::scoped_lock lock(loop_mu_);
    kick_ = true;
  }
  loop_cv_.notify_all();
}

void TransitBackend::RotationLoop() {
  std::unique_lock lock(loop_mu_);
  while (!stop_) {
    kick_ = false;
    lock.unlock();
    auto next = RotateDueKeys(Now());
    std::chrono::nanoseconds wait = kIdleWait;
    if (!next) {
      if (next.error().code() != Code::kSealed) {
        Log(LogModule::kTransit).warn("automatic rotation failed: {}", next.error().ToString());
      }
      wait = kRetryWait;
    } else if (*next != TimePoint::max()) {
      wait = std::clamp<std::chrono::nanoseconds>(*next - Now(), kMinWait, kIdleWait);
    }
    lock.lock();
    loop_cv_.wait_for(lock, wait, [this] { return stop_ || kick_; });
  }
}

Result<TimePoint> TransitBackend::RotateDueKeys(TimePoint now) {
  ASSIGN_OR_RETURN(auto names, storage_.List("policy/"));
  TimePoint next = TimePoint::max();
  const std::int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  for (const std::string& name : names) {
    if (name.empty() || name.back() == '/') continue;
    ASSIGN_OR_RETURN(auto policy, GetPolicy(name));
    if (!policy || policy->auto_rotate_period_s <= 0) continue;
    auto period = std::chrono::seconds(policy->auto_rotate_period_s);
    TimePoint due = policy->LatestCreation() + period;
    if (due <= now) {
      auto edited = EditPolicy(name, [&](Policy& p) -> Result<bool> {
        // Decide again on the stored key: it may have changed since.
        if (p.auto_rotate_period_s <= 0) return false;
        if (p.LatestCreation() + std::chrono::seconds(p.auto_rotate_period_s) > now) return false;
        TRY(RotatePolicy(p, now_ns));
        return true;
      });
      if (!edited) {
        if (edited.error().code() == Code::kInvalidArgument) continue;  // deleted meanwhile
        return Err(std::move(edited).error());
      }
      Log(LogModule::kTransit)
          .info("rotated key {} automatically to version {}", name, (*edited)->latest_version);
      if ((*edited)->auto_rotate_period_s <= 0) continue;
      due = (*edited)->LatestCreation() + std::chrono::seconds((*edited)->auto_rotate_period_s);
    }
    next = std::min(next, due);
  }
  return next;
}

Result<bool> TransitBackend::ExistenceCheck(const Request& request) {
  auto parts = Split(request.relative_path);
  if (parts.size() == 2 && parts[0] == "encrypt") {
    if (!ValidateKeyName(parts[1]).ok()) return true;
    ASSIGN_OR_RETURN(auto policy, GetPolicy(parts[1]));
    return policy != nullptr;
  }
  return true;
}

bool TransitBackend::RunsInline(const Request& request) const {
  auto parts = Split(request.relative_path);
  if (parts.empty()) return false;
  const std::string& section = parts[0];
  if (section == "random" || section == "hash") return true;
  static constexpr std::string_view kCrypto[] = {"encrypt", "decrypt", "rewrap", "hmac",
                                                 "sign",    "verify",  "datakey"};
  bool crypto = false;
  for (auto s : kCrypto) crypto = crypto || section == s;
  if (!crypto || parts.size() < 2) return false;
  // The key name follows the section (datakey/<kind>/<name>).
  const std::string& name = section == "datakey" && parts.size() >= 3 ? parts[2] : parts[1];
  std::shared_lock lock(cache_mu_);
  auto it = cache_.find(name);
  // An RSA operation takes milliseconds: the pool's, not a network thread's.
  return it != cache_.end() && !IsRsa(it->second->type);
}

Result<std::shared_ptr<const Policy>> TransitBackend::RequirePolicy(const std::string& name) {
  TRY(ValidateKeyName(name));
  ASSIGN_OR_RETURN(auto policy, GetPolicy(name));
  if (!policy) return Err(InvalidArgument("encryption key not found"));
  return policy;
}

Result<Response> TransitBackend::HandleRequest(const Request& request) {
  const Operation op = request.operation;
  const auto parts = Split(request.relative_path);
  if (parts.empty()) return Err(NotFound("unsupported path"));
  const std::string& section = parts[0];
  const std::size_t n = parts.size();

  if (section == "keys") {
    if (n == 1) {
      if (op == Operation::kList || op == Operation::kRead) return ListKeys();
      return Err(WrongMethod("keys"));
    }
    if (n > 3) return Err(NotFound("unsupported path"));
    return Keys(request, parts[1], n == 3 ? parts[2] : "");
  }
  if (section == "export") {
    if (n < 2) return Err(NotFound("unsupported path"));
    if (op != Operation::kRead) return Err(WrongMethod("export/"));
    return ExportKeyPath(request, request.relative_path.substr(7));
  }
  if (section == "backup" && n == 2) {
    if (op != Operation::kRead) return Err(WrongMethod("backup/"));
    return Backup(parts[1]);
  }
  if (section == "restore" && n <= 2) {
    if (!IsWrite(op)) return Err(WrongMethod("restore"));
    return Restore(request, n == 2 ? parts[1] : "");
  }
  if (section == "cache-config" && n == 1) return CacheConfig(request);
  if (section == "config" && n == 2 && parts[1] == "keys") return ConfigKeys(request);
  if (section == "random" && n <= 3) {
    if (!IsWrite(op)) return Err(WrongMethod("random"));
    std::string tail = request.relative_path.substr(section.size());
    return HandleRandom(request, tail);
  }
  if (section == "hash" && n <= 2) {
    if (!IsWrite(op)) return Err(WrongMethod("hash"));
    return HandleHash(request, n == 2 ? parts[1] : "");
  }

  const bool name_op = section == "encrypt" || section == "decrypt" || section == "rewrap" ||
                       section == "hmac" || section == "sign" || section == "verify" ||
                       section == "datakey";
  if (!name_op) return Err(NotFound("unsupported path"));
  if (!IsWrite(op)) return Err(WrongMethod(section));
  if (section == "datakey") {
    if (n != 3) return Err(NotFound("unsupported path"));
    return DataKey(request, parts[1], parts[2]);
  }
  const bool algo_path = section == "hmac" || section == "sign" || section == "verify";
  if (n < 2 || n > (algo_path ? 3u : 2u)) return Err(NotFound("unsupported path"));
  const std::string& name = parts[1];
  const std::string algorithm = n == 3 ? parts[2] : "";
  if (section == "encrypt") return Encrypt(request, name);
  if (section == "decrypt") return Decrypt(request, name);
  if (section == "rewrap") return Rewrap(request, name);
  if (section == "hmac") return Hmac(request, name, algorithm);
  if (section == "sign") return Sign(request, name, algorithm);
  return Verify(request, name, algorithm);
}

Result<std::unique_ptr<logical::Backend>> NewTransitBackend(const logical::BackendConfig& config,
                                                            TransitOptions options) {
  if (config.options.is_object()) {
    auto it = config.options.find("min_auto_rotate_period");
    if (it != config.options.end() && !it->is_null()) {
      ASSIGN_OR_RETURN(std::int64_t secs,
                       kv::ParseDurationSeconds(*it, "options.min_auto_rotate_period"));
      if (secs < 1) return Err(InvalidArgument("options.min_auto_rotate_period must be >= 1s"));
      options.min_auto_rotate_period_s = secs;
    }
  }
  return std::unique_ptr<logical::Backend>(std::make_unique<TransitBackend>(config, options));
}

void RegisterTransitEngine() {
  logical::RegisterEngine(
      "transit", [](const logical::BackendConfig& config) { return NewTransitBackend(config); });
}

}  // namespace coffer::engines::transit
