// Micro-benchmarks (Google Benchmark) of the CPU cost under each request:
// AES-256-GCM encryption/decryption of 200-byte values (bare and through the
// barrier over an in-memory backend) and Shamir split/combine of a 32-byte key.
//
// Run: build-*/bench/micro_barrier [--benchmark_min_time=0.2]

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "barrier/aes_gcm_barrier.h"
#include "barrier/ciphertext.h"
#include "crypto/random.h"
#include "crypto/shamir.h"
#include "storage/inmem/inmem_backend.h"

namespace {

using coffer::SecretBytes;

constexpr std::size_t kValueBytes = 200;

SecretBytes NewKey() {
  auto key = coffer::crypto::RandomSecret(32);
  if (!key) {
    std::fprintf(stderr, "micro_barrier: random generator failed\n");
    std::abort();
  }
  return std::move(*key);
}

void BM_EncryptValue(benchmark::State& state) {
  SecretBytes key = NewKey();
  const std::string plaintext(kValueBytes, 'p');
  for (auto _ : state) {
    auto ct = coffer::barrier::EncryptValue(1, key, plaintext, "logical/abc/secret/data/x");
    benchmark::DoNotOptimize(ct);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kValueBytes));
}
BENCHMARK(BM_EncryptValue);

void BM_DecryptValue(benchmark::State& state) {
  SecretBytes key = NewKey();
  const std::string plaintext(kValueBytes, 'p');
  const std::string aad = "logical/abc/secret/data/x";
  std::string ct = *coffer::barrier::EncryptValue(1, key, plaintext, aad);
  for (auto _ : state) {
    auto pt = coffer::barrier::DecryptValue(key, ct, aad);
    if (!pt) state.SkipWithError("decrypt failed");
    benchmark::DoNotOptimize(pt);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kValueBytes));
}
BENCHMARK(BM_DecryptValue);

// A barrier over the in-memory backend: encryption, keyring snapshot and the
// backend's map, no disk.
class BarrierFixture {
 public:
  BarrierFixture() {
    SecretBytes root = NewKey();
    if (!barrier_.Initialize(root).ok() || !barrier_.Unseal(root).ok()) {
      std::fprintf(stderr, "micro_barrier: barrier setup failed\n");
      std::abort();
    }
  }
  coffer::barrier::AesGcmBarrier& barrier() { return barrier_; }

 private:
  coffer::storage::InmemBackend physical_;
  coffer::barrier::AesGcmBarrier barrier_{physical_};
};

void BM_BarrierPut(benchmark::State& state) {
  BarrierFixture f;
  const std::string value(kValueBytes, 'v');
  std::vector<std::string> keys;
  for (int i = 0; i < 1024; ++i) keys.push_back("bench/k" + std::to_string(i));
  std::size_t i = 0;
  for (auto _ : state) {
    coffer::Status s = f.barrier().Put(keys[i++ & 1023], value);
    if (!s.ok()) state.SkipWithError("put failed");
  }
}
BENCHMARK(BM_BarrierPut);

void BM_BarrierGet(benchmark::State& state) {
  BarrierFixture f;
  const std::string value(kValueBytes, 'v');
  std::vector<std::string> keys;
  for (int i = 0; i < 1024; ++i) {
    keys.push_back("bench/k" + std::to_string(i));
    if (!f.barrier().Put(keys.back(), value).ok()) state.SkipWithError("put failed");
  }
  std::size_t i = 0;
  for (auto _ : state) {
    auto e = f.barrier().Get(keys[i++ & 1023]);
    if (!e || !e->has_value()) state.SkipWithError("get failed");
    benchmark::DoNotOptimize(e);
  }
}
BENCHMARK(BM_BarrierGet);

void BM_ShamirSplit(benchmark::State& state) {
  SecretBytes secret = NewKey();
  const int parts = static_cast<int>(state.range(0));
  const int threshold = static_cast<int>(state.range(1));
  for (auto _ : state) {
    auto shares = coffer::crypto::shamir::Split(secret, parts, threshold);
    if (!shares) state.SkipWithError("split failed");
    benchmark::DoNotOptimize(shares);
  }
}
BENCHMARK(BM_ShamirSplit)->Args({5, 3})->Args({10, 7});

void BM_ShamirCombine(benchmark::State& state) {
  SecretBytes secret = NewKey();
  const int parts = static_cast<int>(state.range(0));
  const int threshold = static_cast<int>(state.range(1));
  auto shares = coffer::crypto::shamir::Split(secret, parts, threshold);
  if (!shares) {
    state.SkipWithError("split failed");
    return;
  }
  std::vector<SecretBytes> subset;
  for (int i = 0; i < threshold; ++i)
    subset.push_back((*shares)[static_cast<std::size_t>(i)].Clone());
  for (auto _ : state) {
    auto combined = coffer::crypto::shamir::Combine(subset);
    if (!combined) state.SkipWithError("combine failed");
    benchmark::DoNotOptimize(combined);
  }
}
BENCHMARK(BM_ShamirCombine)->Args({5, 3})->Args({10, 7});

}  // namespace

BENCHMARK_MAIN();
