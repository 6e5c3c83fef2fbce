#include "storage/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/inmem/inmem_backend.h"
#include "storage/temp_dir.h"

namespace coffer::storage {
namespace {

using ::testing::HasSubstr;

TEST(RegistryTest, BuiltinsAreRegistered) {
  RegisterBuiltinBackends();
  RegisterBuiltinBackends();  // twice is fine
  auto types = RegisteredBackendTypes();
  EXPECT_THAT(types, ::testing::IsSupersetOf({"inmem", "local"}));
}

TEST(RegistryTest, UnknownTypeNamesTypeAndKnownOnes) {
  RegisterBuiltinBackends();
  auto b = CreateBackend("consul", {});
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(b.error().message(), HasSubstr("\"consul\""));
  EXPECT_THAT(b.error().message(), HasSubstr("inmem"));
  EXPECT_THAT(b.error().message(), HasSubstr("local"));
}

TEST(RegistryTest, CreatesInmem) {
  RegisterBuiltinBackends();
  auto b = CreateBackend("inmem", {});
  ASSERT_TRUE(b.has_value()) << b.error().ToString();
  EXPECT_EQ((*b)->Type(), "inmem");
  EXPECT_TRUE((*b)->Put("k", "v").ok());
}

TEST(RegistryTest, LocalRequiresPath) {
  RegisterBuiltinBackends();
  for (const auto& params :
       {std::map<std::string, std::string>{}, std::map<std::string, std::string>{{"path", ""}}}) {
    auto b = CreateBackend("local", params);
    ASSERT_FALSE(b.has_value());
    EXPECT_EQ(b.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(b.error().message(), HasSubstr("\"path\""));
  }
}

TEST(RegistryTest, CreatesLocal) {
  RegisterBuiltinBackends();
  test_util::TempDir tmp;
  auto b = CreateBackend("local", {{"path", tmp.path() + "/data"}});
  ASSERT_TRUE(b.has_value()) << b.error().ToString();
  EXPECT_EQ((*b)->Type(), "local");
  ASSERT_TRUE((*b)->Put("k", "v").ok());
  EXPECT_EQ((*b)->Get("k").value()->value, "v");
}

TEST(RegistryTest, CustomFactoryGetsParams) {
  std::map<std::string, std::string> seen;
  RegisterBackend("recording",
                  [&seen](const std::map<std::string, std::string>& params)
                      -> Result<std::unique_ptr<Backend>> {
                    seen = params;
                    return std::unique_ptr<Backend>(std::make_unique<InmemBackend>());
                  });
  auto b = CreateBackend("recording", {{"x", "1"}});
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(seen.at("x"), "1");
  RegisterBackend(
      "failing", [](const std::map<std::string, std::string>&) -> Result<std::unique_ptr<Backend>> {
        return Err(Unavailable("down"));
      });
  EXPECT_EQ(CreateBackend("failing", {}).error().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace coffer::storage
