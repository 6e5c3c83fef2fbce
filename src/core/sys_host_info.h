#pragma once
// sys/host-info (Vault's API): the host the server runs on, read from
// /proc, /etc/os-release, statvfs and uname, in the field names Vault's
// answer has (gopsutil's). The parsers take the files' text so that tests
// can feed them fixed inputs.

#include <string_view>

#include "logical/request.h"

namespace coffer::core::hostinfo {

// /proc/cpuinfo: one object per processor.
logical::Json ParseCpuInfo(std::string_view text);
// The "cpu " line of /proc/stat, in seconds (`ticks_per_second`: USER_HZ).
logical::Json ParseCpuTimes(std::string_view stat, double ticks_per_second);
// /proc/meminfo, in bytes.
logical::Json ParseMemInfo(std::string_view text);
// /etc/os-release: {platform, platformFamily, platformVersion}.
logical::Json ParseOsRelease(std::string_view text);
// Everything, read now.
logical::Json Collect();

}  // namespace coffer::core::hostinfo
