// KV v2: data, CAS, patch, config, subkeys and input validation.

#include <gtest/gtest.h>

#include <chrono>
#include <tuple>

#include "engines/kv/records.h"
#include "kv_test_util.h"

namespace coffer::engines::kv::testing {
namespace {

using namespace std::chrono_literals;

class KvV2Test : public ::testing::Test {
 protected:
  Result<Response> Do(Operation op, std::string path, Json body = Json::object(),
                      Query query = {}) {
    return engine_->HandleRequest(
        MakeRequest(op, std::move(path), std::move(body), std::move(query)));
  }
  Result<Response> Write(const std::string& key, Json data, Json options = nullptr) {
    Json body{{"data", std::move(data)}};
    if (!options.is_null()) body["options"] = std::move(options);
    return Do(Operation::kUpdate, "data/" + key, std::move(body));
  }
  Result<Response> Read(const std::string& key, Query query = {}) {
    return Do(Operation::kRead, "data/" + key, Json::object(), std::move(query));
  }

  storage::InmemBackend storage_;
  FakeClock clock_;
  std::unique_ptr<logical::Backend> engine_ = MakeEngine(storage_, clock_, "kv-v2");
};

TEST_F(KvV2Test, WriteAndReadVersions) {
  auto w1 = Write("app/db", Json{{"password", "one"}});
  ASSERT_TRUE(w1.has_value()) << w1.error().ToString();
  EXPECT_EQ(w1->http_status, 200);
  EXPECT_EQ(w1->data, (Json{{"created_time", "2026-01-01T00:00:00.000000000Z"},
                            {"custom_metadata", nullptr},
                            {"deletion_time", ""},
                            {"destroyed", false},
                            {"version", 1}}));
  clock_.Advance(1500ms);
  auto w2 = Write("app/db", Json{{"password", "two"}});
  ASSERT_TRUE(w2.has_value());
  EXPECT_EQ(w2->data["version"], 2);
  EXPECT_EQ(w2->data["created_time"], "2026-01-01T00:00:01.500000000Z");

  auto latest = Read("app/db");
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->http_status, 200);
  EXPECT_EQ(latest->data["data"], (Json{{"password", "two"}}));
  EXPECT_EQ(latest->data["metadata"], w2->data);

  auto v1 = Read("app/db", {{"version", "1"}});
  ASSERT_TRUE(v1.has_value());
  EXPECT_EQ(v1->data["data"], (Json{{"password", "one"}}));
  EXPECT_EQ(v1->data["metadata"]["version"], 1);

  auto missing_version = Read("app/db", {{"version", "3"}});
  ASSERT_TRUE(missing_version.has_value());
  EXPECT_EQ(missing_version->http_status, 404);
  EXPECT_EQ(*missing_version->raw, (Json{{"errors", Json::array()}}));
  EXPECT_EQ(Read("nope")->http_status, 404);
  EXPECT_EQ(Read("app/db", {{"version", "x"}}).error().code(), Code::kInvalidArgument);
  // As in Vault, a version of 0 or below reads the latest.
  for (const char* v : {"0", "-1"}) {
    auto r = Read("app/db", {{"version", v}});
    ASSERT_TRUE(r.has_value()) << v << ": " << r.error().ToString();
    EXPECT_EQ(r->data["metadata"]["version"], 2) << v;
  }
}

// A read that may answer as text (Request::data_text_ok: no audit, no
// wrapping) answers with exactly the JSON the tree renders; what the text
// path does not cover (a deleted version, subkeys) still answers as a tree.
TEST_F(KvV2Test, ReadsAnswerAsTextWhenTheCoreAllowsIt) {
  ASSERT_TRUE(
      Write("t", Json{{"user", "app"}, {"n", 1.5}, {"deep", {{"list", {1, "two"}}}}}).has_value());
  ASSERT_TRUE(
      Do(Operation::kUpdate, "metadata/t", Json{{"custom_metadata", {{"owner", "team \"a\""}}}})
          .has_value());
  ASSERT_TRUE(Write("t", Json{{"user", "h\u00e9 \"quoted\"\n"}, {"n", 2}}).has_value());
  for (Query query : {Query{}, Query{{"version", "1"}}}) {
    auto tree = Read("t", query);
    Request request = MakeRequest(Operation::kRead, "data/t", Json::object(), query);
    request.data_text_ok = true;
    auto text = engine_->HandleRequest(request);
    ASSERT_TRUE(tree.has_value() && text.has_value());
    EXPECT_TRUE(tree->data_text.empty());
    EXPECT_TRUE(text->data.is_null());
    EXPECT_EQ(text->http_status, 200);
    EXPECT_EQ(text->data_text, tree->data.dump()) << query.size();
  }

  Request subkeys = MakeRequest(Operation::kRead, "subkeys/t");
  subkeys.data_text_ok = true;
  auto sk = engine_->HandleRequest(subkeys);
  ASSERT_TRUE(sk.has_value());
  EXPECT_TRUE(sk->data_text.empty());
  EXPECT_EQ(sk->data["subkeys"], (Json{{"n", nullptr}, {"user", nullptr}}));

  ASSERT_TRUE(Do(Operation::kDelete, "data/t").has_value());
  Request deleted = MakeRequest(Operation::kRead, "data/t");
  deleted.data_text_ok = true;
  auto gone = engine_->HandleRequest(deleted);
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->http_status, 404);
  EXPECT_TRUE(gone->data_text.empty());
  EXPECT_TRUE(gone->data["data"].is_null());
  EXPECT_EQ(gone->data["metadata"]["version"], 2);
}

// The data of the version a metadata entry holds, or null when it holds none.
Json CurrentInEntry(const std::string& raw) {
  const MetadataEntryParts parts = SplitMetadataEntry(raw);
  EXPECT_TRUE(DecodeMetadata(parts.metadata).has_value());
  if (parts.current.empty()) return nullptr;
  auto record = DecodeVersion(parts.current);
  EXPECT_TRUE(record.has_value());
  return record ? record->data : Json(nullptr);
}

TEST_F(KvV2Test, StorageLayoutKeepsTheCurrentVersionInTheMetadataEntry) {
  ASSERT_TRUE(Write("k", Json{{"a", 1}}).has_value());
  auto snap = Snapshot(storage_);
  EXPECT_EQ(snap.size(), 1u);  // one record for a new key
  EXPECT_EQ(CurrentInEntry(snap["metadata/k"].first), (Json{{"a", 1}}));

  ASSERT_TRUE(Write("k", Json{{"a", 2}}).has_value());
  snap = Snapshot(storage_);
  ASSERT_TRUE(snap.contains("versions/k/1"));  // moved out by the write
  EXPECT_FALSE(snap.contains("versions/k/2"));
  EXPECT_EQ(DecodeVersion(snap["versions/k/1"].first)->data, (Json{{"a", 1}}));
  EXPECT_EQ(CurrentInEntry(snap["metadata/k"].first), (Json{{"a", 2}}));
  std::uint64_t v1_revision = snap["versions/k/1"].second;

  ASSERT_TRUE(Write("k", Json{{"a", 3}}).has_value());
  snap = Snapshot(storage_);
  // Older versions are not rewritten by a new write.
  EXPECT_EQ(snap["versions/k/1"].second, v1_revision);
  EXPECT_EQ(DecodeVersion(snap["versions/k/2"].first)->data, (Json{{"a", 2}}));
  EXPECT_FALSE(snap.contains("versions/k/3"));
  EXPECT_EQ(CurrentInEntry(snap["metadata/k"].first), (Json{{"a", 3}}));
  EXPECT_EQ(Read("k", {{"version", "1"}})->data["data"], (Json{{"a", 1}}));
  EXPECT_EQ(Read("k", {{"version", "2"}})->data["data"], (Json{{"a", 2}}));
  EXPECT_EQ(Read("k")->data["data"], (Json{{"a", 3}}));
}

TEST_F(KvV2Test, AVersionTheWindowDropsIsNotMovedOut) {
  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/k", Json{{"max_versions", 1}}).has_value());
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(Write("k", Json{{"a", i}}).has_value());
  auto snap = Snapshot(storage_);
  EXPECT_EQ(snap.size(), 1u) << "only the metadata entry, holding version 3";
  EXPECT_EQ(CurrentInEntry(snap["metadata/k"].first), (Json{{"a", 3}}));
  EXPECT_EQ(Read("k", {{"version", "2"}})->http_status, 404);
}

// A store written before the metadata entry held the current version: every
// version under versions/, the entry only metadata. It reads as it is, and
// a write moves the key over without touching the older records.
TEST_F(KvV2Test, EntriesWithoutTheCurrentVersionStillReadAndMoveOverOnTheNextWrite) {
  KeyMetadata meta;
  const Config config;
  std::vector<storage::Op> ops;
  for (int i = 1; i <= 2; ++i) {
    AddVersion(meta, 1000 * i, std::nullopt, config);
    ops.push_back({storage::Op::Kind::kPut, VersionKey("k", static_cast<std::uint64_t>(i)),
                   EncodeVersion({Json{{"a", i}}, 1000 * i})});
  }
  ops.push_back({storage::Op::Kind::kPut, MetadataKey("k"), EncodeMetadata(meta)});
  ASSERT_TRUE(storage_.Transact({}, ops).ok());

  EXPECT_EQ(Read("k")->data["data"], (Json{{"a", 2}}));
  EXPECT_EQ(Read("k", {{"version", "1"}})->data["data"], (Json{{"a", 1}}));
  auto patched = Do(Operation::kPatch, "data/k", Json{{"data", {{"b", true}}}});
  ASSERT_TRUE(patched.has_value()) << patched.error().ToString();
  EXPECT_EQ(patched->data["version"], 3);

  auto snap = Snapshot(storage_);
  EXPECT_EQ(DecodeVersion(snap["versions/k/2"].first)->data, (Json{{"a", 2}}));
  EXPECT_FALSE(snap.contains("versions/k/3"));
  EXPECT_EQ(CurrentInEntry(snap["metadata/k"].first), (Json{{"a", 2}, {"b", true}}));
  EXPECT_EQ(Read("k", {{"version", "2"}})->data["data"], (Json{{"a", 2}}));

  // Destroying version 2 of the old layout deletes its record.
  ASSERT_TRUE(Do(Operation::kUpdate, "destroy/k", Json{{"versions", {2}}}).has_value());
  EXPECT_FALSE(Snapshot(storage_).contains("versions/k/2"));
  ASSERT_TRUE(Do(Operation::kDelete, "metadata/k").has_value());
  EXPECT_TRUE(Snapshot(storage_).empty());
}

TEST_F(KvV2Test, CheckAndSet) {
  auto create = Write("c", Json{{"a", 1}}, Json{{"cas", 0}});
  ASSERT_TRUE(create.has_value());
  EXPECT_EQ(create->data["version"], 1);

  auto again = Write("c", Json{{"a", 2}}, Json{{"cas", 0}});
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), Code::kConflict);
  EXPECT_EQ(again.error().message(), "check-and-set parameter did not match the current version");

  auto ok = Write("c", Json{{"a", 2}}, Json{{"cas", "1"}});
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->data["version"], 2);

  EXPECT_EQ(Write("c", Json{{"a", 3}}, Json{{"cas", 5}}).error().code(), Code::kConflict);
  // A negative one matches no version, in Vault's words; a non-number is
  // unreadable.
  auto negative = Write("c", Json{{"a", 3}}, Json{{"cas", -1}});
  ASSERT_FALSE(negative.has_value());
  EXPECT_EQ(negative.error().message(),
            "check-and-set parameter did not match the current version");
  EXPECT_EQ(Write("c", Json{{"a", 3}}, Json{{"cas", "x"}}).error().message(),
            "error parsing check-and-set parameter");
  EXPECT_EQ(Read("c")->data["data"], (Json{{"a", 2}}));
  EXPECT_EQ(Read("c")->data["metadata"]["version"], 2);
}

TEST_F(KvV2Test, CasRequiredByMountAndByKey) {
  ASSERT_TRUE(Do(Operation::kUpdate, "config", Json{{"cas_required", true}}).has_value());
  auto no_cas = Write("m", Json{{"a", 1}});
  ASSERT_FALSE(no_cas.has_value());
  EXPECT_EQ(no_cas.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(no_cas.error().message(), "check-and-set parameter required for this call");
  EXPECT_TRUE(Write("m", Json{{"a", 1}}, Json{{"cas", 0}}).has_value());

  // Turning it off per key is ignored while the mount requires it.
  auto warn = Do(Operation::kUpdate, "metadata/m", Json{{"cas_required", false}});
  ASSERT_TRUE(warn.has_value());
  ASSERT_TRUE(warn->warnings.is_array());
  EXPECT_FALSE(Write("m", Json{{"a", 2}}).has_value());

  ASSERT_TRUE(Do(Operation::kUpdate, "config", Json{{"cas_required", false}}).has_value());
  EXPECT_TRUE(Write("m", Json{{"a", 2}}).has_value());
  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/k", Json{{"cas_required", true}}).has_value());
  EXPECT_EQ(Write("k", Json{{"a", 1}}).error().code(), Code::kInvalidArgument);
  EXPECT_TRUE(Write("k", Json{{"a", 1}}, Json{{"cas", 0}}).has_value());
  EXPECT_TRUE(Write("other", Json{{"a", 1}}).has_value());
}

TEST_F(KvV2Test, PatchIsJsonMergePatch) {
  ASSERT_TRUE(Write("p", Json{{"a", 1}, {"b", {{"c", 2}, {"d", 3}}}, {"e", 4}, {"arr", {1, 2}}})
                  .has_value());
  auto patched =
      Do(Operation::kPatch, "data/p",
         Json{{"data",
               {{"b", {{"c", nullptr}, {"x", 5}}}, {"e", nullptr}, {"f", "new"}, {"arr", {3}}}}});
  ASSERT_TRUE(patched.has_value()) << patched.error().ToString();
  EXPECT_EQ(patched->data["version"], 2);
  EXPECT_EQ(Read("p")->data["data"],
            (Json{{"a", 1}, {"b", {{"d", 3}, {"x", 5}}}, {"f", "new"}, {"arr", {3}}}));
  // The previous version is untouched.
  EXPECT_EQ(Read("p", {{"version", "1"}})->data["data"]["e"], 4);

  // CAS applies to patch too.
  auto bad_cas =
      Do(Operation::kPatch, "data/p", Json{{"data", {{"a", 9}}}, {"options", {{"cas", 1}}}});
  EXPECT_EQ(bad_cas.error().code(), Code::kConflict);
  EXPECT_TRUE(Do(Operation::kPatch, "data/p", Json{{"data", {{"a", 9}}}, {"options", {{"cas", 2}}}})
                  .has_value());

  auto missing = Do(Operation::kPatch, "data/none", Json{{"data", {{"a", 1}}}});
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->http_status, 404);
  EXPECT_EQ(Read("none")->http_status, 404);

  ASSERT_TRUE(Do(Operation::kDelete, "data/p").has_value());
  auto deleted = Do(Operation::kPatch, "data/p", Json{{"data", {{"a", 1}}}});
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->http_status, 404);
  EXPECT_EQ(deleted->data["version"], 3);
  EXPECT_NE(deleted->data["deletion_time"], "");
}

// What Vault's Go client sends for metadata: "custom_metadata": null in a
// write (PutMetadata with no custom metadata) clears it; a null in a patch
// is a merge patch's remove, which sets the field back to its default. Both
// move updated_time, as in OpenBao.
TEST_F(KvV2Test, MetadataNullsAndUpdatedTime) {
  ASSERT_TRUE(Write("m", Json{{"a", 1}}).has_value());
  const Json full{{"max_versions", 5},
                  {"cas_required", true},
                  {"delete_version_after", "1h"},
                  {"custom_metadata", {{"owner", "ops"}, {"tier", "1"}}}};
  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/m", full).has_value());
  const Json written_at = Do(Operation::kRead, "metadata/m")->data["updated_time"];
  clock_.Advance(std::chrono::seconds(5));
  auto patched = Do(Operation::kPatch, "metadata/m",
                    Json{{"custom_metadata", nullptr}, {"max_versions", nullptr}});
  ASSERT_TRUE(patched.has_value()) << patched.error().ToString();
  Json meta = Do(Operation::kRead, "metadata/m")->data;
  EXPECT_EQ(meta["custom_metadata"], nullptr);
  EXPECT_EQ(meta["max_versions"], 0);
  EXPECT_EQ(meta["cas_required"], true);  // not in the patch: kept
  EXPECT_NE(meta["updated_time"], written_at);

  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/m", full).has_value());
  auto put = Do(Operation::kUpdate, "metadata/m",
                Json{{"max_versions", 0},
                     {"cas_required", false},
                     {"delete_version_after", "0s"},
                     {"custom_metadata", nullptr}});
  ASSERT_TRUE(put.has_value()) << put.error().ToString();
  meta = Do(Operation::kRead, "metadata/m")->data;
  EXPECT_EQ(meta["custom_metadata"], nullptr);
  EXPECT_EQ(meta["cas_required"], false);
}

TEST_F(KvV2Test, Config) {
  auto defaults = Do(Operation::kRead, "config");
  ASSERT_TRUE(defaults.has_value());
  EXPECT_EQ(defaults->data,
            (Json{{"max_versions", 0}, {"cas_required", false}, {"delete_version_after", "0s"}}));
  auto w = Do(Operation::kUpdate, "config",
              Json{{"max_versions", 5}, {"delete_version_after", "3h25m19s"}});
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->http_status, 204);
  EXPECT_EQ(
      Do(Operation::kRead, "config")->data,
      (Json{{"max_versions", 5}, {"cas_required", false}, {"delete_version_after", "3h25m19s"}}));
  // Only the fields sent change.
  ASSERT_TRUE(Do(Operation::kUpdate, "config", Json{{"cas_required", true}}).has_value());
  EXPECT_EQ(Do(Operation::kRead, "config")->data["max_versions"], 5);
  ASSERT_TRUE(Do(Operation::kUpdate, "config", Json{{"delete_version_after", -5}}).has_value());
  EXPECT_EQ(Do(Operation::kRead, "config")->data["delete_version_after"], "-1s");
}

TEST_F(KvV2Test, Subkeys) {
  ASSERT_TRUE(Write("s", Json{{"foo", "abc"},
                              {"bar", {{"baz", "def"}, {"deep", {{"x", 1}}}}},
                              {"quux", Json::object()}})
                  .has_value());
  auto all = Do(Operation::kRead, "subkeys/s");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->data["subkeys"], (Json{{"foo", nullptr},
                                        {"bar", {{"baz", nullptr}, {"deep", {{"x", nullptr}}}}},
                                        {"quux", nullptr}}));
  EXPECT_EQ(all->data["metadata"]["version"], 1);
  EXPECT_EQ(Do(Operation::kRead, "subkeys/s", Json::object(), {{"depth", "1"}})->data["subkeys"],
            (Json{{"foo", nullptr}, {"bar", nullptr}, {"quux", nullptr}}));
  EXPECT_EQ(
      Do(Operation::kRead, "subkeys/s", Json::object(), {{"depth", "2"}})->data["subkeys"],
      (Json{{"foo", nullptr}, {"bar", {{"baz", nullptr}, {"deep", nullptr}}}, {"quux", nullptr}}));
  ASSERT_TRUE(Do(Operation::kDelete, "data/s").has_value());
  auto deleted = Do(Operation::kRead, "subkeys/s");
  EXPECT_EQ(deleted->http_status, 404);
  EXPECT_TRUE(deleted->data["subkeys"].is_null());
  EXPECT_EQ(Do(Operation::kRead, "subkeys/none")->http_status, 404);
}

TEST_F(KvV2Test, RoutingErrors) {
  // Outside the version 2 API: 404 with the warning clients look for,
  // naming the CLI command for the operation, and no error.
  const std::vector<std::tuple<Operation, std::string, std::string>> invalid = {
      {Operation::kRead, "bogus/x", "get"},
      {Operation::kUpdate, "app", "put"},
      {Operation::kList, "app/", "list"},
      {Operation::kDelete, "app", "delete"}};
  for (const auto& [op, path, command] : invalid) {
    auto r = Do(op, path);
    ASSERT_TRUE(r.has_value()) << path << ": " << r.error().ToString();
    EXPECT_EQ(r->http_status, 404) << path;
    ASSERT_EQ(r->warnings.size(), 1u) << path;
    const std::string warning = r->warnings[0];
    EXPECT_TRUE(warning.starts_with("Invalid path for a versioned K/V secrets engine.")) << warning;
    EXPECT_NE(warning.find("use 'coffer kv " + command + "'"), std::string::npos) << warning;
  }
  // The root of a section, other than a listing: Vault's warning for it.
  for (const auto& [op, path] :
       std::vector<std::pair<Operation, std::string>>{{Operation::kRead, "data"},
                                                      {Operation::kRead, "metadata"},
                                                      {Operation::kUpdate, "data"},
                                                      {Operation::kDelete, "metadata"},
                                                      {Operation::kUpdate, "destroy"}}) {
    auto r = Do(op, path);
    ASSERT_TRUE(r.has_value()) << path << ": " << r.error().ToString();
    EXPECT_EQ(r->http_status, 404) << path;
    EXPECT_EQ(r->warnings,
              logical::Json::array(
                  {"Non-listing operations on the root of a K/V v2 mount are not supported."}))
        << path;
  }
  EXPECT_EQ(Do(Operation::kDelete, "config").error().code(), Code::kMethodNotAllowed);
  EXPECT_EQ(Do(Operation::kList, "data/").error().code(), Code::kMethodNotAllowed);
  EXPECT_EQ(Do(Operation::kRead, "destroy/x").error().code(), Code::kMethodNotAllowed);
  EXPECT_EQ(Read("")->http_status, 404);
}

TEST_F(KvV2Test, ExistenceCheck) {
  auto exists = [&](std::string path) {
    return *engine_->ExistenceCheck(MakeRequest(Operation::kCreate, std::move(path)));
  };
  EXPECT_FALSE(exists("data/e"));
  EXPECT_FALSE(exists("metadata/e"));
  ASSERT_TRUE(Write("e", Json{{"a", 1}}).has_value());
  EXPECT_TRUE(exists("data/e"));
  EXPECT_TRUE(exists("metadata/e"));
  EXPECT_TRUE(exists("config"));
}

TEST_F(KvV2Test, BadInputsChangeNothing) {
  ASSERT_TRUE(Write("keep", Json{{"a", 1}}).has_value());
  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/keep", Json{{"max_versions", 4}}).has_value());
  auto before = Snapshot(storage_);

  struct Case {
    Operation op;
    std::string path;
    Json body;
  };
  const std::vector<Case> cases = {
      {Operation::kUpdate, "data/keep", Json{{"data", "not an object"}}},
      {Operation::kUpdate, "data/keep", Json{{"data", {1, 2, 3}}}},
      {Operation::kUpdate, "data/keep", Json{{"other", {{"a", 1}}}}},
      {Operation::kUpdate, "data/keep", Json::array({1})},
      {Operation::kUpdate, "data/keep", Json{{"data", {{"a", 2}}}, {"options", "cas"}}},
      {Operation::kUpdate, "data/keep", Json{{"data", {{"a", 2}}}, {"options", {{"cas", "x"}}}}},
      {Operation::kUpdate, "data/keep", Json{{"data", {{"a", 2}}}, {"options", {{"cas", -1}}}}},
      {Operation::kUpdate, "data/keep", Json{{"data", {{"a", 2}}}, {"options", {{"cas", 7}}}}},
      {Operation::kUpdate, "data/", Json{{"data", {{"a", 2}}}}},
      {Operation::kUpdate, "data/a//b", Json{{"data", {{"a", 2}}}}},
      {Operation::kUpdate, "data/trailing/", Json{{"data", {{"a", 2}}}}},
      {Operation::kPatch, "data/keep", Json{{"data", "x"}}},
      {Operation::kPatch, "data/keep", Json::object()},
      {Operation::kUpdate, "metadata/keep", Json{{"max_versions", -1}}},
      {Operation::kUpdate, "metadata/keep", Json{{"max_versions", "many"}}},
      {Operation::kUpdate, "metadata/keep", Json{{"delete_version_after", "soon"}}},
      {Operation::kUpdate, "metadata/keep", Json{{"delete_version_after", "-1h"}}},
      {Operation::kUpdate, "metadata/keep", Json{{"cas_required", "maybe"}}},
      {Operation::kUpdate, "metadata/keep", Json{{"custom_metadata", "x"}}},
      {Operation::kUpdate, "metadata/keep", Json{{"custom_metadata", {{"k", {{"n", 1}}}}}}},
      {Operation::kUpdate, "metadata/keep", Json{{"custom_metadata", {{"k", ""}}}}},
      {Operation::kUpdate, "metadata/keep",
       Json{{"max_versions", 2}, {"custom_metadata", {{"k", std::string(513, 'v')}}}}},
      {Operation::kUpdate, "metadata/", Json{{"max_versions", 2}}},
      {Operation::kUpdate, "delete/keep", Json::object()},
      {Operation::kUpdate, "delete/keep", Json{{"versions", Json::array()}}},
      {Operation::kUpdate, "undelete/keep", Json{{"versions", {"x"}}}},
      {Operation::kUpdate, "destroy/keep", Json{{"versions", {{"a", 1}}}}},
      {Operation::kUpdate, "config", Json{{"max_versions", "many"}}},
      {Operation::kUpdate, "config", Json{{"max_versions", 3}, {"cas_required", "perhaps"}}},
      {Operation::kUpdate, "config", Json{{"delete_version_after", true}}},
  };
  for (const auto& c : cases) {
    auto r = Do(c.op, c.path, c.body);
    bool rejected = !r.has_value() || r->http_status >= 400;
    EXPECT_TRUE(rejected) << c.path << " " << c.body.dump();
    if (!r.has_value()) {
      EXPECT_TRUE(r.error().code() == Code::kInvalidArgument || r.error().code() == Code::kConflict)
          << c.path << " " << c.body.dump() << ": " << r.error().ToString();
    }
  }
  EXPECT_EQ(Snapshot(storage_), before);

  // A 64-key limit applies to the merged result of a metadata patch.
  Json many = Json::object();
  for (int i = 0; i < 64; ++i) many["k" + std::to_string(i)] = "v";
  before = Snapshot(storage_);
  ASSERT_TRUE(Do(Operation::kUpdate, "metadata/keep", Json{{"custom_metadata", many}}).has_value());
  auto after_ok = Snapshot(storage_);
  EXPECT_NE(after_ok, before);
  auto over = Do(Operation::kPatch, "metadata/keep", Json{{"custom_metadata", {{"k64", "v"}}}});
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Snapshot(storage_), after_ok);

  EXPECT_EQ(Write("keep", Json::object())->data["version"], 2);  // an empty object is fine
}

TEST_F(KvV2Test, BadInputsLeaveSnapshotUnchanged) {
  ASSERT_TRUE(Write("keep", Json{{"a", 1}}).has_value());
  auto before = Snapshot(storage_);
  EXPECT_FALSE(Write("keep", "string").has_value());
  EXPECT_FALSE(Write("keep", Json{{"a", 2}}, Json{{"cas", 9}}).has_value());
  EXPECT_FALSE(Do(Operation::kUpdate, "metadata/keep", Json{{"max_versions", -3}}).has_value());
  EXPECT_FALSE(Do(Operation::kUpdate, "destroy/keep", Json{{"versions", "1,x"}}).has_value());
  EXPECT_EQ(Snapshot(storage_), before);
  EXPECT_EQ(Read("keep")->data["data"], (Json{{"a", 1}}));
}

}  // namespace
}  // namespace coffer::engines::kv::testing
