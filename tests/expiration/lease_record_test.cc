#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "expiration/lease.h"

namespace coffer::expiration {
namespace {

Lease Sample(Lease::Kind kind, nlohmann::json internal) {
  Lease l;
  l.id = "database/creds/ro/abc";
  l.path = "database/creds/ro";
  l.token_hmac = "f00d";
  l.issue_time = 1700000000;
  l.expire_time = 1700003600;
  l.last_renewal = 0;
  l.renewable = true;
  l.ttl = 3600;
  l.max_ttl = -1;
  l.internal = std::move(internal);
  l.kind = kind;
  return l;
}

TEST(LeaseRecordTest, EncodesWhatNlohmannPrintedAndDecodesToTheSameLease) {
  for (const Lease& l : {Sample(Lease::Kind::kToken, nlohmann::json::object()),
                         Sample(Lease::Kind::kSecret, {{"username", "v-ro-\"1"}, {"n", 2}})}) {
    const std::string text = EncodeLease(l);
    nlohmann::json old = {{"id", l.id},
                          {"path", l.path},
                          {"token_hmac", l.token_hmac},
                          {"issue_time", l.issue_time},
                          {"expire_time", l.expire_time},
                          {"last_renewal", l.last_renewal},
                          {"renewable", l.renewable},
                          {"ttl", l.ttl},
                          {"max_ttl", l.max_ttl},
                          {"internal", l.internal},
                          {"kind", l.kind == Lease::Kind::kToken ? "token" : "secret"}};
    EXPECT_EQ(text, old.dump());
    auto back = LeaseFromJson(text);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->id, l.id);
    EXPECT_EQ(back->internal, l.internal);
    EXPECT_EQ(back->kind, l.kind);
    EXPECT_EQ(back->max_ttl, -1);
    EXPECT_EQ(EncodeLease(*back), text);
  }
}

}  // namespace
}  // namespace coffer::expiration
