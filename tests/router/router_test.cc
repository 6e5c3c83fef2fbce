#include "router/router.h"

#include <gtest/gtest.h>

#include "logical/registry.h"
#include "storage/inmem/inmem_backend.h"

namespace coffer::router {
namespace {

// An engine that stores the request body at its relative path.
class EchoEngine final : public logical::Backend {
 public:
  explicit EchoEngine(storage::Backend& storage) : storage_(storage) {}
  Result<logical::Response> HandleRequest(const logical::Request& r) override {
    if (r.operation == logical::Operation::kRead) {
      ASSIGN_OR_RETURN(auto e, storage_.Get(r.relative_path));
      if (!e) return Err(NotFound("none"));
      logical::Response resp;
      resp.data = logical::Json::parse(e->value);
      return resp;
    }
    TRY(storage_.Put(r.relative_path, r.data.dump()));
    return logical::Response{};
  }

 private:
  storage::Backend& storage_;
};

class RouterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    logical::RegisterEngine(
        "echo", [](const logical::BackendConfig& c) -> Result<std::unique_ptr<logical::Backend>> {
          return std::make_unique<EchoEngine>(c.storage);
        });
  }
  storage::InmemBackend store_;
  FakeClock clock_;
  Router router_{store_, clock_};

  Status Mount(std::string path) {
    MountEntry e;
    e.path = std::move(path);
    e.type = "echo";
    return router_.Mount(std::move(e));
  }
};

TEST_F(RouterTest, LongestPrefixWins) {
  ASSERT_TRUE(Mount("a/").ok());
  ASSERT_TRUE(Mount("b/c/").ok());
  auto m = router_.Route("a/x/y");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->mount->entry.path, "a/");
  EXPECT_EQ(m->relative_path, "x/y");
  m = router_.Route("b/c");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->relative_path, "");
  EXPECT_FALSE(router_.Route("b/d").has_value());
  EXPECT_FALSE(router_.Route("ab/x").has_value());
}

TEST_F(RouterTest, RejectsOverlapsReservedAndUnknownTypes) {
  ASSERT_TRUE(Mount("a/").ok());
  EXPECT_EQ(Mount("a/b/").code(), Code::kInvalidArgument);
  EXPECT_EQ(Mount("a/").code(), Code::kInvalidArgument);
  EXPECT_EQ(Mount("sys/").code(), Code::kInvalidArgument);
  EXPECT_EQ(Mount("auth/x/").code(), Code::kInvalidArgument);
  MountEntry e;
  e.path = "z/";
  e.type = "no-such-engine";
  EXPECT_EQ(router_.Mount(e).code(), Code::kInvalidArgument);
  EXPECT_EQ(router_.snapshot()->mounts.size(), 1u);
}

// An accessor names one mount: one already taken (drawn again by chance,
// one in four billion) is drawn again, keeping its type prefix.
TEST_F(RouterTest, AccessorsAreUnique) {
  MountEntry first;
  first.path = "a/";
  first.type = "echo";
  first.accessor = "echo_12345678";
  ASSERT_TRUE(router_.Mount(first).ok());
  MountEntry second = first;
  second.path = "b/";
  ASSERT_TRUE(router_.Mount(second).ok());
  auto a = router_.MountedAt("a/");
  auto b = router_.MountedAt("b/");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->entry.accessor, "echo_12345678");
  EXPECT_NE(b->entry.accessor, "echo_12345678");
  EXPECT_TRUE(b->entry.accessor.starts_with("echo_"));
  EXPECT_EQ(b->entry.accessor.size(), first.accessor.size());
}

TEST_F(RouterTest, TablePersistsAndUnmountDeletesData) {
  ASSERT_TRUE(Mount("kv/").ok());
  auto m = router_.Route("kv/item");
  logical::Request req;
  req.operation = logical::Operation::kUpdate;
  req.relative_path = "item";
  req.data = {{"v", 1}};
  ASSERT_TRUE(m->mount->engine->HandleRequest(req).has_value());
  std::string uuid = m->mount->entry.uuid;
  ASSERT_TRUE(store_.Get("logical/" + uuid + "/item")->has_value());

  Router reloaded(store_, clock_);
  ASSERT_TRUE(reloaded.Load().ok());
  ASSERT_TRUE(reloaded.Route("kv/item").has_value());

  ASSERT_TRUE(router_.Unmount("kv").ok());
  EXPECT_FALSE(router_.Route("kv/item").has_value());
  EXPECT_FALSE(store_.Get("logical/" + uuid + "/item")->has_value());
  EXPECT_EQ(router_.Unmount("kv").code(), Code::kNotFound);
}

TEST_F(RouterTest, RemountKeepsData) {
  ASSERT_TRUE(Mount("old/").ok());
  logical::Request req;
  req.operation = logical::Operation::kUpdate;
  req.relative_path = "item";
  req.data = {{"v", 7}};
  ASSERT_TRUE(router_.Route("old/item")->mount->engine->HandleRequest(req).has_value());
  ASSERT_TRUE(Mount("other/").ok());
  EXPECT_EQ(router_.Remount("old", "other/x").error().code(), Code::kInvalidArgument);
  auto id = router_.Remount("old", "new");
  ASSERT_TRUE(id.has_value());
  auto migration = router_.FindMigration(*id);
  ASSERT_TRUE(migration.has_value());
  EXPECT_EQ(migration->source, "old/");
  EXPECT_EQ(migration->target, "new/");
  EXPECT_FALSE(router_.FindMigration("unknown").has_value());
  EXPECT_FALSE(router_.Route("old/item").has_value());
  auto m = router_.Route("new/item");
  ASSERT_TRUE(m.has_value());
  req.operation = logical::Operation::kRead;
  auto got = m->mount->engine->HandleRequest(req);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->data["v"], 7);
  EXPECT_EQ(router_.Remount("missing", "y").error().code(), Code::kInvalidArgument);
}

// Retune commits the tuned entry and the view's ops together, then serves a
// new engine; it refuses a mount that no longer runs the engine prepared.
TEST_F(RouterTest, RetuneCommitsTheEntryWithTheViewOpsAndReplacesTheEngine) {
  ASSERT_TRUE(Mount("a/").ok());
  auto before = router_.Route("a/x");
  ASSERT_TRUE(before.has_value());
  const logical::Backend& engine = *before->mount->engine;
  const std::string uuid = before->mount->entry.uuid;

  storage::Op view_op{storage::Op::Kind::kPut, "marker", "pending"};
  bool committed = true;
  EchoEngine stranger(store_);
  EXPECT_EQ(router_
                .Retune("a/", logical::Json::object(), std::nullopt, {{"mode", "new"}}, stranger,
                        std::span<const storage::Op>(&view_op, 1), &committed)
                .code(),
            Code::kNotFound);
  EXPECT_FALSE(committed);
  EXPECT_FALSE(store_.Get("logical/" + uuid + "/marker")->has_value());

  ASSERT_TRUE(router_
                  .Retune("a/", logical::Json::object(), "described", {{"mode", "new"}}, engine,
                          std::span<const storage::Op>(&view_op, 1), &committed)
                  .ok());
  EXPECT_TRUE(committed);
  auto after = router_.Route("a/x");
  ASSERT_TRUE(after.has_value());
  EXPECT_NE(after->mount->engine.get(), &engine);
  EXPECT_EQ(after->mount->entry.options["mode"], "new");
  EXPECT_EQ(after->mount->entry.description, "described");
  EXPECT_EQ((*store_.Get("logical/" + uuid + "/marker"))->value, "pending");

  // The table was persisted with the change.
  Router reloaded(store_, clock_);
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_EQ(reloaded.Route("a/x")->mount->entry.options["mode"], "new");
}

}  // namespace
}  // namespace coffer::router
