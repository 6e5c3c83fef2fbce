#include "audit/device.h"

#include <string.h>  // explicit_bzero

#include "audit/chain.h"
#include "audit/sinks.h"
#include "common/duration.h"
#include "common/encoding.h"
#include "common/log.h"

namespace coffer::audit {
namespace {

// A write buffer larger than this (after a batch of large entries) is given
// back rather than kept.
constexpr std::size_t kKeptBufferBytes = 1 << 20;

}  // namespace

namespace internal {

std::string Option(const DeviceConfig& config, const char* name) {
  auto it = config.options.find(name);
  if (it == config.options.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

}  // namespace internal

namespace {

Result<bool> BoolOption(const DeviceConfig& config, const char* name, bool fallback) {
  std::string v = internal::Option(config, name);
  if (v.empty()) return fallback;
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return Err(InvalidArgument(std::string(name) + " must be true or false"));
}

}  // namespace

Device::Device(DeviceConfig config, std::shared_ptr<const Salt> salt, Clock& clock)
    : config_(std::move(config)),
      salt_(std::move(salt)),
      checkpoint_key_(CheckpointKey(salt_->key())),
      clock_(clock),
      pending_(std::make_unique<Batch>()) {}

Device::~Device() { StopFlusher(); }

Result<std::unique_ptr<Device>> Device::Create(const DeviceConfig& config,
                                               std::shared_ptr<const Salt> salt, Clock& clock,
                                               bool restoring) {
  std::unique_ptr<Device> device;
  if (config.type == "file") {
    ASSIGN_OR_RETURN(device, internal::NewFileDevice(config, std::move(salt), clock));
  } else if (config.type == "socket") {
    ASSIGN_OR_RETURN(device, internal::NewSocketDevice(config, std::move(salt), clock));
  } else if (config.type == "syslog") {
    ASSIGN_OR_RETURN(device, internal::NewSyslogDevice(config, std::move(salt), clock));
  } else {
    return Err(InvalidArgument("unknown audit device type \"" + config.type +
                               "\" (file, socket, syslog)"));
  }
  TRY(device->Init(restoring));
  return device;
}

Status Device::Init(bool restoring) {
  ASSIGN_OR_RETURN(entry_options_.hmac_accessor, BoolOption(config_, "hmac_accessor", true));
  ASSIGN_OR_RETURN(entry_options_.log_raw, BoolOption(config_, "log_raw", false));
  ASSIGN_OR_RETURN(entry_options_.elide_list_responses,
                   BoolOption(config_, "elide_list_responses", false));
  std::string format = internal::Option(config_, "format");
  if (format.empty() || format == "json") {
    entry_options_.format = Format::kJson;
  } else if (format == "jsonx") {
    entry_options_.format = Format::kJsonx;
  } else {
    return Err(InvalidArgument("format must be json or jsonx"));
  }
  if (std::string f = internal::Option(config_, "filter"); !f.empty()) {
    ASSIGN_OR_RETURN(filter_, Filter::Parse(f));
  }
  if (std::string n = internal::Option(config_, "checkpoint_entries"); !n.empty()) {
    std::optional<std::int64_t> v = ParseInt64(n);  // refuses "10x", " 5"
    if (!v || *v < 1) {
      return Err(InvalidArgument("checkpoint_entries must be a positive integer"));
    }
    checkpoint_entries_ = static_cast<std::uint64_t>(*v);
  }
  if (std::string t = internal::Option(config_, "checkpoint_interval"); !t.empty()) {
    auto d = ParseDuration(t);
    if (!d || d->count() < 1) {
      return Err(InvalidArgument("checkpoint_interval must be a duration of at least 1s"));
    }
    checkpoint_interval_ = *d;
  }
  if (Status s = OpenSink(); !s.ok()) {
    if (!restoring) return InvalidArgument(s.message());
    Log(LogModule::kAudit)
        .error("{}: {}; requests fail until it can be written", config_.path, s.message());
  }
  last_checkpoint_ = clock_.Monotonic();
  if (auto last = LastLineInSink()) {
    auto info = ParseLine(*last);
    if (info) {
      seq_ = info->seq;
      last_hash_ = Sha256Hex(*last);
    } else {
      Log(LogModule::kAudit)
          .warn("{}: the file does not end with an audit line; starting a new chain", config_.path);
    }
  }
  {
    std::scoped_lock lock(head_mu_);
    head_ = {seq_, last_hash_};
  }
  StartFlusher();
  return Status::Ok();
}

void Device::AppendLine(std::string_view body, bool in_place, std::size_t shared_with_previous,
                        std::size_t shared_with_next) {
  const std::size_t start = frames_.size();
  if (in_place && entry_options_.format == Format::kJson) {
    // The head stays where it was rendered; only the frame is new.
    std::string_view head = FramedHead(body);
    AppendFrameTail(frames_, seq_ + 1, last_hash_, body);
    ++seq_;
    hasher_.Hash(head, std::string_view(frames_).substr(start), shared_with_previous,
                 shared_with_next, last_hash_);
    frames_ += '\n';
    pieces_.push_back({head.data(), 0, head.size()});
  } else {
    AppendFrame(frames_, entry_options_.format, seq_ + 1, last_hash_, body);
    ++seq_;
    hasher_.Hash(std::string_view(frames_).substr(start), {}, 0, 0, last_hash_);
    frames_ += '\n';
  }
  // Consecutive parts of frames_ go out as one piece.
  if (!pieces_.empty() && pieces_.back().data == nullptr &&
      pieces_.back().offset + pieces_.back().size == start) {
    pieces_.back().size += frames_.size() - start;
  } else {
    pieces_.push_back({nullptr, start, frames_.size() - start});
  }
}

void Device::AppendCheckpoint(const char* reason) {
  std::string mac = CheckpointMac(checkpoint_key_, config_.path, seq_ + 1, last_hash_);
  std::string body = CheckpointBody(entry_options_.format, FormatRfc3339(clock_.Wall()),
                                    config_.path, reason, mac);
  AppendLine(body, /*in_place=*/false);
  since_checkpoint_ = 0;
  last_checkpoint_ = clock_.Monotonic();
}

Status Device::AppendPiecesToSink(std::span<const std::string_view> pieces) {
  joined_.clear();
  for (std::string_view p : pieces) joined_ += p;
  Status s = AppendToSink(joined_);
  // A log_raw device's lines carry values as they are.
  explicit_bzero(joined_.data(), joined_.size());
  joined_.clear();
  if (joined_.capacity() > kKeptBufferBytes) std::string().swap(joined_);
  return s;
}

Status Device::Flush(std::span<const std::string_view> bodies, const char* forced_checkpoint) {
  std::uint64_t saved_seq = seq_;
  std::string saved_hash = last_hash_;
  std::uint64_t saved_since = since_checkpoint_;
  auto saved_time = last_checkpoint_;
  // Nothing of a flush that threw (bad_alloc) goes out with this one.
  frames_.clear();
  pieces_.clear();
  frames_.reserve(bodies.size() * 110);
  pieces_.reserve(2 * bodies.size() + 2);
  // A request's two entries begin alike; the hash of what they share is
  // computed once. The bodies stay where they are until the write.
  std::size_t shared_with_previous = 0;
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    const std::size_t shared_with_next =
        i + 1 < bodies.size() ? SharedFramedPrefix(entry_options_.format, bodies[i], bodies[i + 1])
                              : 0;
    AppendLine(bodies[i], /*in_place=*/true, shared_with_previous, shared_with_next);
    shared_with_previous = shared_with_next;
    if (++since_checkpoint_ >= checkpoint_entries_) {
      AppendCheckpoint("entries");
      shared_with_previous = 0;
    }
  }
  if (forced_checkpoint != nullptr) {
    AppendCheckpoint(forced_checkpoint);
  } else if (since_checkpoint_ > 0 &&
             clock_.Monotonic() - last_checkpoint_ >= checkpoint_interval_) {
    AppendCheckpoint("interval");
  }
  if (pieces_.empty()) return Status::Ok();
  views_.clear();
  for (const Piece& p : pieces_) {
    views_.push_back(p.data != nullptr ? std::string_view(p.data, p.size)
                                       : std::string_view(frames_).substr(p.offset, p.size));
  }
  Status s = AppendPiecesToSink(views_);
  // frames_ holds whole lines only for checkpoints and JSONx; wiped all the
  // same (a log_raw device's JSONx lines carry values as they are). The
  // capacity is kept unless one large batch made it big.
  explicit_bzero(frames_.data(), frames_.size());
  frames_.clear();
  if (frames_.capacity() > kKeptBufferBytes) std::string().swap(frames_);
  if (pieces_.capacity() > kKeptPieces) {
    std::vector<Piece>().swap(pieces_);
    std::vector<std::string_view>().swap(views_);
  }
  if (!s.ok()) {
    RollbackSink();
    seq_ = saved_seq;
    last_hash_ = saved_hash;
    since_checkpoint_ = saved_since;
    last_checkpoint_ = saved_time;
    return s;
  }
  std::scoped_lock lock(head_mu_);
  head_ = {seq_, last_hash_};
  return Status::Ok();
}

Status Device::Write(std::string body) {
  std::vector<std::string> bodies;
  bodies.push_back(std::move(body));
  return Write(std::move(bodies));
}

Status Device::Write(std::vector<std::string> bodies) {
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Status status;
  };
  auto w = std::make_shared<Waiter>();
  WriteAsync(std::move(bodies), [w](Status s) {
    std::scoped_lock lock(w->mu);
    w->status = std::move(s);
    w->done = true;
    w->cv.notify_one();
  });
  std::unique_lock lock(w->mu);
  w->cv.wait(lock, [&] { return w->done; });
  return w->status;
}

void Device::WriteAsync(std::vector<std::string> bodies, std::function<void(Status)> done) {
  std::unique_lock lock(mu_);
  if (closed_) {
    lock.unlock();
    done(Unavailable("audit device " + config_.path + " is closed"));
    return;
  }
  const bool first = pending_->callbacks.empty();
  for (auto& b : bodies) pending_->bodies.push_back(std::move(b));
  pending_->callbacks.push_back(std::move(done));
  // The flusher thread writes; callers never make the system call. Only the
  // first entry of a batch needs to wake it.
  if (first && flusher_waiting_) work_cv_.notify_one();
}

Status Device::WriteNow(std::span<const std::string_view> bodies) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !writing_; });
  if (closed_) return Unavailable("audit device " + config_.path + " is closed");
  writing_ = true;
  lock.unlock();
  Status s = Flush(bodies, nullptr);
  lock.lock();
  writing_ = false;
  cv_.notify_all();
  // What queued for the writer thread meanwhile is its to write.
  if (!pending_->callbacks.empty() && flusher_waiting_) work_cv_.notify_one();
  return s;
}

void Device::FlusherLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    flusher_waiting_ = true;
    work_cv_.wait(lock, [&] { return stop_ || (!writing_ && !pending_->callbacks.empty()); });
    flusher_waiting_ = false;
    if (writing_) continue;
    if (pending_->callbacks.empty()) break;  // stop_ with nothing left
    // Everything queued while the last batch was written goes in one write.
    writing_ = true;
    DrainLocked(lock);
    writing_ = false;
    cv_.notify_all();
  }
}

void Device::StartFlusher() {
  flusher_ = std::thread([this] { FlusherLoop(); });
}

void Device::StopFlusher() {
  {
    std::scoped_lock lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
}

void Device::DrainLocked(std::unique_lock<std::mutex>& lock) {
  while (!pending_->callbacks.empty()) {
    std::unique_ptr<Batch> batch = std::move(pending_);
    pending_ = std::make_unique<Batch>();
    bool closed = closed_;
    lock.unlock();
    Status s = Unavailable("audit device " + config_.path + " is closed");
    if (!closed) {
      std::vector<std::string_view> views(batch->bodies.begin(), batch->bodies.end());
      s = Flush(views, nullptr);
    }
    for (auto& cb : batch->callbacks) cb(s);
    lock.lock();
  }
}

void Device::Exclusive(const std::function<void()>& fn, bool close) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !writing_; });
  writing_ = true;
  // Entries that queued up go first, in order.
  DrainLocked(lock);
  lock.unlock();
  fn();
  lock.lock();
  if (close) closed_ = true;
  DrainLocked(lock);
  writing_ = false;
  cv_.notify_all();
  work_cv_.notify_all();
}

Status Device::Reopen() {
  Status result;
  Exclusive([&] {
    std::span<const std::string_view> none;
    // The old file ends with a signed "rotate" checkpoint; the new one
    // continues the chain from it.
    Status s = Flush(none, "rotate");
    if (!s.ok())
      Log(LogModule::kAudit)
          .warn("{}: rotate checkpoint not written: {}", config_.path, s.ToString());
    CloseSink();
    result = OpenSink();
  });
  return result;
}

void Device::Close() {
  Exclusive(
      [&] {
        std::span<const std::string_view> none;
        Status s = Flush(none, "close");
        if (!s.ok()) {
          Log(LogModule::kAudit)
              .warn("{}: close checkpoint not written: {}", config_.path, s.ToString());
        }
        CloseSink();
      },
      /*close=*/true);
  StopFlusher();
}

ChainHead Device::head() const {
  std::scoped_lock lock(head_mu_);
  return head_;
}

bool Device::VerifyCheckpoint(std::uint64_t seq, std::string_view prev_hash,
                              std::string_view hmac_hex) const {
  std::string expected = CheckpointMac(checkpoint_key_, config_.path, seq, prev_hash);
  return !expected.empty() && ConstantTimeEquals(expected, hmac_hex);
}

}  // namespace coffer::audit
