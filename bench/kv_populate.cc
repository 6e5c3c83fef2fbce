// kv_populate: fills a local-storage data directory with N KV v2 secrets,
// in process, for the kv_scale benchmark (bench/run --only kv_scale).
//
//   kv_populate DIR N [VALUE_BYTES=200]
//
// Initialises a fresh Coffer core on storage "local" in DIR (1 key share),
// mounts KV v2 at secret/ and writes secret/data/scale/k<i> for i in [0, N):
// the first secret through the full request pipeline (HandleRequest with the
// root token), the rest straight through the mount's barrier view with the
// engine's own record encoders (records.h), 2,000 secrets per Transact, so
// the stored bytes are the ones the engine would write, encrypted by the
// barrier, without 1M separate fsyncs. Then it seals and closes the store.
//
// Prints `unseal_key=<base64> root_token=<token> seconds=<s>` on stdout: the
// benchmark starts `coffer server -config` on DIR and unseals it with these.
// Benchmark data only; the key is printed because the store is thrown away.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "core/builtins.h"
#include "core/core.h"
#include "engines/kv/records.h"
#include "router/router.h"
#include "storage/local/local_backend.h"

namespace {

using namespace coffer;

int Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "kv_populate: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

logical::Response Call(core::Core& core, logical::Operation op, const std::string& path,
                       const std::string& token, logical::Json body) {
  logical::Request r;
  r.operation = op;
  r.path = path;
  r.client_token = token;
  r.data = std::move(body);
  return core.HandleRequest(r);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: kv_populate DIR N [VALUE_BYTES]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const long n = std::stol(argv[2]);
  const std::size_t value_bytes = argc >= 4 ? std::stoul(argv[3]) : 200;
  const auto start = std::chrono::steady_clock::now();

  core::RegisterBuiltins();  // the engine catalog, as the server does at start
  auto local = storage::LocalBackend::Open(dir);
  if (!local) return Fail("open", local.error());
  core::CoreOptions options;
  options.physical = std::move(*local);
  options.worker_threads = 1;
  auto core = core::Core::Create(std::move(options));
  if (!core) return Fail("core", core.error());
  auto init = (*core)->Initialize(1, 1, /*stay_unsealed=*/true);
  if (!init) return Fail("initialize", init.error());
  const std::string token(init->root_token.view());
  const std::string key_b64 = Base64Encode(init->keys[0].view());

  auto mounted = Call(**core, logical::Operation::kUpdate, "sys/mounts/secret", token,
                      {{"type", "kv"}, {"options", {{"version", "2"}}}});
  if (mounted.http_status >= 300) {
    std::fprintf(stderr, "kv_populate: mount failed (%d): %s\n", mounted.http_status,
                 mounted.raw ? mounted.raw->dump().c_str() : mounted.data.dump().c_str());
    return 1;
  }
  const std::string value(value_bytes, 'v');
  auto first = Call(**core, logical::Operation::kUpdate, "secret/data/scale/k0", token,
                    {{"data", {{"v", value}}}});
  if (first.http_status >= 300) {
    std::fprintf(stderr, "kv_populate: first write failed: %s\n", first.data.dump().c_str());
    return 1;
  }
  auto match = (*core)->router().Route("secret/data/scale/k0");
  if (!match) return Fail("route", NotFound("secret/ is not mounted"));
  storage::Backend& view = *match->mount->view;

  const engines::kv::Config config;  // the mount's defaults: nothing was configured
  std::vector<storage::Op> ops;
  ops.reserve(2000);
  for (long i = 1; i < n; ++i) {
    const std::string key = "scale/k" + std::to_string(i);
    const engines::kv::Nanos now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count();
    engines::kv::KeyMetadata meta;
    engines::kv::AddVersion(meta, now, engines::kv::ScheduledDeletion(now, config, meta), config);
    engines::kv::VersionRecord record{logical::Json{{"v", value}}, now};
    // The engine keeps a key's current version in its metadata entry
    // (records.h), as a write through the API does.
    ops.push_back({storage::Op::Kind::kPut, engines::kv::MetadataKey(key),
                   engines::kv::EncodeMetadataEntry(meta, engines::kv::EncodeVersion(record))});
    if (ops.size() >= 2000 || i + 1 == n) {
      if (Status s = view.Transact({}, ops); !s.ok()) return Fail("write", s);
      ops.clear();
    }
  }
  // Read one back through the pipeline: the bulk records must decode.
  auto check = Call(**core, logical::Operation::kRead,
                    "secret/data/scale/k" + std::to_string(n - 1), token, logical::Json::object());
  if (check.http_status != 200) {
    std::fprintf(stderr, "kv_populate: read-back failed (%d)\n", check.http_status);
    return 1;
  }
  if (Status s = (*core)->Seal(); !s.ok()) return Fail("seal", s);
  core->reset();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("unseal_key=%s root_token=%s seconds=%.1f\n", key_b64.c_str(), token.c_str(), secs);
  return 0;
}
