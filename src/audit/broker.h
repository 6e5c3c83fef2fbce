#pragma once
// The audit broker: the set of enabled devices, their table, and the two
// calls the request pipeline makes (LogRequest before anything is done,
// LogResponse before the answer leaves).
//
// The table lives at "core/audit" in the encrypted store, with each
// device's salt; it is read at unseal and devices are reopened then.
// Devices are held in an immutable snapshot swapped on enable/disable, so
// logging takes no lock of the broker's.
//
// Thread-safe. Errors: kInvalidArgument (bad path, type or option),
// kNotFound (no device at a path), kInternal from LogRequest/LogResponse
// when devices wanted the entry and none could write it (fail closed).

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "audit/device.h"
#include "audit/entry.h"
#include "common/clock.h"
#include "metrics/telemetry.h"
#include "storage/backend.h"

namespace coffer::audit {

// The outcome of entries handed to the devices without waiting: complete
// when every device that wanted them wrote or failed. Thread-safe.
class Ticket {
 public:
  // `entry`: which failure counter a ticket no device could write counts
  // in (a request/response pair counts as a request).
  Ticket(std::size_t devices, metrics::AuditEntry entry) : outstanding_(devices), entry_(entry) {}
  // Runs `then` with Ok (at least one device wrote, or none wanted the
  // entries) or kInternal — at once if the ticket is complete.
  void Then(std::function<void(Status)> then);
  // Blocks until the ticket completes; its outcome as Then gives it.
  Status Wait();
  void DeviceDone(bool written);

 private:
  std::mutex mu_;
  std::size_t outstanding_;           // guarded by mu_
  std::size_t written_ = 0;           // guarded by mu_
  bool wanted_ = false;               // guarded by mu_
  std::function<void(Status)> then_;  // guarded by mu_
  metrics::AuditEntry entry_;
  friend class Broker;
};

class Broker {
 public:
  Broker(storage::Backend& barrier, Clock& clock);
  ~Broker();

  Status Load();
  // Writes a "close" checkpoint to every device and drops them.
  void Unload();

  bool Enabled() const { return !std::atomic_load(&devices_)->empty(); }

  Status Enable(DeviceConfig config);
  Status Disable(std::string_view path);
  std::vector<DeviceConfig> List() const;
  // "hmac-sha256:<hex>" of `input` under the device's salt.
  Result<std::string> Hash(std::string_view path, std::string_view input) const;
  // Log rotation: every device closes and reopens its sink. Returns the
  // first error; the others are logged.
  Status Reopen();

  Result<ChainHead> Head(std::string_view path) const;
  Result<bool> VerifyCheckpoint(std::string_view path, std::uint64_t seq,
                                std::string_view prev_hash, std::string_view hmac_hex) const;

  Status LogRequest(const logical::Request& request, const MountInfo& mount,
                    std::string_view error);
  Status LogResponse(const logical::Request& request, const MountInfo& mount,
                     const logical::Response* response, std::string_view error);

  // For requests that change nothing (reads): both entries at once, after
  // the work and before the answer leaves, in one write per device.
  // `request_time` is when the request entry would have been written.
  Status LogRequestAndResponse(const logical::Request& request, const MountInfo& mount,
                               std::chrono::system_clock::time_point request_time,
                               const logical::Response* response, std::string_view error);

  // The same without waiting for the devices (a read answered on an I/O
  // thread): the entries are rendered now; the answer may leave when the
  // ticket completes with Ok. On a thread with a LoopTurn the entries are
  // written at the end of its turn, on that thread, together with the
  // others of the turn (the ticket completes there); elsewhere each
  // device's writer thread writes them.
  std::shared_ptr<Ticket> LogRequestAndResponseAsync(
      const logical::Request& request, const MountInfo& mount,
      std::chrono::system_clock::time_point request_time, const logical::Response* response,
      std::string_view error);

  static Result<std::string> NormalizePath(std::string_view path);

 private:
  using Devices = std::vector<std::shared_ptr<Device>>;
  Status Persist(const Devices& devices);
  // Writes one or two entries (a request's pair) to every device that wants
  // them.
  Status Log(const EntrySource& entry, const EntrySource* second);
  // With `in_turn`, on a thread with a LoopTurn: at the end of the turn.
  std::shared_ptr<Ticket> LogAsync(const EntrySource& entry, const EntrySource* second,
                                   bool in_turn);
  std::shared_ptr<Device> Find(std::string_view path) const;

  storage::Backend& barrier_;
  Clock& clock_;
  std::mutex mu_;  // serialises enable/disable/load
  std::shared_ptr<const Devices> devices_;
};

}  // namespace coffer::audit
