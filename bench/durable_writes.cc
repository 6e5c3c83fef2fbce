// durable_writes: how many durable, encrypted writes per second Coffer's
// storage stack takes from many concurrent writers.
//
// Opens a storage::LocalBackend (SQLite, WAL, synchronous=FULL, group commit)
// in DIR, wraps it in an AesGcmBarrier initialised and unsealed with a random
// root key, and runs THREADS threads that each Put distinct keys with
// VALUE_BYTES-byte values through the barrier for SECONDS seconds. Every Put
// returns only once it is on disk.
//
// Usage: durable_writes --dir=DIR [--threads=32] [--seconds=10]
//                       [--value-bytes=200] [--warmup=1]
// Prints one line of key=value pairs (for bench/run to parse):
//   writes=N seconds=S writes_per_sec=R p50_us=A p99_us=B max_us=C
//   commit_batches=K writes_per_batch=W errors=E
// Exit status: 0 on success, 1 if the backend could not be opened or any
// write failed, 2 on bad arguments.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "barrier/aes_gcm_barrier.h"
#include "common/secret_bytes.h"
#include "crypto/random.h"
#include "storage/local/local_backend.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string dir;
  int threads = 32;
  double seconds = 10;
  std::size_t value_bytes = 200;
  double warmup = 1;
};

bool ParseFlag(std::string_view arg, std::string_view name, std::string& out) {
  if (arg.size() > name.size() + 3 && arg.starts_with("--") && arg.substr(2, name.size()) == name &&
      arg[2 + name.size()] == '=') {
    out = std::string(arg.substr(3 + name.size()));
    return true;
  }
  return false;
}

bool ParseOptions(int argc, char** argv, Options& opts) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string v;
    if (ParseFlag(arg, "dir", v)) {
      opts.dir = v;
    } else if (ParseFlag(arg, "threads", v)) {
      opts.threads = std::atoi(v.c_str());
    } else if (ParseFlag(arg, "seconds", v)) {
      opts.seconds = std::atof(v.c_str());
    } else if (ParseFlag(arg, "value-bytes", v)) {
      opts.value_bytes = static_cast<std::size_t>(std::atol(v.c_str()));
    } else if (ParseFlag(arg, "warmup", v)) {
      opts.warmup = std::atof(v.c_str());
    } else {
      std::fprintf(stderr, "durable_writes: unknown argument %s\n", argv[i]);
      return false;
    }
  }
  if (opts.dir.empty() || opts.threads < 1 || opts.threads > 1024 || opts.seconds <= 0 ||
      opts.seconds > 600 || opts.warmup < 0 || opts.warmup > 60 || opts.value_bytes == 0 ||
      opts.value_bytes > (1 << 20)) {
    std::fprintf(stderr,
                 "usage: durable_writes --dir=DIR [--threads=1..1024] [--seconds=0..600] "
                 "[--value-bytes=N] [--warmup=S]\n");
    return false;
  }
  return true;
}

// One writer's measurements during the timed phase.
struct WriterStats {
  std::vector<std::uint32_t> latencies_us;
  std::uint64_t errors = 0;
};

std::uint32_t Percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  std::size_t idx = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(idx, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  if (!ParseOptions(argc, argv, opts)) return 2;

  auto opened = coffer::storage::LocalBackend::Open(opts.dir);
  if (!opened) {
    std::fprintf(stderr, "durable_writes: open %s: %s\n", opts.dir.c_str(),
                 opened.error().ToString().c_str());
    return 1;
  }
  std::unique_ptr<coffer::storage::LocalBackend> local = std::move(*opened);
  coffer::barrier::AesGcmBarrier barrier(*local);
  auto root_key = coffer::crypto::RandomSecret(coffer::barrier::AesGcmBarrier::kRootKeySize);
  if (!root_key) {
    std::fprintf(stderr, "durable_writes: random: %s\n", root_key.error().ToString().c_str());
    return 1;
  }
  if (coffer::Status s = barrier.Initialize(*root_key); !s.ok()) {
    std::fprintf(stderr, "durable_writes: initialize: %s\n", s.ToString().c_str());
    return 1;
  }
  if (coffer::Status s = barrier.Unseal(*root_key); !s.ok()) {
    std::fprintf(stderr, "durable_writes: unseal: %s\n", s.ToString().c_str());
    return 1;
  }

  // Not a secret: the benchmark's payload is filler.
  const std::string value(opts.value_bytes, 'v');

  // Phases: 0 = warm-up (writes not counted), 1 = measured, 2 = stop.
  std::atomic<int> phase{0};
  std::vector<WriterStats> stats(static_cast<std::size_t>(opts.threads));
  std::vector<std::thread> writers;
  writers.reserve(stats.size());
  for (int t = 0; t < opts.threads; ++t) {
    writers.emplace_back([&, t] {
      WriterStats& mine = stats[static_cast<std::size_t>(t)];
      mine.latencies_us.reserve(1 << 16);
      std::uint64_t n = 0;
      std::string key;
      for (int p = phase.load(std::memory_order_acquire); p != 2;
           p = phase.load(std::memory_order_acquire)) {
        key = "bench/w" + std::to_string(t) + "/k" + std::to_string(n++);
        auto start = Clock::now();
        coffer::Status s = barrier.Put(key, value);
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
        // A write that started in warm-up but ended after the switch is
        // counted as measured; the error is at most one write per thread.
        if (phase.load(std::memory_order_acquire) != 1) continue;
        if (!s.ok()) {
          ++mine.errors;
          continue;
        }
        mine.latencies_us.push_back(static_cast<std::uint32_t>(us.count()));
      }
    });
  }

  std::this_thread::sleep_for(std::chrono::duration<double>(opts.warmup));
  const std::uint64_t batches_before = local->CommitBatches();
  const auto t0 = Clock::now();
  phase.store(1, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::duration<double>(opts.seconds));
  phase.store(2, std::memory_order_release);
  const auto t1 = Clock::now();
  const std::uint64_t batches = local->CommitBatches() - batches_before;
  for (std::thread& w : writers) w.join();

  std::vector<std::uint32_t> all;
  std::uint64_t errors = 0;
  for (WriterStats& s : stats) {
    all.insert(all.end(), s.latencies_us.begin(), s.latencies_us.end());
    errors += s.errors;
  }
  std::sort(all.begin(), all.end());
  const double elapsed = std::chrono::duration<double>(t1 - t0).count();
  const double rate = static_cast<double>(all.size()) / elapsed;
  std::printf(
      "writes=%zu seconds=%.3f writes_per_sec=%.0f p50_us=%u p99_us=%u max_us=%u "
      "commit_batches=%llu writes_per_batch=%.1f errors=%llu\n",
      all.size(), elapsed, rate, Percentile(all, 0.50), Percentile(all, 0.99),
      all.empty() ? 0U : all.back(), static_cast<unsigned long long>(batches),
      batches == 0 ? 0.0 : static_cast<double>(all.size()) / static_cast<double>(batches),
      static_cast<unsigned long long>(errors));

  barrier.Seal();
  local->Close();
  return errors == 0 ? 0 : 1;
}
