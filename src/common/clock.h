#pragma once
// Time, behind an interface so tests can use a fake clock.
// Monotonic time schedules expiry; wall time is only for reported timestamps.

#include <atomic>
#include <chrono>
#include <cstdint>
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

// Token and lease times are kept in whole unix seconds. A token or lease is
// issued or renewed at the next whole second (UnixSecondsUp), so it lives
// at least its TTL and less than a second more, never less; whether an
// expiry has passed is asked with the second rounded down (UnixSeconds),
// which is exact against a whole-second expiry; the time left is counted
// from the next whole second, so it never reads more than was granted.
inline std::int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}
inline std::int64_t UnixSecondsUp(std::chrono::system_clock::time_point t) {
  return std::chrono::ceil<std::chrono::seconds>(t.time_since_epoch()).count();
}

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
