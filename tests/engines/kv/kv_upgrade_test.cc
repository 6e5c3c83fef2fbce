// The in-place upgrade of KV version 1 data to version 2 (upgrade.h): the
// conversion, its resumption after an interruption, and the v1 gate.

#include <gtest/gtest.h>

#include <chrono>

#include "engines/kv/upgrade.h"
#include "kv_test_util.h"

namespace coffer::engines::kv::testing {
namespace {

using namespace std::chrono_literals;

// Forwards to an InmemBackend; the Transact numbered `fail_at` (from 1)
// fails without applying anything, as if the process died before it.
class InterruptedStore final : public storage::Backend {
 public:
  explicit InterruptedStore(storage::Backend& inner, int fail_at)
      : inner_(inner), fail_at_(fail_at) {}
  Result<std::optional<storage::Entry>> Get(std::string_view key) override {
    return inner_.Get(key);
  }
  Status Put(std::string_view key, std::string_view value) override {
    return inner_.Put(key, value);
  }
  Status Delete(std::string_view key) override { return inner_.Delete(key); }
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    return inner_.List(prefix);
  }
  Status Transact(std::span<const storage::Compare> compares,
                  std::span<const storage::Op> ops) override {
    if (++transacts_ == fail_at_) return Unavailable("simulated crash");
    return inner_.Transact(compares, ops);
  }
  std::string_view Type() const override { return "interrupted"; }

 private:
  storage::Backend& inner_;
  int fail_at_;
  int transacts_ = 0;
};

class KvUpgradeTest : public ::testing::Test {
 protected:
  void WriteV1(const std::map<std::string, Json>& secrets) {
    auto v1 = MakeEngine(storage_, clock_, "kv");
    for (const auto& [key, data] : secrets) {
      auto w = v1->HandleRequest(MakeRequest(Operation::kCreate, key, data));
      ASSERT_TRUE(w.has_value()) << w.error().ToString();
    }
  }
  // What the tune commits with the table switch.
  void PutMarker() {
    storage::Op marker = UpgradeMarkerOp();
    ASSERT_TRUE(storage_.Put(marker.key, marker.value).ok());
  }
  // A v2 engine over the store, initialised as the router does.
  std::unique_ptr<logical::Backend> LoadV2() {
    auto v2 = MakeEngine(storage_, clock_, "kv", Json{{"version", "2"}});
    Status s = v2->Initialize();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return v2;
  }
  Nanos NowNanos() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Wall().time_since_epoch())
        .count();
  }
  // Every secret reads as version 1 of itself, with its metadata.
  void ExpectConverted(logical::Backend& v2, const std::map<std::string, Json>& secrets,
                       Nanos upgraded_at) {
    for (const auto& [key, data] : secrets) {
      SCOPED_TRACE(key);
      auto r = v2.HandleRequest(MakeRequest(Operation::kRead, "data/" + key));
      ASSERT_TRUE(r.has_value()) << r.error().ToString();
      ASSERT_EQ(r->http_status, 200);
      EXPECT_EQ(r->data["data"], data);
      EXPECT_EQ(r->data["metadata"]["version"], 1);
      EXPECT_EQ(r->data["metadata"]["created_time"], FormatTime(upgraded_at));
      auto m = v2.HandleRequest(MakeRequest(Operation::kRead, "metadata/" + key));
      ASSERT_TRUE(m.has_value()) << m.error().ToString();
      EXPECT_EQ(m->data["current_version"], 1);
      EXPECT_EQ(m->data["created_time"], FormatTime(upgraded_at));
      EXPECT_EQ(m->data["versions"]["1"]["destroyed"], false);
    }
    // Nothing but v2 records is left: no v1 record, no marker; and version 1
    // of each secret is in its metadata entry, not a record of its own.
    const auto snapshot = Snapshot(storage_);
    for (const auto& [key, value] : snapshot) {
      EXPECT_TRUE(key.starts_with("metadata/") || key.starts_with("versions/")) << key;
    }
    for (const auto& [key, data] : secrets) {
      EXPECT_FALSE(snapshot.contains("versions/" + key + "/1")) << key;
    }
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
};

// Nested keys, and v1 keys that look like v2 records ("metadata/a/b" is
// where the metadata of "a/b" goes; "config" is the v2 mount config).
const std::map<std::string, Json>& Secrets() {
  static const auto* secrets = new std::map<std::string, Json>{
      {"app", Json{{"user", "alice"}, {"pass", "p1"}}},
      {"a/b", Json{{"level", 2}}},
      {"a/b/c", Json{{"level", 3}, {"nested", {{"x", true}}}}},
      {"metadata/a/b", Json{{"not", "metadata"}}},
      {"versions/app/1", Json{{"not", "a version"}}},
      {"config", Json{{"max_versions", "not a config"}}},
  };
  return *secrets;
}

TEST_F(KvUpgradeTest, EveryV1SecretBecomesVersionOne) {
  WriteV1(Secrets());
  clock_.Advance(1h);
  const Nanos upgraded_at = NowNanos();
  PutMarker();
  auto v2 = LoadV2();
  ExpectConverted(*v2, Secrets(), upgraded_at);

  auto list = v2->HandleRequest(MakeRequest(Operation::kList, "metadata/"));
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->data["keys"], (Json{"a/", "app", "config", "metadata/", "versions/"}));
  list = v2->HandleRequest(MakeRequest(Operation::kList, "metadata/a/b/"));
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->data["keys"], (Json{"c"}));
  // The mount config is the default one, not the v1 secret named "config".
  auto config = v2->HandleRequest(MakeRequest(Operation::kRead, "config"));
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->data["max_versions"], 0);

  // A converted secret takes new versions as any other.
  auto w = v2->HandleRequest(
      MakeRequest(Operation::kUpdate, "data/app", Json{{"data", {{"user", "bob"}}}}));
  ASSERT_TRUE(w.has_value()) << w.error().ToString();
  EXPECT_EQ(w->data["version"], 2);
}

TEST_F(KvUpgradeTest, WithoutAMarkerNothingIsConverted) {
  ASSERT_TRUE(storage_.Put("app", R"({"user":"alice"})").ok());
  auto before = Snapshot(storage_);
  auto v2 = LoadV2();
  EXPECT_EQ(Snapshot(storage_), before);
}

// A crash between two batches leaves some keys converted and the marker's
// cursor on the last of them; the next load converts the rest, and at no
// point is a secret missing or a v2 record taken for a v1 secret.
TEST_F(KvUpgradeTest, AnInterruptedUpgradeResumes) {
  std::map<std::string, Json> secrets = Secrets();
  for (int i = 0; i < 40; ++i) {
    secrets["bulk/" + std::to_string(i)] = Json{{"i", i}};
    secrets["metadata/bulk/" + std::to_string(i)] = Json{{"shadow", i}};
  }
  WriteV1(secrets);
  const Nanos upgraded_at = NowNanos();
  PutMarker();

  InterruptedStore interrupted(storage_, /*fail_at=*/3);
  Status s = FinishUpgrade(interrupted, upgraded_at);
  ASSERT_FALSE(s.ok());
  // Mid-way: two batches (32 keys) converted, the cursor on the last of
  // them. Every secret is whole on one side of the cursor: v1 after it, v2
  // at or before it (the conversion order is longest key first).
  auto marker = storage_.Get(kUpgradeMarkerKey);
  ASSERT_TRUE(marker.has_value() && marker->has_value());
  const Json cursor = Json::parse((*marker)->value)["cursor"];
  ASSERT_TRUE(cursor.is_string());
  const std::string c = cursor.get<std::string>();
  std::size_t converted = 0;
  for (const auto& [key, data] : secrets) {
    SCOPED_TRACE(key);
    const bool done = key.size() > c.size() || (key.size() == c.size() && key <= c);
    auto v1 = storage_.Get(key);
    auto entry = storage_.Get(MetadataKey(key));
    ASSERT_TRUE(v1.has_value() && entry.has_value());
    if (done) {
      ++converted;
      ASSERT_TRUE(entry->has_value());
      auto record = DecodeVersion(SplitMetadataEntry((*entry)->value).current);
      ASSERT_TRUE(record.has_value());
      EXPECT_EQ(record->data, data);
    } else {
      ASSERT_TRUE(v1->has_value());
      EXPECT_EQ(Json::parse((*v1)->value), data);
    }
  }
  EXPECT_EQ(converted, 32u);

  // The keys converted on resumption get the time of the resumption.
  clock_.Advance(5min);
  const Nanos resumed_at = NowNanos();
  auto v2 = LoadV2();
  for (const auto& [key, data] : secrets) {
    SCOPED_TRACE(key);
    auto r = v2->HandleRequest(MakeRequest(Operation::kRead, "data/" + key));
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    ASSERT_EQ(r->http_status, 200);
    EXPECT_EQ(r->data["data"], data);
    EXPECT_EQ(r->data["metadata"]["version"], 1);
    const Json& created = r->data["metadata"]["created_time"];
    EXPECT_TRUE(created == FormatTime(upgraded_at) || created == FormatTime(resumed_at));
  }
  for (const auto& [key, value] : Snapshot(storage_)) {
    EXPECT_TRUE(key.starts_with("metadata/") || key.starts_with("versions/")) << key;
  }
}

// A v1 record that is not a JSON object stops the upgrade before it, with
// the marker kept; the error names the key, never a value.
TEST_F(KvUpgradeTest, ACorruptRecordStopsTheUpgradeAndLeaksNothing) {
  ASSERT_TRUE(storage_.Put("good", R"({"v":"fine"})").ok());
  ASSERT_TRUE(storage_.Put("bad", "canary-not-json-6d1f").ok());
  PutMarker();
  Status s = FinishUpgrade(storage_, NowNanos());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_NE(s.message().find("\"bad\""), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("canary"), std::string::npos) << s.message();
  auto marker = storage_.Get(kUpgradeMarkerKey);
  ASSERT_TRUE(marker.has_value() && marker->has_value());
  auto bad = storage_.Get("bad");
  ASSERT_TRUE(bad.has_value() && bad->has_value());
  EXPECT_EQ((*bad)->value, "canary-not-json-6d1f");
}

// A v2 engine whose conversion fails still loads (so that the other mounts
// do), and refuses every request until a later load finishes it.
TEST_F(KvUpgradeTest, AnEngineWhoseUpgradeFailedRefusesRequests) {
  ASSERT_TRUE(storage_.Put("good", R"({"v":"fine"})").ok());
  ASSERT_TRUE(storage_.Put("bad", "canary-not-json-6d1f").ok());
  PutMarker();
  auto v2 = MakeEngine(storage_, clock_, "kv", Json{{"version", "2"}});
  ASSERT_TRUE(v2->Initialize().ok());
  EXPECT_EQ(UnfinishedUpgrade(*v2).code(), Code::kInternal);
  auto r = v2->HandleRequest(MakeRequest(Operation::kRead, "data/good"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_EQ(r.error().message().find("canary"), std::string::npos);
  auto w = v2->HandleRequest(
      MakeRequest(Operation::kCreate, "data/other", Json{{"data", {{"k", "v"}}}}));
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code(), Code::kUnavailable);
  EXPECT_FALSE(storage_.Get(MetadataKey("other"))->has_value());
  EXPECT_FALSE(v2->ExistenceCheck(MakeRequest(Operation::kCreate, "data/good")).has_value());

  ASSERT_TRUE(storage_.Delete("bad").ok());
  auto reloaded = LoadV2();
  EXPECT_TRUE(UnfinishedUpgrade(*reloaded).ok());
  ExpectConverted(*reloaded, {{"good", Json{{"v", "fine"}}}}, NowNanos());
  // Not a v2 engine: nothing to report.
  EXPECT_TRUE(UnfinishedUpgrade(*MakeEngine(storage_, clock_, "kv")).ok());
}

TEST_F(KvUpgradeTest, AClosedV1EngineRefusesRequestsUntilReopened) {
  auto v1 = MakeEngine(storage_, clock_, "kv");
  ASSERT_TRUE(
      v1->HandleRequest(MakeRequest(Operation::kCreate, "app", Json{{"k", "v"}})).has_value());
  ASSERT_TRUE(CloseForUpgrade(*v1).ok());
  auto r = v1->HandleRequest(MakeRequest(Operation::kRead, "app"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  auto w = v1->HandleRequest(MakeRequest(Operation::kCreate, "other", Json{{"k", "v"}}));
  ASSERT_FALSE(w.has_value());
  EXPECT_FALSE(storage_.Get("other")->has_value());
  EXPECT_FALSE(v1->ExistenceCheck(MakeRequest(Operation::kCreate, "app")).has_value());
  // A second upgrade of the same engine is refused while the first runs.
  EXPECT_EQ(CloseForUpgrade(*v1).code(), Code::kUnavailable);
  ReopenAfterUpgrade(*v1);
  r = v1->HandleRequest(MakeRequest(Operation::kRead, "app"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->data, (Json{{"k", "v"}}));

  auto v2 = MakeEngine(storage_, clock_, "kv-v2");
  EXPECT_EQ(CloseForUpgrade(*v2).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace coffer::engines::kv::testing
