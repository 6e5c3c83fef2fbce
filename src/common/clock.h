#pragma once
// Time, behind an interface so tests can use a fake clock.
// Monotonic time schedules expiry; wall time is only for reported timestamps.

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace coffer {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point Monotonic() const = 0;
  virtual std::chrono::system_clock::time_point Wall() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Monotonic() const override {
    return std::chrono::steady_clock::now();
  }
  std::chrono::system_clock::time_point Wall() const override {
    return std::chrono::system_clock::now();
  }
  static SystemClock& Instance() {
    static SystemClock clock;
    return clock;
  }
};

// Thread-safe fake: time moves only when Advance() is called.
class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Monotonic() const override {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(mono_ns_.load()));
  }
  std::chrono::system_clock::time_point Wall() const override {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(wall_ns_.load())));
  }
  void Advance(std::chrono::nanoseconds d) {
    mono_ns_ += d.count();
    wall_ns_ += d.count();
  }

 private:
  std::atomic<long long> mono_ns_{1'000'000'000};
  std::atomic<long long> wall_ns_{1'767'225'600'000'000'000};  // 2026-01-01T00:00:00Z
};

// RFC 3339 with nanoseconds in UTC, as Vault reports times.

std::string FormatRfc3339(std::chrono::system_clock::time_point t);
// The same, appended to `out` (no temporary string).
void AppendRfc3339(std::string& out, std::chrono::system_clock::time_point t);

// An RFC 3339 timestamp as Go's time.RFC3339 layout reads one:
// "2026-12-05T10:00:00Z", with optional fractional seconds (up to 9 digits)
// and a "Z" or "+hh:mm"/"-hh:mm" offset ('t' and 'z' also accepted).
// nullopt for anything else, including out-of-range fields (month 13,
// February 30, hour 24) and times the clock cannot hold (before 1678 or
// after 2262).
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

}  // namespace coffer
