#include "engines/kv/rotation.h"

#include "common/cron.h"
#include "common/duration.h"
#include "common/encoding.h"
#include "common/log.h"
#include "crypto/random.h"
#include "engines/kv/kv_events.h"

namespace coffer::engines::kv {
namespace {

using logical::Json;
using logical::Operation;
using logical::Request;
using logical::Response;

constexpr std::string_view kRecordPrefix = "rotation/";
constexpr std::string_view kPendingPrefix = "rotation-pending/";

// Keys contain '/', records are listed one level: escape to one segment.
std::string Escape(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '%') {
      out += "%25";
    } else if (c == '/') {
      out += "%2F";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && s.substr(i, 3) == "%2F") {
      out += '/';
      i += 2;
    } else if (s[i] == '%' && s.substr(i, 3) == "%25") {
      out += '%';
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string Rfc3339(std::int64_t ns) {
  if (ns == 0) return "";
  return FormatRfc3339(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(ns))));
}

// Local generators. A password_policy name goes to the host's generator
// (sys/policies/password); "password" uses it too when the host has one.
Result<std::string> Alnum(std::size_t n) {
  static constexpr std::string_view kChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  while (out.size() < n) {
    ASSIGN_OR_RETURN(SecretBytes raw, crypto::RandomSecret(64));
    for (unsigned char b : raw.view()) {
      if (b >= 248) continue;  // 248 = 4 * 62: rejection keeps it uniform
      out += kChars[b % 62];
      if (out.size() == n) break;
    }
  }
  return out;
}

Status ValidateFieldSpec(const Json& spec) {
  if (!spec.is_object())
    return InvalidArgument("each field needs {generator} or {password_policy}");
  bool has_gen = spec.contains("generator"), has_pol = spec.contains("password_policy");
  if (has_gen == has_pol) {
    return InvalidArgument("each field needs exactly one of generator and password_policy");
  }
  if (has_gen) {
    const Json& g = spec["generator"];
    if (!g.is_string() || (g != "password" && g != "hex32" && g != "base64-32" && g != "uuid" &&
                           g != "alphanumeric-32")) {
      return InvalidArgument(
          "generator must be password, hex32, base64-32, alphanumeric-32 or uuid");
    }
  } else if (!spec["password_policy"].is_string() ||
             spec["password_policy"].get<std::string>().empty()) {
    return InvalidArgument("password_policy must be a policy name");
  }
  return Status::Ok();
}

}  // namespace

RotationManager::RotationManager(const logical::BackendConfig& config, Route route)
    : storage_(config.storage),
      clock_(config.clock),
      mount_point_(config.mount_point),
      events_(config.events),
      generate_password_(config.generate_password),
      route_(std::move(route)),
      poster_([](const std::string& url, const std::string& body,
                 const std::map<std::string, std::string>& headers) {
        return events::HttpPost(url, body, headers);
      }) {}

RotationManager::~RotationManager() { Stop(); }

std::int64_t RotationManager::NowNs() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Wall().time_since_epoch())
      .count();
}

Result<std::int64_t> RotationManager::NextSlot(const Json& config, std::int64_t after_ns) const {
  if (config.contains("rotation_schedule")) {
    ASSIGN_OR_RETURN(CronSchedule cron,
                     CronSchedule::Parse(config["rotation_schedule"].get<std::string>()));
    auto next = cron.Next(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(after_ns))));
    if (!next) return Err(InvalidArgument("rotation_schedule never fires"));
    return std::chrono::duration_cast<std::chrono::nanoseconds>(next->time_since_epoch()).count();
  }
  std::int64_t period = config.value("rotation_period", std::int64_t{0}) * 1'000'000'000;
  if (period <= 0)
    return Err(InvalidArgument("rotation needs rotation_period or rotation_schedule"));
  return after_ns + period;
}

Result<Response> RotationManager::Handle(const std::string& key, const Request& request) {
  if (key.empty() || key.back() == '/') return Err(InvalidArgument("missing secret path"));
  const std::string record_key = std::string(kRecordPrefix) + Escape(key);
  const Operation op = request.operation;
  if (op == Operation::kRead) {
    ASSIGN_OR_RETURN(auto entry, storage_.Get(record_key));
    if (!entry) return logical::NotFoundResponse();
    Json record = Json::parse(entry->value, nullptr, false);
    if (!record.is_object()) return Err(Internal("kv: corrupt rotation record"));
    Json c = record["config"], s = record["state"];
    Response r;
    r.data = Json::object();
    if (c.contains("rotation_period")) r.data["rotation_period"] = c["rotation_period"];
    if (c.contains("rotation_schedule")) r.data["rotation_schedule"] = c["rotation_schedule"];
    r.data["fields"] = c.value("fields", Json::object());
    r.data["webhook_url"] = c.value("webhook_url", "");
    r.data["has_webhook_secret"] = !c.value("webhook_secret", "").empty();
    r.data["webhook_include_values"] = c.value("webhook_include_values", false);
    r.data["next_rotation"] = Rfc3339(s.value("next_rotation", std::int64_t{0}));
    r.data["last_rotation"] = Rfc3339(s.value("last_rotation", std::int64_t{0}));
    r.data["last_error"] = s.value("last_error", "");
    r.data["failures"] = s.value("failures", 0);
    r.data["rotations"] = s.value("rotations", 0);
    r.data["last_version"] = s.value("last_version", 0);
    return r;
  }
  if (op == Operation::kDelete) {
    TRY(storage_.Delete(record_key));
    TRY(storage_.Delete(std::string(kPendingPrefix) + Escape(key)));
    return logical::NoContent();
  }
  if (op != Operation::kCreate && op != Operation::kUpdate) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation on rotation/"));
  }
  const Json& d = request.data;
  Json c = Json::object();
  bool has_period = d.contains("rotation_period") && !d["rotation_period"].is_null();
  bool has_schedule = d.contains("rotation_schedule") && !d["rotation_schedule"].is_null();
  if (has_period == has_schedule) {
    return Err(InvalidArgument("set exactly one of rotation_period and rotation_schedule"));
  }
  if (has_period) {
    const Json& p = d["rotation_period"];
    std::string text = p.is_string() ? p.get<std::string>() : p.dump();
    ASSIGN_OR_RETURN(auto period, ParseDuration(text));
    if (period.count() < 1) return Err(InvalidArgument("rotation_period must be at least 1s"));
    c["rotation_period"] = period.count();
  } else {
    if (!d["rotation_schedule"].is_string()) return Err(InvalidArgument("bad rotation_schedule"));
    ASSIGN_OR_RETURN(auto cron, CronSchedule::Parse(d["rotation_schedule"].get<std::string>()));
    c["rotation_schedule"] = cron.spec();
  }
  Json fields = d.value("fields", Json());
  if (fields.is_string()) fields = Json::parse(fields.get<std::string>(), nullptr, false);
  if (!fields.is_object() || fields.empty()) {
    return Err(InvalidArgument("fields must map at least one field to a generator"));
  }
  for (auto& [name, spec] : fields.items()) {
    (void)name;
    TRY(ValidateFieldSpec(spec));
  }
  c["fields"] = fields;
  if (d.contains("webhook_url") && !d["webhook_url"].is_null() && d["webhook_url"] != "") {
    if (!d["webhook_url"].is_string()) return Err(InvalidArgument("webhook_url must be a string"));
    TRY(events::ValidateWebhookUrl(d["webhook_url"].get<std::string>()));
    c["webhook_url"] = d["webhook_url"];
  }
  if (d.contains("webhook_secret") && d["webhook_secret"].is_string()) {
    c["webhook_secret"] = d["webhook_secret"];
  }
  if (d.contains("webhook_include_values")) {
    const Json& v = d["webhook_include_values"];
    c["webhook_include_values"] = v.is_boolean() ? v.get<bool>() : (v == "true");
  }
  ASSIGN_OR_RETURN(std::int64_t next, NextSlot(c, NowNs()));
  // A changed config keeps the counters but restarts the schedule from now.
  ASSIGN_OR_RETURN(auto existing, storage_.Get(record_key));
  Json state = Json::object();
  if (existing) {
    Json old = Json::parse(existing->value, nullptr, false);
    if (old.is_object() && old.contains("state")) state = old["state"];
  }
  state["next_rotation"] = next;
  Json record{{"config", c}, {"state", state}};
  TRY(storage_.Put(record_key, record.dump()));
  cv_.notify_all();
  return logical::NoContent();
}

Result<Json> RotationManager::Generate(const Json& spec) {
  if (spec.contains("password_policy")) {
    if (!generate_password_) return Err(Unsupported("password policies are not available"));
    ASSIGN_OR_RETURN(SecretBytes p, generate_password_(spec["password_policy"].get<std::string>()));
    return Json(std::string(p.view()));
  }
  const std::string g = spec["generator"].get<std::string>();
  if (g == "password") {
    if (generate_password_) {
      ASSIGN_OR_RETURN(SecretBytes p, generate_password_(""));
      return Json(std::string(p.view()));
    }
    // A host without password policies (unit tests): 24 alphanumerics.
    ASSIGN_OR_RETURN(std::string p, Alnum(24));
    return Json(std::move(p));
  }
  if (g == "alphanumeric-32") {
    ASSIGN_OR_RETURN(std::string p, Alnum(32));
    return Json(std::move(p));
  }
  if (g == "uuid") {
    ASSIGN_OR_RETURN(std::string id, crypto::NewUuid());
    return Json(std::move(id));
  }
  ASSIGN_OR_RETURN(SecretBytes raw, crypto::RandomSecret(32));
  if (g == "hex32") return Json(HexEncode(raw.view()));
  return Json(Base64Encode(raw.view()));
}

Result<int> RotationManager::RunDue() {
  std::scoped_lock run(run_mu_);
  ASSIGN_OR_RETURN(auto names, storage_.List(kRecordPrefix));
  int attempted = 0;
  const std::int64_t now = NowNs();
  for (const auto& name : names) {
    if (name.empty() || name.back() == '/') continue;
    const std::string record_key = std::string(kRecordPrefix) + name;
    ASSIGN_OR_RETURN(auto entry, storage_.Get(record_key));
    if (!entry) continue;
    Json record = Json::parse(entry->value, nullptr, false);
    if (!record.is_object() || !record.contains("state")) continue;
    const Json& s = record["state"];
    bool in_flight = s.value("in_flight_slot", std::int64_t{0}) != 0;
    if (!in_flight && s.value("next_rotation", std::int64_t{0}) > now) continue;
    ++attempted;
    Status st = RotateOne(record_key, std::move(record), entry->revision);
    if (!st.ok()) Log(LogModule::kKv).warn("rotation of {}: {}", Unescape(name), st.ToString());
  }
  return attempted;
}

Status RotationManager::Fail(const std::string& record_key, const std::string& key,
                             std::int64_t slot, const std::string& error) {
  ASSIGN_OR_RETURN(auto entry, storage_.Get(record_key));
  if (entry) {
    Json record = Json::parse(entry->value, nullptr, false);
    Json& s = record["state"];
    s["failures"] = s.value("failures", 0) + 1;
    s["last_error"] = error;
    s["in_flight_slot"] = 0;
    s["pending_version"] = 0;
    ASSIGN_OR_RETURN(std::int64_t next, NextSlot(record["config"], std::max(slot, NowNs())));
    s["next_rotation"] = next;
    TRY(storage_.Put(record_key, record.dump()));
  }
  TRY(storage_.Delete(std::string(kPendingPrefix) + Escape(key)));
  if (events_ != nullptr) {
    events::Event e = V2Event("coffer/kv-rotate-failed", mount_point_, key, "rotate", std::nullopt);
    e.metadata["error"] = error;
    e.metadata["slot"] = Rfc3339(slot);
    events_->Publish(std::move(e));
  }
  return Status::Ok();
}

Status RotationManager::RotateOne(const std::string& record_key, Json record,
                                  std::uint64_t revision) {
  const std::string key = Unescape(std::string_view(record_key).substr(kRecordPrefix.size()));
  const Json config = record["config"];
  Json& s = record["state"];
  const std::int64_t slot = s.value("next_rotation", std::int64_t{0});
  const std::int64_t in_flight = s.value("in_flight_slot", std::int64_t{0});

  auto read = [&](Operation op, const std::string& section) {
    Request r;
    r.operation = op;
    r.mount_point = mount_point_;
    r.relative_path = section + key;
    r.path = mount_point_ + r.relative_path;
    return r;
  };
  ASSIGN_OR_RETURN(Response meta, route_(read(Operation::kRead, "metadata/")));
  std::uint64_t current = 0;
  if (meta.data.is_object()) current = meta.data.value("current_version", std::uint64_t{0});

  if (in_flight != 0) {
    // A restart found this slot claimed: never act on it twice.
    std::uint64_t pending = s.value("pending_version", std::uint64_t{0});
    if (pending != 0 && current >= pending) {
      s["last_rotation"] = in_flight;
      s["rotations"] = s.value("rotations", 0) + 1;
      s["last_version"] = pending;
      s["in_flight_slot"] = 0;
      s["pending_version"] = 0;
      ASSIGN_OR_RETURN(std::int64_t next, NextSlot(config, std::max(in_flight, NowNs())));
      s["next_rotation"] = next;
      TRY(storage_.Put(record_key, record.dump()));
      return storage_.Delete(std::string(kPendingPrefix) + Escape(key));
    }
    return Fail(record_key, key, in_flight, "rotation interrupted by a restart; slot skipped");
  }

  // 1. Claim the slot (compare-and-set: one scheduler wins).
  s["in_flight_slot"] = slot;
  s["pending_version"] = current + 1;
  {
    storage::Compare cmp{record_key, revision};
    storage::Op put{storage::Op::Kind::kPut, record_key, record.dump()};
    Status claimed = storage_.Transact(std::span<const storage::Compare>(&cmp, 1),
                                       std::span<const storage::Op>(&put, 1));
    if (claimed.code() == Code::kConflict) return Status::Ok();  // someone else has it
    TRY(claimed);
  }
  if (current == 0) return Fail(record_key, key, slot, "the secret has no current version");

  // 2. Build and stage the pending version: the current data with the
  // rotated fields replaced.
  ASSIGN_OR_RETURN(Response data, route_(read(Operation::kRead, "data/")));
  Json next_data = Json::object();
  if (data.data.is_object() && data.data.contains("data") && data.data["data"].is_object()) {
    next_data = data.data["data"];
  }
  std::vector<std::string> field_names;
  for (const auto& [field, spec] : config["fields"].items()) {
    Result<Json> value = Generate(spec);
    if (!value)
      return Fail(record_key, key, slot, "generating " + field + ": " + value.error().message());
    next_data[field] = std::move(*value);
    field_names.push_back(field);
  }
  const std::uint64_t version = current + 1;
  Json pending{{"version", version}, {"data", next_data}, {"slot", slot}};
  TRY(storage_.Put(std::string(kPendingPrefix) + Escape(key), pending.dump()));

  // 3. The webhook confirms before the version becomes current.
  const std::string url = config.value("webhook_url", "");
  if (!url.empty()) {
    Json body{{"path", mount_point_ + "data/" + key},
              {"mount", mount_point_},
              {"key", key},
              {"version", version},
              {"current_version", current},
              {"state", "pending"},
              {"fields", field_names},
              {"slot", Rfc3339(slot)}};
    // Only the rotated fields: the rest of the secret is not the rotation
    // config's to hand out (a token allowed to configure rotation of a key
    // may be refused reading its data).
    if (config.value("webhook_include_values", false)) {
      Json rotated = Json::object();
      for (const auto& f : field_names) rotated[f] = next_data[f];
      body["data"] = std::move(rotated);
    }
    const std::string text = body.dump();
    std::map<std::string, std::string> headers;
    const std::string secret = config.value("webhook_secret", "");
    if (!secret.empty()) {
      ASSIGN_OR_RETURN(std::string sig, events::SignatureHeader(secret, text));
      headers["X-Coffer-Signature"] = sig;
    }
    Result<int> status = poster_(url, text, headers);
    if (!status) return Fail(record_key, key, slot, "webhook failed: " + status.error().message());
    if (*status < 200 || *status >= 300) {
      return Fail(record_key, key, slot, "webhook answered HTTP " + std::to_string(*status));
    }
  }

  // 4. Promote: a write with cas = the version the rotation was built on.
  Request write = read(Operation::kUpdate, "data/");
  write.data = Json{{"data", next_data}, {"options", {{"cas", current}}}};
  Result<Response> written = route_(write);
  if (!written) {
    return Fail(record_key, key, slot,
                written.error().code() == Code::kConflict
                    ? std::string("the secret changed during the rotation")
                    : "promoting the new version failed: " + written.error().message());
  }
  ASSIGN_OR_RETURN(auto entry, storage_.Get(record_key));
  if (entry) {
    Json now_record = Json::parse(entry->value, nullptr, false);
    Json& ns = now_record["state"];
    ns["last_rotation"] = slot;
    ns["rotations"] = ns.value("rotations", 0) + 1;
    ns["last_version"] = version;
    ns["last_error"] = "";
    ns["in_flight_slot"] = 0;
    ns["pending_version"] = 0;
    ASSIGN_OR_RETURN(std::int64_t next, NextSlot(now_record["config"], std::max(slot, NowNs())));
    ns["next_rotation"] = next;
    TRY(storage_.Put(record_key, now_record.dump()));
  }
  TRY(storage_.Delete(std::string(kPendingPrefix) + Escape(key)));
  if (events_ != nullptr) {
    events_->Publish(V2Event("coffer/kv-rotate", mount_point_, key, "rotate", version));
  }
  return Status::Ok();
}

void RotationManager::Start(std::chrono::milliseconds poll) {
  std::scoped_lock lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this, poll] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      Result<int> r = RunDue();
      if (!r) Log(LogModule::kKv).warn("rotation pass failed: {}", r.error().ToString());
      lock.lock();
      cv_.wait_for(lock, poll, [&] { return stopping_; });
    }
  });
}

void RotationManager::Stop() {
  std::thread t;
  {
    std::scoped_lock lock(mu_);
    stopping_ = true;
    t.swap(thread_);
  }
  cv_.notify_all();
  if (t.joinable()) t.join();
}

}  // namespace coffer::engines::kv
