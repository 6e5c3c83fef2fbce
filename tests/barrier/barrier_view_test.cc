#include "barrier/barrier_view.h"

#include <gtest/gtest.h>

#include "storage/inmem/inmem_backend.h"

namespace coffer::barrier {
namespace {

TEST(BarrierViewTest, PrefixesEveryOperation) {
  storage::InmemBackend inner;
  ASSERT_TRUE(inner.Put("other/x", "outside").ok());
  BarrierView view(inner, "logical/abc/");

  ASSERT_TRUE(view.Put("foo", "1").ok());
  ASSERT_TRUE(view.Put("dir/bar", "2").ok());
  EXPECT_EQ((*inner.Get("logical/abc/foo"))->value, "1");
  EXPECT_EQ((*view.Get("foo"))->value, "1");
  EXPECT_FALSE(view.Get("other/x")->has_value());

  auto names = view.List("");
  ASSERT_TRUE(names.has_value());
  EXPECT_EQ(*names, (std::vector<std::string>{"dir/", "foo"}));
  EXPECT_EQ(*view.List("dir/"), (std::vector<std::string>{"bar"}));

  ASSERT_TRUE(view.Delete("foo").ok());
  EXPECT_FALSE(inner.Get("logical/abc/foo")->has_value());
  EXPECT_TRUE(inner.Get("other/x")->has_value());
}

TEST(BarrierViewTest, TransactPrefixesComparesAndOps) {
  storage::InmemBackend inner;
  BarrierView view(inner, "v/");
  storage::Compare absent{"k", 0};
  storage::Op put{storage::Op::Kind::kPut, "k", "1"};
  ASSERT_TRUE(view.Transact({&absent, 1}, {&put, 1}).ok());
  EXPECT_EQ((*inner.Get("v/k"))->value, "1");
  // "k" now exists in the view, so the same create-only transaction conflicts.
  EXPECT_EQ(view.Transact({&absent, 1}, {&put, 1}).code(), Code::kConflict);
  // A key of the same name outside the view does not count.
  ASSERT_TRUE(inner.Put("j", "outside").ok());
  storage::Compare j_absent{"j", 0};
  storage::Op put_j{storage::Op::Kind::kPut, "j", "inside"};
  ASSERT_TRUE(view.Transact({&j_absent, 1}, {&put_j, 1}).ok());
  EXPECT_EQ((*inner.Get("j"))->value, "outside");
  EXPECT_EQ((*inner.Get("v/j"))->value, "inside");
}

TEST(BarrierViewTest, RejectsEscapingKeys) {
  storage::InmemBackend inner;
  BarrierView view(inner, "v/");
  EXPECT_EQ(view.Put("", "x").code(), Code::kInvalidArgument);
  EXPECT_EQ(view.Put("/abs", "x").code(), Code::kInvalidArgument);
  EXPECT_EQ(view.Get("").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(view.List("/").error().code(), Code::kInvalidArgument);
}

TEST(BarrierViewTest, SubView) {
  storage::InmemBackend inner;
  BarrierView view(inner, "a/");
  BarrierView sub = view.SubView("b/");
  ASSERT_TRUE(sub.Put("c", "1").ok());
  EXPECT_EQ((*inner.Get("a/b/c"))->value, "1");
  EXPECT_EQ(sub.prefix(), "a/b/");
}

}  // namespace
}  // namespace coffer::barrier
