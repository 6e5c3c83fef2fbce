#pragma once
// The server process's own gauges, read from /proc/self at scrape time:
// resident memory, open file descriptors, start time and CPU seconds.
// A value that cannot be read (no /proc) is left out rather than reported
// as zero. Thread-safe; no state.

#include <prometheus/metric_family.h>

#include <string_view>
#include <vector>

namespace coffer::metrics {

// coffer_process_resident_memory_bytes, coffer_process_open_fds,
// coffer_process_start_time_seconds, coffer_process_cpu_seconds_total.
std::vector<prometheus::MetricFamily> CollectProcess();

// Fields of a /proc/<pid>/stat line, counted from 1 as proc(5) does (1 is
// the pid, 2 the command); the command may contain spaces and parentheses.
// Empty when the line is malformed or has fewer fields.
std::string_view StatField(std::string_view stat_line, int field);

}  // namespace coffer::metrics
