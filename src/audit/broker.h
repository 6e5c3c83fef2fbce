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

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "audit/device.h"
#include "audit/entry.h"
#include "common/clock.h"
#include "storage/backend.h"

namespace coffer::audit {

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

  static Result<std::string> NormalizePath(std::string_view path);

 private:
  using Devices = std::vector<std::shared_ptr<Device>>;
  Status Persist(const Devices& devices);
  // Writes one or two entries (a request's pair) to every device that wants
  // them.
  Status Log(const EntrySource& entry, const EntrySource* second);
  std::shared_ptr<Device> Find(std::string_view path) const;

  storage::Backend& barrier_;
  Clock& clock_;
  std::mutex mu_;  // serialises enable/disable/load
  std::shared_ptr<const Devices> devices_;
};

}  // namespace coffer::audit
