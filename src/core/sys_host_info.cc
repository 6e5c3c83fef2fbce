#include "core/sys_host_info.h"

#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <charconv>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "common/clock.h"
#include "common/text.h"
#include "core/system_backend.h"

namespace coffer::core {
namespace hostinfo {
namespace {

using logical::Json;

std::string ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

template <typename T>
T Number(std::string_view s) {
  T v{};
  s = Trim(s, " \t\r");
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// Calls f(key, value) for each "key: value" (or key=value) line.
template <typename F>
void Lines(std::string_view text, char sep, F f) {
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    std::size_t at = line.find(sep);
    if (at == std::string_view::npos) {
      f(Trim(line, " \t\r"), std::string_view());
    } else {
      f(Trim(line.substr(0, at), " \t\r"), Trim(line.substr(at + 1), " \t\r"));
    }
  }
}

std::string Unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    v = v.substr(1, v.size() - 2);
  }
  return std::string(v);
}

Json Disks() {
  Json out = Json::array();
  std::istringstream mounts(ReadFile("/proc/self/mounts"));
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream fields(line);
    std::string device, path, fstype;
    if (!(fields >> device >> path >> fstype) || !device.starts_with("/dev/")) continue;
    struct statvfs st {};
    if (statvfs(path.c_str(), &st) != 0) continue;
    const double block = static_cast<double>(st.f_frsize);
    const double total = block * static_cast<double>(st.f_blocks);
    const double free = block * static_cast<double>(st.f_bavail);
    const double used = block * static_cast<double>(st.f_blocks - st.f_bfree);
    const double inodes = static_cast<double>(st.f_files);
    const double inodes_free = static_cast<double>(st.f_ffree);
    out.push_back(
        Json{{"path", path},
             {"fstype", fstype},
             {"total", static_cast<std::uint64_t>(total)},
             {"free", static_cast<std::uint64_t>(free)},
             {"used", static_cast<std::uint64_t>(used)},
             {"usedPercent", used + free > 0 ? used * 100.0 / (used + free) : 0.0},
             {"inodesTotal", static_cast<std::uint64_t>(inodes)},
             {"inodesUsed", static_cast<std::uint64_t>(inodes - inodes_free)},
             {"inodesFree", static_cast<std::uint64_t>(inodes_free)},
             {"inodesUsedPercent", inodes > 0 ? (inodes - inodes_free) * 100.0 / inodes : 0.0}});
  }
  return out;
}

Json Host() {
  Json host = Json::object();
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) == 0) host["hostname"] = std::string(name);
  struct sysinfo si {};
  if (sysinfo(&si) == 0) {
    host["uptime"] = static_cast<std::uint64_t>(si.uptime);
    host["bootTime"] = static_cast<std::uint64_t>(std::time(nullptr) - si.uptime);
    host["procs"] = static_cast<std::uint64_t>(si.procs);
  }
  host["os"] = "linux";
  host.update(ParseOsRelease(ReadFile("/etc/os-release")));
  struct utsname u {};
  if (uname(&u) == 0) {
    host["kernelVersion"] = std::string(u.release);
    host["kernelArch"] = std::string(u.machine);
  }
  host["virtualizationSystem"] = "";
  host["virtualizationRole"] = "";
  return host;
}

}  // namespace

Json ParseCpuInfo(std::string_view text) {
  Json out = Json::array();
  Json* cpu = nullptr;
  Lines(text, ':', [&](std::string_view key, std::string_view value) {
    if (key == "processor") {
      out.push_back(Json{{"cpu", Number<int>(value)}, {"flags", Json::array()}});
      cpu = &out.back();
      return;
    }
    if (cpu == nullptr) return;
    if (key == "vendor_id") (*cpu)["vendorId"] = std::string(value);
    if (key == "cpu family") (*cpu)["family"] = std::string(value);
    if (key == "model") (*cpu)["model"] = std::string(value);
    if (key == "stepping") (*cpu)["stepping"] = Number<int>(value);
    if (key == "physical id") (*cpu)["physicalId"] = std::string(value);
    if (key == "core id") (*cpu)["coreId"] = std::string(value);
    if (key == "cpu cores") (*cpu)["cores"] = Number<int>(value);
    if (key == "model name") (*cpu)["modelName"] = std::string(value);
    if (key == "cpu MHz") (*cpu)["mhz"] = Number<double>(value);
    if (key == "cache size") (*cpu)["cacheSize"] = Number<int>(value);  // "8192 KB"
    if (key == "microcode") (*cpu)["microcode"] = std::string(value);
    if (key == "flags") {
      std::istringstream flags{std::string(value)};
      for (std::string f; flags >> f;) (*cpu)["flags"].push_back(f);
    }
  });
  return out;
}

Json ParseCpuTimes(std::string_view stat, double ticks_per_second) {
  std::size_t end = stat.find('\n');
  std::string_view line = stat.substr(0, end);
  if (!line.starts_with("cpu ")) return Json::array();
  std::istringstream fields{std::string(line.substr(4))};
  static constexpr const char* kNames[] = {"user", "nice",    "system", "idle",  "iowait",
                                           "irq",  "softirq", "steal",  "guest", "guestNice"};
  Json times{{"cpu", "cpu-total"}};
  for (const char* name : kNames) {
    double ticks = 0;
    if (!(fields >> ticks)) ticks = 0;
    times[name] = ticks / ticks_per_second;
  }
  return Json::array({std::move(times)});
}

Json ParseMemInfo(std::string_view text) {
  std::map<std::string, std::uint64_t> kb;
  Lines(text, ':', [&](std::string_view key, std::string_view value) {
    kb[std::string(key)] = Number<std::uint64_t>(value);  // "16384 kB"
  });
  auto bytes = [&](const char* key) { return kb.count(key) ? kb[key] * 1024 : 0; };
  const std::uint64_t total = bytes("MemTotal");
  const std::uint64_t free = bytes("MemFree");
  const std::uint64_t buffers = bytes("Buffers");
  const std::uint64_t cached = bytes("Cached") + bytes("SReclaimable");
  const std::uint64_t used = total > free + buffers + cached ? total - free - buffers - cached : 0;
  return Json{{"total", total},
              {"available", bytes("MemAvailable")},
              {"used", used},
              {"usedPercent", total > 0 ? static_cast<double>(used) * 100.0 / total : 0.0},
              {"free", free},
              {"buffers", buffers},
              {"cached", cached},
              {"swapTotal", bytes("SwapTotal")},
              {"swapFree", bytes("SwapFree")}};
}

Json ParseOsRelease(std::string_view text) {
  std::string id, like, version;
  Lines(text, '=', [&](std::string_view key, std::string_view value) {
    if (key == "ID") id = Unquote(value);
    if (key == "ID_LIKE") like = Unquote(value);
    if (key == "VERSION_ID") version = Unquote(value);
  });
  return Json{{"platform", id},
              {"platformFamily", like.empty() ? id : like.substr(0, like.find(' '))},
              {"platformVersion", version}};
}

Json Collect() {
  const long hz = sysconf(_SC_CLK_TCK);
  return Json{{"cpu", ParseCpuInfo(ReadFile("/proc/cpuinfo"))},
              {"cpu_times", ParseCpuTimes(ReadFile("/proc/stat"), hz > 0 ? hz : 100)},
              {"disk", Disks()},
              {"host", Host()},
              {"memory", ParseMemInfo(ReadFile("/proc/meminfo"))},
              {"timestamp", FormatRfc3339(SystemClock::Instance().Wall())}};
}

}  // namespace hostinfo

Result<logical::Response> SystemBackend::HostInfo(const logical::Request& request) {
  if (request.operation != logical::Operation::kRead) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  logical::Response r;
  r.data = hostinfo::Collect();
  return r;
}

}  // namespace coffer::core
