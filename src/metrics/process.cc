#include "metrics/process.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "metrics/exposition.h"

namespace coffer::metrics {
namespace {

std::optional<std::string> ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<double> Number(std::string_view text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  return v;
}

// Seconds since the epoch at which the system booted ("btime" in /proc/stat).
std::optional<double> BootTime() {
  auto stat = ReadFile("/proc/stat");
  if (!stat) return std::nullopt;
  std::istringstream lines(*stat);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("btime ")) return Number(std::string_view(line).substr(6));
  }
  return std::nullopt;
}

}  // namespace

std::string_view StatField(std::string_view line, int field) {
  if (field <= 0) return {};
  if (field <= 2) {
    // pid, then "(comm)"
    std::size_t open = line.find('(');
    std::size_t close = line.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
      return {};
    }
    if (field == 2) return line.substr(open, close - open + 1);
    std::string_view pid = line.substr(0, open);
    while (!pid.empty() && pid.back() == ' ') pid.remove_suffix(1);
    return pid;
  }
  std::size_t close = line.rfind(')');
  if (close == std::string_view::npos) return {};
  std::string_view rest = line.substr(close + 1);
  int index = 2;
  std::size_t pos = 0;
  while (true) {
    while (pos < rest.size() && (rest[pos] == ' ' || rest[pos] == '\n')) ++pos;
    if (pos >= rest.size()) return {};
    std::size_t end = rest.find_first_of(" \n", pos);
    if (end == std::string_view::npos) end = rest.size();
    if (++index == field) return rest.substr(pos, end - pos);
    pos = end;
  }
}

std::vector<prometheus::MetricFamily> CollectProcess() {
  std::vector<prometheus::MetricFamily> out;
  const long page = sysconf(_SC_PAGESIZE);
  const long ticks = sysconf(_SC_CLK_TCK);

  if (auto statm = ReadFile("/proc/self/statm")) {
    std::string_view s(*statm);
    std::size_t space = s.find(' ');
    if (space != std::string_view::npos) {
      if (auto pages = Number(s.substr(space + 1, s.find(' ', space + 1) - space - 1))) {
        out.push_back(GaugeFamily("coffer_process_resident_memory_bytes",
                                  "Resident memory of the server process, in bytes.",
                                  *pages * static_cast<double>(page)));
      }
    }
  }

  std::error_code ec;
  std::size_t fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++fds;
  }
  // The directory iterator's own descriptor is one of the entries.
  if (!ec && fds > 0) {
    out.push_back(GaugeFamily("coffer_process_open_fds", "Open file descriptors of the process.",
                              static_cast<double>(fds - 1)));
  }

  if (auto stat = ReadFile("/proc/self/stat"); stat && ticks > 0) {
    auto utime = Number(StatField(*stat, 14));
    auto stime = Number(StatField(*stat, 15));
    auto start = Number(StatField(*stat, 22));
    if (utime && stime) {
      prometheus::MetricFamily cpu =
          GaugeFamily("coffer_process_cpu_seconds_total",
                      "User and system CPU time of the process, in seconds.", 0);
      cpu.type = prometheus::MetricType::Counter;
      cpu.metric[0].counter.value = (*utime + *stime) / static_cast<double>(ticks);
      out.push_back(std::move(cpu));
    }
    auto boot = BootTime();
    if (start && boot) {
      out.push_back(GaugeFamily("coffer_process_start_time_seconds",
                                "When the process started, in seconds since the Unix epoch.",
                                *boot + *start / static_cast<double>(ticks)));
    }
  }
  return out;
}

}  // namespace coffer::metrics
