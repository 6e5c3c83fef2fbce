// Runs the shared backend conformance suite against the built-in backends.

#include <memory>
#include <utility>

#include "conformance/backend_conformance.h"
#include "storage/cache/cache_backend.h"
#include "storage/inmem/inmem_backend.h"
#include "storage/local/local_backend.h"
#include "storage/temp_dir.h"

namespace coffer::storage::conformance {
namespace {

// A LocalBackend in its own temporary directory, removed after the backend
// is closed.
class LocalInTempDir final : public Backend {
 public:
  static std::unique_ptr<Backend> Make() {
    auto dir = std::make_unique<test_util::TempDir>();
    auto opened = LocalBackend::Open(dir->path() + "/data");
    EXPECT_TRUE(opened.has_value()) << opened.error().ToString();
    if (!opened.has_value()) return nullptr;
    return std::unique_ptr<Backend>(new LocalInTempDir(std::move(dir), std::move(*opened)));
  }
  ~LocalInTempDir() override { local_.reset(); }  // close before the directory goes

  Result<std::optional<Entry>> Get(std::string_view key) override { return local_->Get(key); }
  Status Put(std::string_view key, std::string_view value) override {
    return local_->Put(key, value);
  }
  Status Delete(std::string_view key) override { return local_->Delete(key); }
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    return local_->List(prefix);
  }
  Status Transact(std::span<const Compare> compares, std::span<const Op> ops) override {
    return local_->Transact(compares, ops);
  }
  std::string_view Type() const override { return local_->Type(); }

 private:
  LocalInTempDir(std::unique_ptr<test_util::TempDir> dir, std::unique_ptr<LocalBackend> local)
      : dir_(std::move(dir)), local_(std::move(local)) {}

  std::unique_ptr<test_util::TempDir> dir_;  // declared first: destroyed last
  std::unique_ptr<LocalBackend> local_;
};

INSTANTIATE_TEST_SUITE_P(
    Builtin, BackendConformanceTest,
    ::testing::Values(
        BackendCase{"inmem",
                    [] { return std::unique_ptr<Backend>(std::make_unique<InmemBackend>()); }},
        BackendCase{"local", [] { return LocalInTempDir::Make(); }},
        // The read cache must keep every promise of
        // the backend it wraps (small limits, so
        // eviction happens too).
        BackendCase{"cached_local",
                    [] {
                      return std::unique_ptr<Backend>(std::make_unique<CacheBackend>(
                          LocalInTempDir::Make(), CacheOptions{64, 1 << 20}));
                    }}),
    BackendCaseName);

}  // namespace
}  // namespace coffer::storage::conformance
