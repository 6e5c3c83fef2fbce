// core::AuditedHeaders: the list kept, stored, refused names.
#include "core/audited_headers.h"

#include <gtest/gtest.h>

#include "storage/inmem/inmem_backend.h"

namespace coffer::core {
namespace {

using List = AuditedHeaders::List;

TEST(AuditedHeadersTest, SetRemoveStoreAndLoad) {
  storage::InmemBackend store;
  AuditedHeaders headers;
  EXPECT_EQ(headers.Snapshot(), nullptr);
  ASSERT_TRUE(headers.Set(store, "X-Forwarded-For", false).ok());
  ASSERT_TRUE(headers.Set(store, "x-request-id", true).ok());
  ASSERT_TRUE(headers.Set(store, "X-REQUEST-ID", false).ok());  // the same header
  ASSERT_NE(headers.Snapshot(), nullptr);
  EXPECT_EQ(*headers.Snapshot(), (List{{"x-forwarded-for", false}, {"x-request-id", false}}));

  AuditedHeaders loaded;
  ASSERT_TRUE(loaded.Load(store).ok());
  EXPECT_EQ(*loaded.Snapshot(), *headers.Snapshot());

  EXPECT_EQ(headers.Remove(store, "x-other").code(), Code::kNotFound);
  ASSERT_TRUE(headers.Remove(store, "X-Forwarded-For").ok());
  ASSERT_TRUE(headers.Remove(store, "x-request-id").ok());
  EXPECT_EQ(headers.Snapshot(), nullptr);
  ASSERT_TRUE(loaded.Load(store).ok());
  EXPECT_EQ(loaded.Snapshot(), nullptr);

  ASSERT_TRUE(store.Put("core/audited-headers", R"({"x-a": 1})").ok());
  EXPECT_EQ(loaded.Load(store).code(), Code::kInternal);
}

TEST(AuditedHeadersTest, RefusedNamesChangeNothing) {
  storage::InmemBackend store;
  AuditedHeaders headers;
  ASSERT_TRUE(headers.Set(store, "x-a", true).ok());
  for (const char* name :
       {"X-Vault-Token", "authorization", "X-Vault-MFA", "", "x b", "x:y", "x\r\ny"}) {
    EXPECT_EQ(headers.Set(store, name, false).code(), Code::kInvalidArgument) << name;
  }
  EXPECT_EQ(*headers.Snapshot(), (List{{"x-a", true}}));
}

}  // namespace
}  // namespace coffer::core
