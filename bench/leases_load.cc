// leases_load: how long unseal takes to make N leases expirable, and what the
// in-memory index costs, with the local SQLite backend under the barrier.
//
//   leases_load populate DIR [N=1000000] [J=0]
//                                          writes N leases (bodies + index),
//                                          the last J of them as index log
//                                          records not folded yet (the log
//                                          holds about Options::log_fold_span
//                                          = 32,768 of them under a steady
//                                          stream of new leases)
//   leases_load load DIR                   Load() + WaitForLoad(), prints
//                                          time, RSS before/after, index size
// Two processes, so the populate phase's allocations don't hide the load's
// RSS. The root key is kept in DIR/bench-root-key: benchmark data only.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "barrier/aes_gcm_barrier.h"
#include "barrier/barrier_view.h"
#include "crypto/random.h"
#include "expiration/expiration_manager.h"
#include "storage/local/local_backend.h"

namespace {

using namespace coffer;

// A line of /proc/self/status in KiB ("VmRSS:", "RssAnon:", "RssFile:").
long StatusKiB(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field)) return std::stol(line.substr(field.size()));
  }
  return -1;
}

long RssKiB() { return StatusKiB("VmRSS:"); }

class NullRevoker : public expiration::Revoker {
 public:
  Status Revoke(const expiration::Lease&) override { return Status::Ok(); }
};

int Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "leases_load: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

int Populate(const std::string& dir, long n, long journaled) {
  auto local = storage::LocalBackend::Open(dir);
  if (!local) return Fail("open", local.error());
  barrier::AesGcmBarrier barrier(**local);
  auto key = crypto::RandomSecret(barrier::AesGcmBarrier::kRootKeySize);
  if (!key) return Fail("random", key.error());
  if (Status s = barrier.Initialize(*key); !s.ok()) return Fail("initialize", s);
  if (Status s = barrier.Unseal(*key); !s.ok()) return Fail("unseal", s);
  std::ofstream(dir + "/bench-root-key", std::ios::binary)
      .write(reinterpret_cast<const char*>(key->data()), static_cast<std::streamsize>(key->size()));
  barrier::BarrierView view(barrier, "sys/expire/");

  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  std::vector<std::vector<expiration::IndexRecord>> buckets(expiration::kIndexBuckets);
  std::vector<storage::Op> ops;
  long seq = 0;
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    expiration::Lease l;
    l.id = "database/creds/readonly/" + std::to_string(1000000000L + i);
    l.path = "database/creds/readonly";
    l.token_hmac = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
    l.issue_time = now;
    l.expire_time = now + 3600 + i % 86400;
    l.renewable = true;
    l.ttl = l.expire_time - now;
    auto key = expiration::KeyOf(l.id);
    if (i >= n - journaled) {
      ops.push_back({storage::Op::Kind::kPut, expiration::LogKey(static_cast<std::uint64_t>(++seq)),
                     expiration::EncodeRecord({key, l.expire_time, l.id})});
    } else {
      buckets[expiration::BucketOf(key)].push_back({key, l.expire_time, l.id});
    }
    ops.push_back(
        {storage::Op::Kind::kPut, expiration::LeaseStorageKey(l.id), expiration::EncodeLease(l)});
    if (ops.size() == 5000) {
      if (Status s = view.Transact({}, ops); !s.ok()) return Fail("write", s);
      ops.clear();
    }
  }
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    if (buckets[b].empty()) continue;
    ops.push_back({storage::Op::Kind::kPut, expiration::BucketStorageKey(b),
                   expiration::EncodeBucket(buckets[b])});
    if (ops.size() == 256) {
      if (Status s = view.Transact({}, ops); !s.ok()) return Fail("write", s);
      ops.clear();
    }
  }
  if (!ops.empty()) {
    if (Status s = view.Transact({}, ops); !s.ok()) return Fail("write", s);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("populated %ld leases in %.1f s\n", n, secs);
  return 0;
}

int Load(const std::string& dir) {
  std::ifstream in(dir + "/bench-root-key", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (raw.size() != barrier::AesGcmBarrier::kRootKeySize) {
    std::fprintf(stderr, "leases_load: run populate first\n");
    return 1;
  }
  auto local = storage::LocalBackend::Open(dir);
  if (!local) return Fail("open", local.error());
  barrier::AesGcmBarrier barrier(**local);
  if (Status s = barrier.Unseal(SecretBytes::FromString(raw)); !s.ok()) return Fail("unseal", s);
  barrier::BarrierView view(barrier, "sys/expire/");
  NullRevoker revoker;
  expiration::Options o;
  o.start_expiry_thread = false;
  expiration::ExpirationManager m(view, SystemClock::Instance(), revoker, o);

  long rss_before = RssKiB();
  auto start = std::chrono::steady_clock::now();
  if (Status s = m.Load(); !s.ok()) return Fail("load", s);
  double first = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (Status s = m.WaitForLoad(); !s.ok()) return Fail("load", s);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  long rss_after = RssKiB();
  const long anon = StatusKiB("RssAnon:");
  const long file = StatusKiB("RssFile:");
  std::size_t n = m.IndexSize();
  std::printf("leases: %zu\nLoad() returned after %.3f s; index complete after %.3f s\n", n, first,
              secs);
  std::printf(
      "RSS: %ld KiB before, %ld KiB after: %.1f bytes/lease (index containers: %.1f)\n", rss_before,
      rss_after,
      n ? (static_cast<double>(rss_after - rss_before) * 1024.0 / static_cast<double>(n)) : 0.0,
      n ? static_cast<double>(m.IndexBytes()) / static_cast<double>(n) : 0.0);
  std::printf("RSS after: %ld KiB anonymous, %ld KiB of mapped files\n", anon, file);
  m.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "populate") {
    return Populate(argv[2], argc >= 4 ? std::stol(argv[3]) : 1000000L,
                    argc >= 5 ? std::stol(argv[4]) : 0L);
  }
  if (argc >= 3 && std::string(argv[1]) == "load") return Load(argv[2]);
  std::fprintf(stderr, "usage: leases_load populate DIR [N [J]] | leases_load load DIR\n");
  return 2;
}
