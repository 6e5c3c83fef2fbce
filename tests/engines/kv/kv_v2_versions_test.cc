// KV v2: soft delete, undelete, destroy, metadata, max_versions and
// delete_version_after.

#include <gtest/gtest.h>

#include <chrono>

#include "engines/kv/records.h"
#include "kv_test_util.h"

namespace coffer::engines::kv::testing {
namespace {

using namespace std::chrono_literals;

class KvV2VersionsTest : public ::testing::Test {
 protected:
  Result<Response> Do(Operation op, std::string path, Json body = Json::object(),
                      Query query = {}) {
    return engine_->HandleRequest(
        MakeRequest(op, std::move(path), std::move(body), std::move(query)));
  }
  void WriteN(const std::string& key, int n) {
    for (int i = 1; i <= n; ++i) {
      auto r = Do(Operation::kUpdate, "data/" + key, Json{{"data", {{"v", i}}}});
      ASSERT_TRUE(r.has_value()) << r.error().ToString();
      clock_.Advance(1s);
    }
  }
  Result<Response> ReadVersion(const std::string& key, int version) {
    return Do(Operation::kRead, "data/" + key, Json::object(),
              {{"version", std::to_string(version)}});
  }
  bool HasKey(const std::string& storage_key) {
    auto e = storage_.Get(storage_key);
    return e.has_value() && e->has_value();
  }
  // Whether version n's data is stored: its own record, or the key's
  // metadata entry when n is the current version (records.h).
  bool HasData(const std::string& key, std::uint64_t n) {
    if (HasKey(VersionKey(key, n))) return true;
    auto e = storage_.Get(MetadataKey(key));
    if (!e.has_value() || !e->has_value()) return false;
    const MetadataEntryParts parts = SplitMetadataEntry((*e)->value);
    auto meta = DecodeMetadata(parts.metadata);
    return meta.has_value() && EntryHoldsVersion(*meta, parts.current, n);
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  std::unique_ptr<logical::Backend> engine_ = MakeEngine(storage_, clock_, "kv-v2");
};

TEST_F(KvV2VersionsTest, DeleteLatestUndeleteDestroy) {
  WriteN("k", 3);
  auto del = Do(Operation::kDelete, "data/k");
  ASSERT_TRUE(del.has_value());
  EXPECT_EQ(del->http_status, 204);

  auto deleted = Do(Operation::kRead, "data/k");
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->http_status, 404);
  EXPECT_TRUE(deleted->data["data"].is_null());
  EXPECT_EQ(deleted->data["metadata"]["version"], 3);
  EXPECT_EQ(deleted->data["metadata"]["deletion_time"], "2026-01-01T00:00:03.000000000Z");
  EXPECT_EQ(deleted->data["metadata"]["destroyed"], false);
  EXPECT_TRUE(HasData("k", 3));  // soft delete keeps the data

  EXPECT_EQ(ReadVersion("k", 2)->data["data"], (Json{{"v", 2}}));
  ASSERT_TRUE(Do(Operation::kUpdate, "delete/k", Json{{"versions", {1, 2}}}).has_value());
  EXPECT_EQ(ReadVersion("k", 1)->http_status, 404);
  EXPECT_EQ(ReadVersion("k", 2)->http_status, 404);

  auto undel = Do(Operation::kUpdate, "undelete/k", Json{{"versions", "1,3"}});
  ASSERT_TRUE(undel.has_value());
  EXPECT_EQ(undel->http_status, 204);
  EXPECT_EQ(ReadVersion("k", 1)->data["data"], (Json{{"v", 1}}));
  EXPECT_EQ(ReadVersion("k", 1)->data["metadata"]["deletion_time"], "");
  EXPECT_EQ(Do(Operation::kRead, "data/k")->data["data"], (Json{{"v", 3}}));
  EXPECT_EQ(ReadVersion("k", 2)->http_status, 404);

  auto destroy = Do(Operation::kUpdate, "destroy/k", Json{{"versions", {2, 3}}});
  ASSERT_TRUE(destroy.has_value());
  EXPECT_EQ(destroy->http_status, 204);
  auto destroyed = ReadVersion("k", 3);
  EXPECT_EQ(destroyed->http_status, 404);
  EXPECT_TRUE(destroyed->data["data"].is_null());
  EXPECT_EQ(destroyed->data["metadata"]["destroyed"], true);
  EXPECT_FALSE(HasData("k", 2));
  EXPECT_FALSE(HasData("k", 3));  // the current version: gone from the metadata entry
  EXPECT_TRUE(HasData("k", 1));

  // Destroyed is final: undelete does not bring it back.
  ASSERT_TRUE(Do(Operation::kUpdate, "undelete/k", Json{{"versions", {3}}}).has_value());
  EXPECT_EQ(ReadVersion("k", 3)->http_status, 404);
  EXPECT_EQ(ReadVersion("k", 3)->data["metadata"]["destroyed"], true);

  // Operations on a missing key are no-ops.
  EXPECT_EQ(Do(Operation::kDelete, "data/none")->http_status, 204);
  EXPECT_EQ(Do(Operation::kUpdate, "destroy/none", Json{{"versions", {1}}})->http_status, 204);
}

TEST_F(KvV2VersionsTest, MetadataReadWriteDelete) {
  EXPECT_EQ(Do(Operation::kRead, "metadata/m")->http_status, 404);
  WriteN("m", 2);
  ASSERT_TRUE(Do(Operation::kUpdate, "delete/m", Json{{"versions", {1}}}).has_value());

  auto meta = Do(Operation::kRead, "metadata/m");
  ASSERT_TRUE(meta.has_value());
  const Json& d = meta->data;
  EXPECT_EQ(d["current_version"], 2);
  EXPECT_EQ(d["oldest_version"], 0);
  EXPECT_EQ(d["max_versions"], 0);
  EXPECT_EQ(d["cas_required"], false);
  EXPECT_EQ(d["delete_version_after"], "0s");
  EXPECT_TRUE(d["custom_metadata"].is_null());
  EXPECT_EQ(d["created_time"], "2026-01-01T00:00:00.000000000Z");
  EXPECT_EQ(d["updated_time"], "2026-01-01T00:00:01.000000000Z");
  EXPECT_EQ(d["versions"]["1"], (Json{{"created_time", "2026-01-01T00:00:00.000000000Z"},
                                      {"deletion_time", "2026-01-01T00:00:02.000000000Z"},
                                      {"destroyed", false}}));
  EXPECT_EQ(d["versions"]["2"]["deletion_time"], "");

  auto put = Do(
      Operation::kUpdate, "metadata/m",
      Json{{"max_versions", 5},
           {"cas_required", true},
           {"delete_version_after", "1h"},
           {"custom_metadata", {{"owner", "ops"}, {"tier", 1}, {"paged", true}, {"pii", false}}}});
  ASSERT_TRUE(put.has_value()) << put.error().ToString();
  EXPECT_EQ(put->http_status, 204);
  auto after = Do(Operation::kRead, "metadata/m")->data;
  EXPECT_EQ(after["max_versions"], 5);
  EXPECT_EQ(after["cas_required"], true);
  EXPECT_EQ(after["delete_version_after"], "1h0m0s");
  // Numbers and booleans are stored as Vault's weak decoding renders them.
  EXPECT_EQ(after["custom_metadata"],
            (Json{{"owner", "ops"}, {"tier", "1"}, {"paged", "1"}, {"pii", "0"}}));
  EXPECT_EQ(after["current_version"], 2);
  // custom_metadata shows in data reads too.
  EXPECT_EQ(Do(Operation::kRead, "data/m")->data["metadata"]["custom_metadata"]["owner"], "ops");

  // PATCH merges custom_metadata; null removes a key.
  ASSERT_TRUE(Do(Operation::kPatch, "metadata/m",
                 Json{{"custom_metadata", {{"tier", nullptr}, {"env", "prod"}}}})
                  .has_value());
  EXPECT_EQ(Do(Operation::kRead, "metadata/m")->data["custom_metadata"],
            (Json{{"owner", "ops"}, {"env", "prod"}, {"paged", "1"}, {"pii", "0"}}));
  EXPECT_EQ(Do(Operation::kRead, "metadata/m")->data["max_versions"], 5);
  EXPECT_EQ(Do(Operation::kPatch, "metadata/none", Json{{"max_versions", 1}})->http_status, 404);
  // POST replaces custom_metadata as a whole.
  ASSERT_TRUE(
      Do(Operation::kUpdate, "metadata/m", Json{{"custom_metadata", {{"a", "b"}}}}).has_value());
  EXPECT_EQ(Do(Operation::kRead, "metadata/m")->data["custom_metadata"], (Json{{"a", "b"}}));

  auto del = Do(Operation::kDelete, "metadata/m");
  ASSERT_TRUE(del.has_value());
  EXPECT_EQ(del->http_status, 204);
  EXPECT_EQ(Do(Operation::kRead, "metadata/m")->http_status, 404);
  EXPECT_EQ(Do(Operation::kRead, "data/m")->http_status, 404);
  EXPECT_TRUE(Snapshot(storage_).empty());

  // A metadata write creates the key's metadata with no versions.
  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/fresh", Json{{"max_versions", 3}}).has_value());
  auto fresh = Do(Operation::kRead, "metadata/fresh")->data;
  EXPECT_EQ(fresh["current_version"], 0);
  EXPECT_EQ(fresh["versions"], Json::object());
  EXPECT_EQ(Do(Operation::kRead, "data/fresh")->http_status, 404);
}

TEST_F(KvV2VersionsTest, MaxVersionsPrunesOldest) {
  ASSERT_TRUE(Do(Operation::kUpdate, "config", Json{{"max_versions", 3}}).has_value());
  WriteN("p", 5);
  auto meta = Do(Operation::kRead, "metadata/p")->data;
  EXPECT_EQ(meta["current_version"], 5);
  EXPECT_EQ(meta["oldest_version"], 3);
  std::vector<std::string> versions;
  for (const auto& [n, v] : meta["versions"].items()) versions.push_back(n);
  EXPECT_EQ(versions, (std::vector<std::string>{"3", "4", "5"}));
  EXPECT_EQ(ReadVersion("p", 1)->http_status, 404);
  EXPECT_EQ(ReadVersion("p", 2)->http_status, 404);
  EXPECT_FALSE(HasData("p", 1));
  EXPECT_FALSE(HasData("p", 2));
  EXPECT_TRUE(HasData("p", 3) && HasData("p", 4) && HasData("p", 5));
  EXPECT_EQ(ReadVersion("p", 3)->data["data"], (Json{{"v", 3}}));

  // The key's own setting overrides the mount's.
  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/p", Json{{"max_versions", 1}}).has_value());
  WriteN("p", 1);
  meta = Do(Operation::kRead, "metadata/p")->data;
  EXPECT_EQ(meta["versions"].size(), 1u);
  EXPECT_TRUE(meta["versions"].contains("6"));
  EXPECT_FALSE(HasData("p", 5));
  EXPECT_FALSE(HasData("p", 3));
  EXPECT_TRUE(HasData("p", 6));
}

TEST_F(KvV2VersionsTest, DefaultKeepsTenVersions) {
  WriteN("d", 12);
  auto meta = Do(Operation::kRead, "metadata/d")->data;
  EXPECT_EQ(meta["versions"].size(), 10u);
  EXPECT_EQ(ReadVersion("d", 2)->http_status, 404);
  EXPECT_EQ(ReadVersion("d", 3)->data["data"], (Json{{"v", 3}}));
}

TEST_F(KvV2VersionsTest, DeleteVersionAfterUsesTheClock) {
  ASSERT_TRUE(Do(Operation::kUpdate, "config", Json{{"delete_version_after", "10s"}}).has_value());
  auto w = Do(Operation::kUpdate, "data/t", Json{{"data", {{"a", 1}}}});
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->data["deletion_time"], "2026-01-01T00:00:10.000000000Z");
  clock_.Advance(9s);
  auto alive = Do(Operation::kRead, "data/t");
  EXPECT_EQ(alive->http_status, 200);
  EXPECT_EQ(alive->data["data"], (Json{{"a", 1}}));
  clock_.Advance(1s);
  auto expired = Do(Operation::kRead, "data/t");
  EXPECT_EQ(expired->http_status, 404);
  EXPECT_TRUE(expired->data["data"].is_null());
  EXPECT_EQ(expired->data["metadata"]["deletion_time"], "2026-01-01T00:00:10.000000000Z");

  // The smaller non-zero of the mount's and the key's setting wins.
  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/t", Json{{"delete_version_after", 3}}).has_value());
  auto w2 = Do(Operation::kUpdate, "data/t", Json{{"data", {{"a", 2}}}});
  EXPECT_EQ(w2->data["deletion_time"], "2026-01-01T00:00:13.000000000Z");
  // Undelete reschedules from now.
  clock_.Advance(5s);
  EXPECT_EQ(Do(Operation::kRead, "data/t")->http_status, 404);
  ASSERT_TRUE(Do(Operation::kUpdate, "undelete/t", Json{{"versions", {2}}}).has_value());
  EXPECT_EQ(Do(Operation::kRead, "data/t")->http_status, 200);
  EXPECT_EQ(Do(Operation::kRead, "data/t")->data["metadata"]["deletion_time"],
            "2026-01-01T00:00:18.000000000Z");

  // A negative mount setting disables it for every key.
  ASSERT_TRUE(Do(Operation::kUpdate, "config", Json{{"delete_version_after", "-1s"}}).has_value());
  auto w3 = Do(Operation::kUpdate, "data/t", Json{{"data", {{"a", 3}}}});
  EXPECT_EQ(w3->data["deletion_time"], "");
}

}  // namespace
}  // namespace coffer::engines::kv::testing
