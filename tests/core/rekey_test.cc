// sys/rekey/* through the core's pipeline: no token needed, Vault's shapes,
// the new shares unseal and the old one does not, sealed answers 503, and
// nothing about a rekey reaches an audit device (not even one with log_raw).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/encoding.h"
#include "core/core_fixture.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

class RekeyTest : public CoreFixture {
 protected:
  Json Body(const logical::Response& r) { return r.raw ? *r.raw : r.data; }
};

TEST_F(RekeyTest, RekeysWithoutATokenAndTheNewSharesUnseal) {
  auto idle = Call(Operation::kRead, "sys/rekey/init", Json::object(), "");
  ASSERT_EQ(idle.http_status, 200);
  EXPECT_EQ(Body(idle), (Json{{"started", false},
                              {"nonce", ""},
                              {"t", 0},
                              {"n", 0},
                              {"progress", 0},
                              {"required", 1},
                              {"pgp_fingerprints", nullptr},
                              {"backup", false},
                              {"verification_required", false}}));

  auto init = Call(Operation::kUpdate, "sys/rekey/init",
                   {{"secret_shares", "3"}, {"secret_threshold", 2}}, "");
  ASSERT_EQ(init.http_status, 200) << Body(init);
  std::string nonce = Body(init)["nonce"];
  EXPECT_TRUE(Body(init)["started"]);
  EXPECT_EQ(Body(init)["n"], 3);

  auto done = Call(Operation::kUpdate, "sys/rekey/update",
                   {{"key", Base64Encode(key_.view())}, {"nonce", nonce}}, "");
  ASSERT_EQ(done.http_status, 200) << Body(done);
  Json body = Body(done);
  EXPECT_EQ(body["complete"], true);
  EXPECT_EQ(body["nonce"], nonce);
  EXPECT_EQ(body["t"], 2);
  EXPECT_EQ(body["n"], 3);
  EXPECT_EQ(body["verification_required"], false);
  EXPECT_FALSE(body.contains("verification_nonce"));
  ASSERT_EQ(body["keys"].size(), 3u);
  ASSERT_EQ(body["keys_base64"].size(), 3u);
  EXPECT_FALSE(Body(Call(Operation::kRead, "sys/rekey/init", Json::object(), ""))["started"]);

  ASSERT_TRUE(core_->Seal().ok());
  EXPECT_EQ(Call(Operation::kRead, "sys/rekey/init", Json::object(), "").http_status, 503);
  EXPECT_FALSE(core_->Unseal(key_).has_value());
  EXPECT_TRUE(core_->Sealed());
  for (int i : {1, 2}) {
    auto share = HexDecode(body["keys"][static_cast<std::size_t>(i)].get<std::string>());
    ASSERT_TRUE(share.has_value());
    auto p = core_->Unseal(*share);
    ASSERT_TRUE(p.has_value()) << p.error().ToString();
  }
  EXPECT_FALSE(core_->Sealed());
  EXPECT_EQ(Call(Operation::kRead, "sys/mounts").http_status, 200);
}

TEST_F(RekeyTest, Refusals) {
  auto pgp =
      Call(Operation::kUpdate, "sys/rekey/init",
           {{"secret_shares", 3}, {"secret_threshold", 2}, {"pgp_keys", {"k1", "k2", "k3"}}}, "");
  EXPECT_EQ(pgp.http_status, 400);
  EXPECT_NE(Body(pgp)["errors"][0].get<std::string>().find("not supported"), std::string::npos);
  auto backup = Call(Operation::kUpdate, "sys/rekey/init",
                     {{"secret_shares", 3}, {"secret_threshold", 2}, {"backup", true}}, "");
  EXPECT_EQ(backup.http_status, 400);
  EXPECT_EQ(Call(Operation::kUpdate, "sys/rekey/update", {{"key", "00"}}, "").http_status, 400);
  EXPECT_EQ(Call(Operation::kList, "sys/rekey/init", Json::object(), "").http_status, 405);
  EXPECT_EQ(Call(Operation::kRead, "sys/rekey/update", Json::object(), "").http_status, 405);
  auto verify = Call(Operation::kDelete, "sys/rekey/verify", Json::object(), "");
  EXPECT_EQ(verify.http_status, 400);
  auto cancel = Call(Operation::kDelete, "sys/rekey/init", Json::object(), "");
  EXPECT_EQ(cancel.http_status, 204);

  auto init = Call(Operation::kUpdate, "sys/rekey/init",
                   {{"secret_shares", 2}, {"secret_threshold", 2}}, "");
  std::string nonce = Body(init)["nonce"];
  auto garbage =
      Call(Operation::kUpdate, "sys/rekey/update", {{"key", "not a key!"}, {"nonce", nonce}}, "");
  EXPECT_EQ(garbage.http_status, 400);
  SecretBytes wrong = key_.Clone();
  wrong.data()[0] ^= 1;
  auto bad = Call(Operation::kUpdate, "sys/rekey/update",
                  {{"key", HexEncode(wrong.view())}, {"nonce", nonce}}, "");
  EXPECT_EQ(bad.http_status, 400);
  const std::string message = Body(bad)["errors"][0];
  EXPECT_EQ(message, "rekey failed: the key shares are invalid");
  EXPECT_EQ(message.find(HexEncode(wrong.view())), std::string::npos);
}

TEST_F(RekeyTest, NeverAudited) {
  const std::string log =
      (std::filesystem::path(::testing::TempDir()) / "coffer-rekey-audit.log").string();
  std::filesystem::remove(log);
  auto enabled = Call(Operation::kUpdate, "sys/audit/raw",
                      {{"type", "file"}, {"options", {{"file_path", log}, {"log_raw", "true"}}}});
  ASSERT_EQ(enabled.http_status, 204) << Body(enabled);
  auto init =
      Call(Operation::kUpdate, "sys/rekey/init",
           {{"secret_shares", 2}, {"secret_threshold", 2}, {"require_verification", true}}, "");
  std::string nonce = Body(init)["nonce"];
  auto done = Call(Operation::kUpdate, "sys/rekey/update",
                   {{"key", HexEncode(key_.view())}, {"nonce", nonce}}, "");
  ASSERT_EQ(done.http_status, 200) << Body(done);
  Json body = Body(done);
  std::string vnonce = body["verification_nonce"];
  for (const auto& k : body["keys_base64"]) {
    auto v = Call(Operation::kUpdate, "sys/rekey/verify", {{"key", k}, {"nonce", vnonce}}, "");
    ASSERT_EQ(v.http_status, 200) << Body(v);
  }
  EXPECT_EQ(Call(Operation::kRead, "sys/mounts").http_status, 200);  // audited
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  const std::string audit = text.str();
  EXPECT_NE(audit.find("sys/mounts"), std::string::npos);
  EXPECT_EQ(audit.find("sys/rekey"), std::string::npos);
  EXPECT_EQ(audit.find(HexEncode(key_.view())), std::string::npos);
  for (const auto& k : body["keys"]) EXPECT_EQ(audit.find(k.get<std::string>()), std::string::npos);
  for (const auto& k : body["keys_base64"]) {
    EXPECT_EQ(audit.find(k.get<std::string>()), std::string::npos);
  }
  // Disabled first: a device still open writes its closing checkpoint at
  // teardown, which would create the file again.
  EXPECT_EQ(Call(Operation::kDelete, "sys/audit/raw").http_status, 204);
  std::filesystem::remove(log);
}

}  // namespace
}  // namespace coffer::core
