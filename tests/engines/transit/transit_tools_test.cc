#include <gtest/gtest.h>

#include "engines/transit/tools.h"
#include "transit_test_util.h"

namespace coffer::engines::transit::testing {
namespace {

class TransitToolsTest : public TransitTest {};

TEST_F(TransitToolsTest, Random) {
  EXPECT_EQ(UnB64(Ok("random")["random_bytes"].get<std::string>()).size(), 32u);
  EXPECT_EQ(UnB64(Ok("random/64")["random_bytes"].get<std::string>()).size(), 64u);
  EXPECT_EQ(UnB64(Ok("random/all/16")["random_bytes"].get<std::string>()).size(), 16u);
  EXPECT_EQ(
      Ok("random", Json{{"bytes", 8}, {"format", "hex"}})["random_bytes"].get<std::string>().size(),
      16u);
  EXPECT_NE(Ok("random")["random_bytes"], Ok("random")["random_bytes"]);
  EXPECT_NE(Bad("random/0"), "");
  EXPECT_NE(Bad("random/999999999"), "");
  EXPECT_NE(Bad("random/abc"), "");
  EXPECT_NE(Bad("random", Json{{"format", "binary"}}), "");
}

TEST_F(TransitToolsTest, Hash) {
  // sha2-256("abc") and sha3-256("") from the FIPS test vectors.
  EXPECT_EQ(Ok("hash", Json{{"input", B64("abc")}})["sum"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Ok("hash/sha3-256", Json{{"input", ""}})["sum"],
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
  EXPECT_EQ(Ok("hash",
               Json{{"input", B64("abc")}, {"algorithm", "sha2-512"}, {"format", "base64"}})["sum"]
                .get<std::string>()
                .size(),
            88u);
  EXPECT_NE(Bad("hash/md5", Json{{"input", B64("abc")}}), "");
  EXPECT_NE(Bad("hash", Json::object()), "");
  EXPECT_NE(Bad("hash", Json{{"input", "@@"}}), "");
}

}  // namespace
}  // namespace coffer::engines::transit::testing
