#pragma once
// An audit device: where entries go (a file, a socket, syslog), with its own
// salt, options, filter and hash chain.
//
// Writes are grouped: callers append their entries to a pending batch; the
// device's writer thread takes everything pending, frames it into the chain
// and writes it with one system call, while the next batch fills. Nobody
// waits for the writer but Write(); WriteAsync() callers get a callback.
// WriteNow() is for callers that gathered a batch themselves (an I/O thread
// at the end of its loop turn) and write it on their own thread. Either way
// an entry counts as written only once it reached the sink's write path
// (write(2) returned for files and sockets; there is no fsync per entry).
// When a write fails, the batch is rolled back (a file is truncated to its
// last whole line) and every caller in it gets the error, so nobody is told
// "recorded" for a line that is not there.
//
// Thread-safe.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "audit/chain.h"
#include "audit/entry.h"
#include "audit/filter.h"
#include "audit/hash.h"
#include "common/clock.h"
#include "common/status.h"

namespace coffer::audit {

struct DeviceConfig {
  std::string path;  // "file/"
  std::string type;  // "file", "socket", "syslog"
  std::string description;
  logical::Json options = logical::Json::object();  // string values, as Vault
  bool local = false;
};

struct ChainHead {
  std::uint64_t seq = 0;
  std::string hash;  // of the line with `seq`; zeros before the first line
};

class Device {
 public:
  // Validates options and opens the sink. Errors: kInvalidArgument (bad
  // option, cannot open the sink — the message says why).
  // With `restoring` (at unseal), a sink that cannot be opened is logged
  // and retried on each write instead: the device then fails closed.
  static Result<std::unique_ptr<Device>> Create(const DeviceConfig& config,
                                                std::shared_ptr<const Salt> salt, Clock& clock,
                                                bool restoring = false);
  virtual ~Device();

  const DeviceConfig& config() const { return config_; }
  const Salt& salt() const { return *salt_; }
  const EntryOptions& entry_options() const { return entry_options_; }
  // Whether this device records an entry with these attributes.
  bool Wants(const FilterInput& in) const { return !filter_ || filter_->Matches(in); }

  // Frames and writes one rendered entry. Errors: kUnavailable when the sink
  // could not take it.
  Status Write(std::string body);
  // Writes several entries as consecutive lines (one request's request and
  // response entries): all of them or, on failure, none.
  Status Write(std::vector<std::string> bodies);
  // The same without waiting: `done` runs once the lines were written (or
  // failed) — on this thread when it does the write itself, else on the
  // thread that is writing. It must not call back into this device.
  void WriteAsync(std::vector<std::string> bodies, std::function<void(Status)> done);
  // Writes `bodies` as consecutive lines on the calling thread, once the
  // writer thread (or another caller) is not writing: for a caller that
  // gathered the entries of many requests itself (an I/O thread at the end
  // of its loop turn). Errors as Write.
  Status WriteNow(std::span<const std::string_view> bodies);
  // Whether a write returns at once (a local file: into the page cache), so
  // an I/O thread may make it itself. A socket or syslog write can stall on
  // the other end; those go through the writer thread.
  virtual bool QuickWrites() const { return false; }
  // Closes the current sink after a "rotate" checkpoint and opens it again
  // (log rotation by SIGHUP). Errors as Write.
  Status Reopen();
  // Writes a "close" checkpoint and closes the sink; later writes fail.
  void Close();

  ChainHead head() const;
  // Constant-time check of a checkpoint's signature.
  bool VerifyCheckpoint(std::uint64_t seq, std::string_view prev_hash,
                        std::string_view hmac_hex) const;

 protected:
  Device(DeviceConfig config, std::shared_ptr<const Salt> salt, Clock& clock);

  // Opens the sink (also used to reopen after a failure). Errors:
  // kUnavailable with a reason.
  virtual Status OpenSink() = 0;
  virtual void CloseSink() = 0;
  // Writes all bytes (one or more '\n'-terminated lines) or fails.
  virtual Status AppendToSink(std::string_view bytes) = 0;
  // The same for bytes given in consecutive pieces (the lines of a batch,
  // each from where it was rendered and its frame). By default they are
  // joined and given to AppendToSink; a file writes them with writev.
  virtual Status AppendPiecesToSink(std::span<const std::string_view> pieces);
  // Lists built per write (pieces, two per line; a file's iovecs) are given
  // back after a write of more pieces than this (a batch after a stall)
  // rather than kept for the device's life.
  static constexpr std::size_t kKeptPieces = 1 << 14;
  // After a failed append: removes any partial bytes if the sink can.
  virtual void RollbackSink() {}
  // The last line already in the sink, to continue its chain (files).
  virtual std::optional<std::string> LastLineInSink() { return std::nullopt; }

  const DeviceConfig config_;

 private:
  struct Batch {
    std::vector<std::string> bodies;
    std::vector<std::function<void(Status)>> callbacks;
  };
  Status Init(bool restoring);
  // Leader only: frames bodies (and due checkpoints) and writes them.
  Status Flush(std::span<const std::string_view> bodies, const char* forced_checkpoint);
  // Adds one framed line to the write being prepared. A JSON body that
  // stays where it is until the write (`in_place`) is written from there,
  // with only its frame in `frames_`; any other line is copied there whole.
  // `shared_with_previous` / `shared_with_next`: SharedFramedPrefix of this
  // body and the one written just before / just after it (0: none).
  void AppendLine(std::string_view body, bool in_place, std::size_t shared_with_previous = 0,
                  std::size_t shared_with_next = 0);
  void AppendCheckpoint(const char* reason);
  // Writes pending batches until none is left; the caller holds the writer
  // role (writing_) and `lock`.
  void DrainLocked(std::unique_lock<std::mutex>& lock);
  // The writer thread: takes whatever is pending and writes it in one go.
  void FlusherLoop();
  void StartFlusher();

 protected:
  // Stops the writer thread after it wrote what is pending; derived
  // destructors call it first, before their sink goes away. Idempotent.
  void StopFlusher();

 private:
  // Takes the writer role exclusively (for Reopen/Close); with `close`,
  // later writes fail.
  void Exclusive(const std::function<void()>& fn, bool close = false);

  std::shared_ptr<const Salt> salt_;
  SecretBytes checkpoint_key_;
  Clock& clock_;
  EntryOptions entry_options_;
  std::shared_ptr<const Filter> filter_;
  std::uint64_t checkpoint_entries_ = 1000;
  std::chrono::seconds checkpoint_interval_{60};

  std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<Batch> pending_;   // guarded by mu_
  bool writing_ = false;             // guarded by mu_
  bool closed_ = false;              // guarded by mu_
  bool stop_ = false;                // guarded by mu_
  bool flusher_waiting_ = false;     // guarded by mu_
  std::condition_variable work_cv_;  // wakes the flusher
  std::thread flusher_;

  // Chain state: touched only by the leader (writing_ == true).
  std::uint64_t seq_ = 0;
  std::string last_hash_ = std::string(64, '0');
  LineHasher hasher_;
  std::uint64_t since_checkpoint_ = 0;
  std::chrono::steady_clock::time_point last_checkpoint_;
  // What one write appends, kept from write to write so that a batch costs
  // no allocation (leader only, like the chain): the frames and copied
  // lines, and the pieces in order — a JSON entry's head where it was
  // rendered (`data`), anything else in `frames_` (`data` null, `offset`).
  struct Piece {
    const char* data = nullptr;
    std::size_t offset = 0;
    std::size_t size = 0;
  };
  std::string frames_;
  std::vector<Piece> pieces_;
  std::vector<std::string_view> views_;
  std::string joined_;  // for AppendPiecesToSink's default

  mutable std::mutex head_mu_;
  ChainHead head_;  // guarded by head_mu_; updated after each good flush
};

}  // namespace coffer::audit
