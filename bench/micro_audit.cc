// Micro-benchmarks (Google Benchmark) of what a file audit device adds to a
// KV v2 read: rendering the request and response entries (every value
// HMAC'd), one salted HMAC, and the whole broker path — render, frame into
// the hash chain, write(2) to a file and wait for it — as the server does for
// an audited read. Single-threaded, so the figures are CPU cost per request
// without the noise of a loaded machine.
//
// Run: build-*/bench/micro_audit [--benchmark_min_time=0.2]

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "audit/broker.h"
#include "audit/entry.h"
#include "audit/hash.h"
#include "common/clock.h"
#include "common/loop_turn.h"
#include "common/secret_bytes.h"
#include "storage/inmem/inmem_backend.h"

namespace {

using coffer::logical::Json;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "micro_audit: %s\n", what);
  std::abort();
}

struct KvRead {
  coffer::logical::Request request;
  coffer::logical::Response response;
  coffer::audit::MountInfo mount{"kv", "secret/", "kv_1234abcd", {}, {}};

  KvRead() {
    request.id = "6b1a8a52-3c1e-4f7e-9d52-0c5d2f0e9a11";
    request.operation = coffer::logical::Operation::kRead;
    request.path = "secret/data/bench/audit";
    request.client_token = "hvs.CAESIJ3gk0Xq1nYVw2s8dN0lR5aKQv7fWcT4mZb6yEoP1uHjGh4KHGh2cy5";
    request.remote_address = "127.0.0.1";
    request.mount_point = "secret/";
    request.relative_path = "data/bench/audit";
    auto auth = std::make_shared<coffer::logical::Auth>();
    auth->accessor = "8Qw3rTzYp1LmN6vB2xC4kJ7h";
    auth->policies = {"app-read", "default"};
    auth->display_name = "approle";
    auth->metadata = {{"role_name", "app"}};
    auth->entity_id = "0f7d6c3e-1a2b-4c5d-8e9f-001122334455";
    request.auth = std::move(auth);
    response.data = Json{{"data", {{"user", "app"}, {"password", "bench-password"}}},
                         {"metadata",
                          {{"created_time", "2026-11-29T01:00:00.123456789Z"},
                           {"custom_metadata", nullptr},
                           {"deletion_time", ""},
                           {"destroyed", false},
                           {"version", 1}}}};
    response.mount_type = "kv";
  }
};

std::shared_ptr<const coffer::audit::Salt> MakeSalt() {
  auto salt = coffer::audit::Salt::Create(coffer::SecretBytes::FromString(std::string(32, 's')));
  if (!salt) Die("salt");
  return *salt;
}

void BM_AuditHmacValue(benchmark::State& state) {
  auto salt = MakeSalt();
  std::string out;
  for (auto _ : state) {
    out.clear();
    salt->AppendHash(out, "bench-password");
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_AuditHmacValue);

void BM_AuditRenderKvRead(benchmark::State& state) {
  auto salt = MakeSalt();
  KvRead kv;
  coffer::audit::EntryOptions options;
  auto now = std::chrono::system_clock::now();
  coffer::audit::EntrySource req{
      coffer::audit::EntrySource::Type::kRequest, &kv.request, &kv.mount, nullptr, "", now};
  coffer::audit::EntrySource resp{
      coffer::audit::EntrySource::Type::kResponse, &kv.request, &kv.mount, &kv.response, "", now};
  for (auto _ : state) {
    coffer::audit::RenderCache tokens;  // per request, as the broker does
    std::string a = coffer::audit::Render(req, *salt, options, &tokens);
    std::string b = coffer::audit::Render(resp, *salt, options, &tokens);
    benchmark::DoNotOptimize(a.data());
    benchmark::DoNotOptimize(b.data());
  }
}
BENCHMARK(BM_AuditRenderKvRead);

// A broker with one file device, in a temporary directory removed at the end.
struct FileAuditBroker {
  coffer::SystemClock clock;
  coffer::storage::InmemBackend barrier;
  coffer::audit::Broker broker{barrier, clock};
  std::string dir;

  FileAuditBroker() {
    char dir_template[] = "/tmp/coffer-micro-audit-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) Die("mkdtemp");
    dir = dir_template;
    coffer::audit::DeviceConfig config;
    config.path = "file/";
    config.type = "file";
    config.options = Json{{"file_path", dir + "/audit.log"}};
    if (!broker.Enable(config).ok()) Die("enable the file device");
  }
  ~FileAuditBroker() {
    broker.Unload();
    std::filesystem::remove_all(dir);
  }
};

// The broker path of an audited read: both entries rendered, handed to the
// file device, framed into the chain, written, and waited for.
void BM_AuditBrokerKvRead(benchmark::State& state) {
  FileAuditBroker audit;
  coffer::audit::Broker& broker = audit.broker;
  KvRead kv;
  for (auto _ : state) {
    auto s = broker.LogRequestAndResponse(kv.request, kv.mount, std::chrono::system_clock::now(),
                                          &kv.response, "");
    if (!s.ok()) Die("audit write failed");
  }
}
BENCHMARK(BM_AuditBrokerKvRead)->MeasureProcessCPUTime()->UseRealTime();

// An I/O thread's loop: what AtEnd is given runs when the turn ends.
class BenchTurn : public coffer::LoopTurn {
 public:
  void AtEnd(std::function<void()> fn) override { at_end_.push_back(std::move(fn)); }
  void End() {
    while (!at_end_.empty()) {
      auto fns = std::move(at_end_);
      at_end_.clear();
      for (auto& fn : fns) fn();
    }
  }

 private:
  std::vector<std::function<void()>> at_end_;
};

// The path of audited reads answered on an I/O thread, as the server takes
// it: `state.range(0)` reads per loop turn, their entries rendered into the
// turn's text and written together (framed, hashed, one write(2)) when the
// turn ends. Per read, counting the write.
void BM_AuditTurnKvRead(benchmark::State& state) {
  FileAuditBroker audit;
  coffer::audit::Broker& broker = audit.broker;
  KvRead kv;
  BenchTurn turn;
  coffer::LoopTurn::SetCurrent(&turn);
  const auto per_turn = state.range(0);
  int failed = 0;
  for (auto _ : state) {
    for (int64_t i = 0; i < per_turn; ++i) {
      auto ticket = broker.LogRequestAndResponseAsync(
          kv.request, kv.mount, std::chrono::system_clock::now(), &kv.response, "");
      ticket->Then([&failed](coffer::Status s) { failed += s.ok() ? 0 : 1; });
    }
    turn.End();
  }
  coffer::LoopTurn::SetCurrent(nullptr);
  if (failed != 0) Die("audit write failed");
  state.SetItemsProcessed(state.iterations() * per_turn);
}
BENCHMARK(BM_AuditTurnKvRead)->Arg(8)->MeasureProcessCPUTime()->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
