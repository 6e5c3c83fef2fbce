// Micro-benchmarks (Google Benchmark) of the per-request work above storage:
// ACL evaluation with 1, 10 and 100 policies (compiled once, as the policy
// store caches them), JSON decode and encode of a typical KV v2 read
// response, and token lookup (a cached service token: HMAC + cache hit; a
// batch token: HMAC + AES-GCM open of the token itself), and the KV v2
// engine's decoders of a key's metadata record and of one version record,
// which every KV read runs, and a whole KV v2 read in the engine over the
// in-memory store, of 1,000 keys (each key's decoded metadata cached) and of
// 100,000 (almost every read decodes it).
//
// Run: build-*/bench/micro_core [--benchmark_min_time=0.2]

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "engines/kv/kv.h"
#include "engines/kv/records.h"
#include "logical/registry.h"
#include "policy/acl.h"
#include "policy/policy.h"
#include "storage/inmem/inmem_backend.h"
#include "token/token_store.h"

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "micro_core: %s\n", what);
  std::abort();
}

// n policies of four paths each (an exact path, a glob, a '+' segment and a
// deny), the last one granting read on the benchmarked path.
std::shared_ptr<const coffer::policy::Acl> MakeAcl(int n) {
  std::vector<std::shared_ptr<const coffer::policy::Policy>> policies;
  for (int i = 0; i < n; ++i) {
    const std::string s = std::to_string(i);
    std::string text = "path \"secret/data/team" + s +
                       "/*\" { capabilities = [\"read\", \"list\"] }\n" +
                       "path \"secret/data/+/app" + s + "\" { capabilities = [\"update\"] }\n" +
                       "path \"sys/mounts/" + s + "\" { capabilities = [\"read\"] }\n" +
                       "path \"secret/data/team" + s + "/private\" { capabilities = [\"deny\"] }\n";
    if (i == n - 1) text += "path \"secret/data/bench*\" { capabilities = [\"read\"] }\n";
    auto p = coffer::policy::ParsePolicy("p" + s, text);
    if (!p) Die("policy does not parse");
    policies.push_back(std::make_shared<const coffer::policy::Policy>(std::move(*p)));
  }
  auto acl = coffer::policy::Acl::Compile(policies);
  if (!acl) Die("ACL does not compile");
  return *acl;
}

void BM_AclCheck(benchmark::State& state) {
  auto acl = MakeAcl(static_cast<int>(state.range(0)));
  const nlohmann::json params = nlohmann::json::object();
  for (auto _ : state) {
    auto decision = acl->Check("secret/data/bench/app", coffer::logical::Operation::kRead, params);
    benchmark::DoNotOptimize(decision);
  }
}
BENCHMARK(BM_AclCheck)->Arg(1)->Arg(10)->Arg(100);

// The body of GET secret/data/bench: 5 fields of data plus the version
// metadata, as the server answers it (~600 bytes).
std::string TypicalResponse() {
  nlohmann::json data = nlohmann::json::object();
  for (int i = 0; i < 5; ++i) data["field" + std::to_string(i)] = std::string(32, 'a' + i);
  nlohmann::json body = {{"request_id", "0b4c4b9e-6a2f-4c1e-9d57-2f1b6f8c8d11"},
                         {"lease_id", ""},
                         {"renewable", false},
                         {"lease_duration", 0},
                         {"data",
                          {{"data", data},
                           {"metadata",
                            {{"created_time", "2026-11-28T23:10:42.123456789Z"},
                             {"custom_metadata", nullptr},
                             {"deletion_time", ""},
                             {"destroyed", false},
                             {"version", 3}}}}},
                         {"wrap_info", nullptr},
                         {"warnings", nullptr},
                         {"auth", nullptr}};
  return body.dump();
}

void BM_JsonDecodeResponse(benchmark::State& state) {
  const std::string text = TypicalResponse();
  for (auto _ : state) {
    auto j = nlohmann::json::parse(text);
    benchmark::DoNotOptimize(j);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_JsonDecodeResponse);

void BM_JsonEncodeResponse(benchmark::State& state) {
  const nlohmann::json j = nlohmann::json::parse(TypicalResponse());
  for (auto _ : state) {
    std::string s = j.dump();
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_JsonEncodeResponse);

// A key's metadata record as the engine stores it: three versions, no custom
// metadata.
std::string TypicalMetadataRecord() {
  coffer::engines::kv::KeyMetadata m;
  m.current_version = 3;
  m.oldest_version = 1;
  m.created_time = 1'795'000'000'000'000'000;
  m.updated_time = m.created_time + 2'000'000'000;
  for (std::uint64_t n = 1; n <= 3; ++n) {
    m.versions[n] = {m.created_time + static_cast<std::int64_t>(n) * 1'000'000'000, std::nullopt,
                     false};
  }
  return coffer::engines::kv::EncodeMetadata(m);
}

void BM_KvDecodeMetadata(benchmark::State& state) {
  const std::string text = TypicalMetadataRecord();
  for (auto _ : state) {
    auto m = coffer::engines::kv::DecodeMetadata(text);
    if (!m || m->versions.size() != 3) Die("metadata record does not decode");
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_KvDecodeMetadata);

// One version record with the 5 fields of TypicalResponse().
void BM_KvDecodeVersion(benchmark::State& state) {
  coffer::engines::kv::VersionRecord v;
  for (int i = 0; i < 5; ++i) v.data["field" + std::to_string(i)] = std::string(32, 'a' + i);
  v.created_time = 1'795'000'000'000'000'000;
  const std::string text = coffer::engines::kv::EncodeVersion(v);
  for (auto _ : state) {
    auto r = coffer::engines::kv::DecodeVersion(text);
    if (!r || r->data.size() != 5) Die("version record does not decode");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_KvDecodeVersion);

// A read of the latest version of one of n keys, as the server asks it of
// the engine (answered as text), over the in-memory store: the engine's own
// work without SQLite, the barrier or HTTP.
struct KvStore {
  coffer::storage::InmemBackend storage;
  coffer::SystemClock clock;
  std::unique_ptr<coffer::logical::Backend> engine;
  std::vector<coffer::logical::Request> reads;
};

coffer::logical::Request KvRequest(coffer::logical::Operation op, std::string rel) {
  coffer::logical::Request r;
  r.operation = op;
  r.path = "secret/" + rel;
  r.mount_point = "secret/";
  r.relative_path = std::move(rel);
  return r;
}

// Filled once per size: Google Benchmark calls the benchmark several times.
KvStore& KvStoreOf(std::uint64_t n) {
  using coffer::logical::Json;
  using coffer::logical::Operation;
  static std::map<std::uint64_t, std::unique_ptr<KvStore>> stores;
  auto& s = stores[n];
  if (s != nullptr) return *s;
  s = std::make_unique<KvStore>();
  coffer::engines::kv::RegisterKvEngine();
  coffer::logical::BackendConfig config{s->storage, s->clock, "secret/", "kv-v2", Json::object()};
  auto engine = coffer::logical::CreateEngine("kv-v2", config);
  if (!engine) Die("kv-v2 engine not created");
  s->engine = std::move(*engine);
  Json data = Json::object();
  for (int i = 0; i < 5; ++i) data["field" + std::to_string(i)] = std::string(32, 'a' + i);
  for (std::uint64_t i = 0; i < n; ++i) {
    auto w = KvRequest(Operation::kUpdate, "data/scale/k" + std::to_string(i));
    w.data = Json{{"data", data}};
    if (!s->engine->HandleRequest(w)) Die("kv write failed");
  }
  for (std::uint64_t i = 0; i < 65536; ++i) {
    // Spread over the whole key space (a step coprime with n), more keys
    // than the engine's decoded-metadata cache holds.
    s->reads.push_back(KvRequest(Operation::kRead, "data/scale/k" + std::to_string(i * 7919 % n)));
    s->reads.back().data_text_ok = true;
  }
  return *s;
}

void BM_KvV2Read(benchmark::State& state) {
  KvStore& s = KvStoreOf(static_cast<std::uint64_t>(state.range(0)));
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = s.engine->HandleRequest(s.reads[i++ % s.reads.size()]);
    if (!r || r->http_status != 200 || r->data_text.empty()) Die("kv read failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_KvV2Read)->Arg(1000)->Arg(100000);

void BM_TokenLookup(benchmark::State& state) {
  coffer::storage::InmemBackend view;
  coffer::SystemClock clock;
  coffer::token::TokenStore store(view, clock);
  if (!store.Load().ok()) Die("token store does not load");
  coffer::token::TokenRequest request;
  request.policies = {"app"};
  request.ttl = std::chrono::hours(1);
  request.batch = state.range(0) == 1;
  auto created = store.CreateToken(request);
  if (!created) Die("token not created");
  const std::string id(created->id.view());
  for (auto _ : state) {
    auto entry = store.Lookup(id);
    if (!entry || *entry == nullptr) Die("token lookup failed");
    benchmark::DoNotOptimize(entry);
  }
  state.SetLabel(state.range(0) == 1 ? "batch" : "service");
}
BENCHMARK(BM_TokenLookup)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
