#include <gtest/gtest.h>

#include "expiration/index_format.h"

namespace coffer::expiration {
namespace {

IndexRecord Rec(const std::string& id, std::int64_t expire) {
  return IndexRecord{KeyOf(id), expire, id};
}

TEST(IndexEditTest, UpsertAndEraseMatchEncodeBucket) {
  std::string bucket;
  ASSERT_TRUE(UpsertRecord(bucket, Rec("a/1", 10)).ok());
  ASSERT_TRUE(UpsertRecord(bucket, Rec("b/22", 20)).ok());
  ASSERT_TRUE(UpsertRecord(bucket, Rec("c/333", 30)).ok());
  EXPECT_EQ(bucket, EncodeBucket({Rec("a/1", 10), Rec("b/22", 20), Rec("c/333", 30)}));

  // Replacing keeps the position; the id may change length.
  IndexRecord longer = Rec("b/22", 25);
  ASSERT_TRUE(UpsertRecord(bucket, longer).ok());
  EXPECT_EQ(bucket, EncodeBucket({Rec("a/1", 10), longer, Rec("c/333", 30)}));

  ASSERT_TRUE(EraseRecord(bucket, KeyOf("b/22")).ok());
  EXPECT_EQ(bucket, EncodeBucket({Rec("a/1", 10), Rec("c/333", 30)}));
  ASSERT_TRUE(EraseRecord(bucket, KeyOf("missing")).ok());
  EXPECT_EQ(bucket, EncodeBucket({Rec("a/1", 10), Rec("c/333", 30)}));
  ASSERT_TRUE(EraseRecord(bucket, KeyOf("a/1")).ok());
  ASSERT_TRUE(EraseRecord(bucket, KeyOf("c/333")).ok());
  EXPECT_TRUE(bucket.empty());

  auto decoded = DecodeBucket(EncodeBucket({Rec("x", 1)}));
  ASSERT_TRUE(decoded.has_value());
  ASSERT_EQ(decoded->size(), 1u);
}

TEST(IndexEditTest, CorruptBucketIsAnErrorAndUnchanged) {
  std::string bucket = EncodeBucket({Rec("a/1", 10)});
  bucket.pop_back();
  const std::string before = bucket;
  EXPECT_FALSE(UpsertRecord(bucket, Rec("b", 1)).ok());
  EXPECT_FALSE(EraseRecord(bucket, KeyOf("a/1")).ok());
  EXPECT_EQ(bucket, before);
  std::string bad_version = "\x02";
  EXPECT_FALSE(UpsertRecord(bad_version, Rec("b", 1)).ok());
}

}  // namespace
}  // namespace coffer::expiration
