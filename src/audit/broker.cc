#include "audit/broker.h"

#include <string.h>  // explicit_bzero
#include <sys/stat.h>

#include <boost/container/small_vector.hpp>
#include <condition_variable>
#include <optional>

#include "common/encoding.h"
#include "common/log.h"
#include "common/loop_turn.h"
#include "crypto/random.h"

namespace coffer::audit {
namespace {

constexpr std::string_view kTableKey = "core/audit";

// The file a file device writes, or "" for one that writes no file of its
// own (stdout, discard) and for other device types.
std::string FileOf(const DeviceConfig& config) {
  if (config.type != "file") return "";
  auto it = config.options.find("file_path");
  if (it == config.options.end() || !it->is_string()) return "";
  const std::string& path = it->get_ref<const std::string&>();
  if (path.empty() || path.front() != '/') return "";
  return path;
}

// Whether two file devices would write one file: the same path, or two
// names of one file. Two chains in one file break each other, and one
// device's rollback of a failed write would cut the other's lines.
bool SameFile(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  if (a == b) return true;
  struct stat sa {};
  struct stat sb {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

}  // namespace

Broker::Broker(storage::Backend& barrier, Clock& clock)
    : barrier_(barrier), clock_(clock), devices_(std::make_shared<const Devices>()) {}

Broker::~Broker() { Unload(); }

Result<std::string> Broker::NormalizePath(std::string_view path) {
  std::string p(path);
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  if (p.empty() || p == "/") return Err(InvalidArgument("an audit device needs a path"));
  if (!p.ends_with('/')) p.push_back('/');
  for (char c : p) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '*' || c == '+' || c == '\\') {
      return Err(InvalidArgument("invalid character in audit device path"));
    }
  }
  return p;
}

Status Broker::Load() {
  std::scoped_lock lock(mu_);
  ASSIGN_OR_RETURN(auto stored, barrier_.Get(kTableKey));
  auto devices = std::make_shared<Devices>();
  if (stored) {
    logical::Json table = logical::Json::parse(stored->value, nullptr, false);
    if (!table.is_object()) return Internal("the audit table is damaged");
    for (const auto& e : table.value("devices", logical::Json::array())) {
      DeviceConfig config{e.value("path", ""), e.value("type", ""), e.value("description", ""),
                          e.value("options", logical::Json::object()), e.value("local", false)};
      auto key = HexDecode(e.value("salt", ""));
      if (!key || key->size() != 32) return Internal("the audit table has a damaged salt");
      ASSIGN_OR_RETURN(auto salt, Salt::Create(std::move(*key)));
      auto device = Device::Create(config, std::move(salt), clock_, /*restoring=*/true);
      if (!device) {
        // An option that no longer validates: keep the request path closed
        // rather than silently dropping the device.
        return Internal("audit device " + config.path +
                        " cannot be restored: " + device.error().message());
      }
      devices->push_back(std::shared_ptr<Device>(std::move(*device)));
    }
  }
  std::atomic_store(&devices_, std::shared_ptr<const Devices>(std::move(devices)));
  return Status::Ok();
}

void Broker::Unload() {
  std::scoped_lock lock(mu_);
  auto devices = std::atomic_exchange(&devices_, std::make_shared<const Devices>());
  for (const auto& d : *devices) d->Close();
}

Status Broker::Persist(const Devices& devices) {
  logical::Json list = logical::Json::array();
  for (const auto& d : devices) {
    const DeviceConfig& c = d->config();
    list.push_back({{"path", c.path},
                    {"type", c.type},
                    {"description", c.description},
                    {"options", c.options},
                    {"local", c.local},
                    {"salt", HexEncode(d->salt().key().view())}});
  }
  logical::Json table{{"devices", std::move(list)}};
  return barrier_.Put(kTableKey, table.dump());
}

Status Broker::Enable(DeviceConfig config) {
  ASSIGN_OR_RETURN(config.path, NormalizePath(config.path));
  std::scoped_lock lock(mu_);
  auto current = std::atomic_load(&devices_);
  const std::string file = FileOf(config);
  for (const auto& d : *current) {
    if (d->config().path == config.path) {
      return InvalidArgument("path already in use: an audit device is enabled at " + config.path);
    }
    if (SameFile(file, FileOf(d->config()))) {
      return InvalidArgument("file_path already in use: the audit device at " + d->config().path +
                             " writes that file");
    }
  }
  ASSIGN_OR_RETURN(SecretBytes key, crypto::RandomSecret(32));
  ASSIGN_OR_RETURN(auto salt, Salt::Create(std::move(key)));
  ASSIGN_OR_RETURN(auto device, Device::Create(config, std::move(salt), clock_));
  auto next = std::make_shared<Devices>(*current);
  next->push_back(std::shared_ptr<Device>(std::move(device)));
  TRY(Persist(*next));
  std::atomic_store(&devices_, std::shared_ptr<const Devices>(std::move(next)));
  coffer::Log(LogModule::kAudit).info("enabled {} device at {}", config.type, config.path);
  return Status::Ok();
}

Status Broker::Disable(std::string_view path) {
  ASSIGN_OR_RETURN(std::string p, NormalizePath(path));
  std::scoped_lock lock(mu_);
  auto current = std::atomic_load(&devices_);
  auto next = std::make_shared<Devices>();
  std::shared_ptr<Device> removed;
  for (const auto& d : *current) {
    if (d->config().path == p) {
      removed = d;
    } else {
      next->push_back(d);
    }
  }
  if (!removed) return NotFound("no audit device at " + p);
  TRY(Persist(*next));
  std::atomic_store(&devices_, std::shared_ptr<const Devices>(std::move(next)));
  removed->Close();
  coffer::Log(LogModule::kAudit).info("disabled device at {}", p);
  return Status::Ok();
}

std::vector<DeviceConfig> Broker::List() const {
  std::vector<DeviceConfig> out;
  const auto devices = std::atomic_load(&devices_);  // held while the loop runs
  for (const auto& d : *devices) out.push_back(d->config());
  return out;
}

std::shared_ptr<Device> Broker::Find(std::string_view path) const {
  auto p = NormalizePath(path);
  if (!p) return nullptr;
  const auto devices = std::atomic_load(&devices_);  // held while the loop runs
  for (const auto& d : *devices) {
    if (d->config().path == *p) return d;
  }
  return nullptr;
}

Result<std::string> Broker::Hash(std::string_view path, std::string_view input) const {
  auto d = Find(path);
  if (!d) return Err(NotFound("no audit device at " + std::string(path)));
  return d->salt().Hash(input);
}

Status Broker::Reopen() {
  Status first;
  const auto devices = std::atomic_load(&devices_);  // held while the loop runs
  for (const auto& d : *devices) {
    Status s = d->Reopen();
    if (!s.ok()) {
      coffer::Log(LogModule::kAudit).error("{}: reopen failed: {}", d->config().path, s.message());
      if (first.ok()) first = s;
    }
  }
  return first;
}

Result<ChainHead> Broker::Head(std::string_view path) const {
  auto d = Find(path);
  if (!d) return Err(NotFound("no audit device at " + std::string(path)));
  return d->head();
}

Result<bool> Broker::VerifyCheckpoint(std::string_view path, std::uint64_t seq,
                                      std::string_view prev_hash, std::string_view hmac_hex) const {
  auto d = Find(path);
  if (!d) return Err(NotFound("no audit device at " + std::string(path)));
  return d->VerifyCheckpoint(seq, prev_hash, hmac_hex);
}

Status Broker::Log(const EntrySource& entry, const EntrySource* second) {
  return LogAsync(entry, second, /*in_turn=*/false)->Wait();
}

namespace {

// What a device's write means for a request's ticket.
void DeviceWritten(const Device& device, Ticket& ticket, const Status& s) {
  metrics::Telemetry::Global().RecordAuditDeviceWrite(device.config().type, s.ok());
  if (!s.ok()) coffer::Log(LogModule::kAudit).error("{}: {}", device.config().path, s.message());
  ticket.DeviceDone(s.ok());
}

// The entries an I/O thread handed over during its loop turn; written at
// the turn's end with one WriteNow per device, on that thread, so each
// request's answer leaves from its own thread without waking another.
// The lines are rendered into one text kept from turn to turn (no
// allocation per entry).
struct TurnItem {
  std::shared_ptr<Device> device;
  std::shared_ptr<Ticket> ticket;
  std::size_t begin = 0;  // the first line: [begin, mid) of the text
  std::size_t mid = 0;    // the second, if any: [mid, end)
  std::size_t end = 0;
};
struct Turn {
  std::string text;
  // Whether a log_raw device's lines are in `text` (values as they are):
  // only then is it wiped. Other lines hold hashes and what the log file
  // holds in plain text anyway.
  bool raw = false;
  std::vector<TurnItem> items;
  // Scratch for WriteTurn.
  std::vector<std::string_view> bodies;
  std::vector<std::size_t> mine;
  std::vector<bool> taken;
};
// `turn` gathers; WriteTurn swaps it with `spare` to write, so entries
// handed over while it writes (from the callbacks) gather for a turn of
// their own.
thread_local Turn turn;
thread_local Turn spare;

// A buffer larger than this (after a turn of large entries) is given back.
constexpr std::size_t kKeptTurnBytes = 1 << 20;

void WriteTurn() {
  std::swap(turn, spare);
  Turn& t = spare;
  std::vector<TurnItem>& items = t.items;
  t.taken.assign(items.size(), false);
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (t.taken[i]) continue;
    Device* device = items[i].device.get();
    t.bodies.clear();
    t.mine.clear();
    for (std::size_t j = i; j < items.size(); ++j) {
      if (t.taken[j] || items[j].device.get() != device) continue;
      t.taken[j] = true;
      t.mine.push_back(j);
      const TurnItem& item = items[j];
      std::string_view text(t.text);
      t.bodies.push_back(text.substr(item.begin, item.mid - item.begin));
      if (item.end > item.mid) t.bodies.push_back(text.substr(item.mid, item.end - item.mid));
    }
    // A device disabled since the entries were rendered fails them (it is
    // closed), as it would between the snapshot and WriteAsync.
    Status s = device->WriteNow(t.bodies);
    for (std::size_t k : t.mine) DeviceWritten(*device, *items[k].ticket, s);
  }
  if (t.raw) explicit_bzero(t.text.data(), t.text.size());
  t.raw = false;
  t.text.clear();
  if (t.text.capacity() > kKeptTurnBytes) std::string().swap(t.text);
  t.items.clear();
  t.bodies.clear();
}

}  // namespace

Status Ticket::Wait() {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Status> result;
  Then([&](Status s) {
    std::scoped_lock lock(mu);
    result = std::move(s);
    cv.notify_one();
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return result.has_value(); });
  return *result;
}

void Ticket::Then(std::function<void(Status)> then) {
  std::unique_lock lock(mu_);
  if (outstanding_ > 0) {
    then_ = std::move(then);
    return;
  }
  bool failed = wanted_ && written_ == 0;
  lock.unlock();
  then(failed ? Internal("no audit device could record the request") : Status::Ok());
}

void Ticket::DeviceDone(bool written) {
  std::unique_lock lock(mu_);
  wanted_ = true;
  if (written) ++written_;
  if (--outstanding_ == 0 && written_ == 0) metrics::Telemetry::Global().RecordAuditFailure(entry_);
  if (outstanding_ > 0 || !then_) return;
  bool failed = written_ == 0;
  auto then = std::move(then_);
  lock.unlock();
  then(failed ? Internal("no audit device could record the request") : Status::Ok());
}

std::shared_ptr<Ticket> Broker::LogAsync(const EntrySource& entry, const EntrySource* second,
                                         bool in_turn) {
  LoopTurn* turn_loop = in_turn ? LoopTurn::Current() : nullptr;
  auto devices = std::atomic_load(&devices_);
  const logical::Request& request = *entry.request;
  const MountInfo& mount = *entry.mount;
  FilterInput in{mount.type, mount.path, request.path, logical::OperationName(request.operation)};
  boost::container::small_vector<const std::shared_ptr<Device>*, 4> wanted;
  for (const auto& d : *devices) {
    if (d->Wants(in)) wanted.push_back(&d);
  }
  auto ticket = std::make_shared<Ticket>(wanted.size(), entry.type == EntrySource::Type::kRequest
                                                            ? metrics::AuditEntry::kRequest
                                                            : metrics::AuditEntry::kResponse);
  // What both entries share, per device; its strings are kept from request
  // to request (and wiped like the turn's text).
  thread_local RenderCache shared;
  for (const std::shared_ptr<Device>* device : wanted) {
    const std::shared_ptr<Device>& d = *device;
    shared.rendered = nullptr;  // a new request may sit where the last one was
    if (turn_loop != nullptr && d->QuickWrites()) {
      if (turn.items.empty()) turn_loop->AtEnd(WriteTurn);
      TurnItem item{d, ticket, turn.text.size(), 0, 0};
      turn.raw = turn.raw || d->entry_options().log_raw;
      RenderTo(turn.text, entry, d->salt(), d->entry_options(), &shared);
      item.mid = item.end = turn.text.size();
      if (second != nullptr) {
        RenderTo(turn.text, *second, d->salt(), d->entry_options(), &shared);
        item.end = turn.text.size();
      }
      turn.items.push_back(std::move(item));
    } else {
      std::vector<std::string> lines;
      lines.reserve(2);
      lines.push_back(Render(entry, d->salt(), d->entry_options(), &shared));
      if (second != nullptr) {
        lines.push_back(Render(*second, d->salt(), d->entry_options(), &shared));
      }
      d->WriteAsync(std::move(lines), [ticket, d](Status s) { DeviceWritten(*d, *ticket, s); });
    }
  }
  explicit_bzero(shared.auth_json.data(), shared.auth_json.size());
  explicit_bzero(shared.request_json.data(), shared.request_json.size());
  return ticket;
}

Status Broker::LogRequest(const logical::Request& request, const MountInfo& mount,
                          std::string_view error) {
  if (!Enabled()) return Status::Ok();
  EntrySource e{EntrySource::Type::kRequest, &request, &mount, nullptr, error, clock_.Wall()};
  return Log(e, nullptr);
}

Status Broker::LogResponse(const logical::Request& request, const MountInfo& mount,
                           const logical::Response* response, std::string_view error) {
  if (!Enabled()) return Status::Ok();
  EntrySource e{EntrySource::Type::kResponse, &request, &mount, response, error, clock_.Wall()};
  return Log(e, nullptr);
}

Status Broker::LogRequestAndResponse(const logical::Request& request, const MountInfo& mount,
                                     std::chrono::system_clock::time_point request_time,
                                     const logical::Response* response, std::string_view error) {
  if (!Enabled()) return Status::Ok();
  return LogRequestAndResponseAsync(request, mount, request_time, response, error)->Wait();
}

std::shared_ptr<Ticket> Broker::LogRequestAndResponseAsync(
    const logical::Request& request, const MountInfo& mount,
    std::chrono::system_clock::time_point request_time, const logical::Response* response,
    std::string_view error) {
  EntrySource req{EntrySource::Type::kRequest, &request, &mount, nullptr, "", request_time};
  EntrySource resp{EntrySource::Type::kResponse, &request, &mount, response, error, clock_.Wall()};
  return LogAsync(req, &resp, /*in_turn=*/true);
}

}  // namespace coffer::audit
