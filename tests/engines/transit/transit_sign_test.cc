#include <gtest/gtest.h>

#include "transit_test_util.h"

namespace coffer::engines::transit::testing {
namespace {

class TransitSignTest : public TransitTest {
 protected:
  bool Valid(const std::string& key, Json body, const std::string& path_suffix = "") {
    Json out = Ok("verify/" + key + path_suffix, std::move(body));
    return out.value("valid", false);
  }
};

TEST_F(TransitSignTest, HmacAndVerify) {
  CreateKey("k");
  Json h = Ok("hmac/k", Json{{"input", B64("data")}});
  std::string mac = h["hmac"];
  EXPECT_TRUE(mac.starts_with("vault:v1:"));
  EXPECT_EQ(UnB64(mac.substr(9)).size(), 32u);
  EXPECT_TRUE(Valid("k", Json{{"input", B64("data")}, {"hmac", mac}}));
  EXPECT_FALSE(Valid("k", Json{{"input", B64("datA")}, {"hmac", mac}}));
  // sha2-512 via the path; verify needs the same algorithm.
  std::string mac512 = Ok("hmac/k/sha2-512", Json{{"input", B64("data")}})["hmac"];
  EXPECT_EQ(UnB64(mac512.substr(9)).size(), 64u);
  EXPECT_TRUE(Valid("k", Json{{"input", B64("data")}, {"hmac", mac512}}, "/sha2-512"));
  EXPECT_FALSE(Valid("k", Json{{"input", B64("data")}, {"hmac", mac512}}));
  EXPECT_NE(Bad("hmac/k/md5", Json{{"input", B64("data")}}), "");
  EXPECT_NE(Bad("verify/k", Json{{"input", B64("data")}}), "");  // neither hmac nor signature
  EXPECT_NE(Bad("verify/k", Json{{"input", B64("data")}, {"hmac", "vault:v9:AAAA"}}), "");
  // Batch.
  Json batch = Ok(
      "hmac/k",
      Json{{"batch_input", Json::array({Json{{"input", B64("a")}}, Json{{"input", B64("b")}}})}});
  ASSERT_EQ(batch["batch_results"].size(), 2u);
  Json vb = Ok(
      "verify/k",
      Json{
          {"batch_input",
           Json::array({Json{{"input", B64("a")}, {"hmac", batch["batch_results"][0]["hmac"]}},
                        Json{{"input", B64("a")}, {"hmac", batch["batch_results"][1]["hmac"]}}})}});
  EXPECT_EQ(vb["batch_results"][0]["valid"], true);
  EXPECT_EQ(vb["batch_results"][1]["valid"], false);
  // An item that cannot be verified at all (a malformed signature, a key
  // version that does not exist) says valid: false beside its error, as
  // Vault's does; clients read the field into a boolean.
  Json failed =
      Ok("verify/k",
         Json{{"batch_input", Json::array({Json{{"input", B64("a")}, {"signature", "nope"}},
                                           Json{{"input", B64("a")}, {"hmac", "vault:v9:AAAA"}},
                                           Json{{"input", B64("a")}}})}});
  ASSERT_EQ(failed["batch_results"].size(), 3u);
  for (const Json& item : failed["batch_results"]) {
    EXPECT_EQ(item["valid"], false) << item.dump();
    EXPECT_NE(item.value("error", ""), "") << item.dump();
  }
}

TEST_F(TransitSignTest, HmacKeyType) {
  CreateKey("h", Json{{"type", "hmac"}, {"key_size", 64}, {"exportable", true}});
  EXPECT_NE(Bad("encrypt/h", Json{{"plaintext", B64("x")}}), "");
  std::string mac = Ok("hmac/h", Json{{"input", B64("m")}})["hmac"];
  EXPECT_TRUE(Valid("h", Json{{"input", B64("m")}, {"hmac", mac}}));
  EXPECT_EQ(UnB64(Read("export/hmac-key/h/1")["keys"]["1"].get<std::string>()).size(), 64u);
}

TEST_F(TransitSignTest, SignAndVerifyEveryAsymmetricType) {
  for (const char* type : {"ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048"}) {
    SCOPED_TRACE(type);
    std::string name = std::string("s-") + type;
    CreateKey(name, Json{{"type", type}});
    Json s = Ok("sign/" + name, Json{{"input", B64("message")}});
    std::string sig = s["signature"];
    EXPECT_TRUE(sig.starts_with("vault:v1:"));
    EXPECT_EQ(s["key_version"], 1);
    EXPECT_TRUE(Valid(name, Json{{"input", B64("message")}, {"signature", sig}}));
    EXPECT_FALSE(Valid(name, Json{{"input", B64("massage")}, {"signature", sig}}));
    // After a rotation old signatures still verify, new ones use v2.
    Ok("keys/" + name + "/rotate");
    EXPECT_TRUE(Valid(name, Json{{"input", B64("message")}, {"signature", sig}}));
    std::string sig2 = Ok("sign/" + name, Json{{"input", B64("message")}})["signature"];
    EXPECT_TRUE(sig2.starts_with("vault:v2:"));
    // A garbage signature is "not valid", not an error.
    EXPECT_FALSE(Valid(name, Json{{"input", B64("message")}, {"signature", "vault:v1:AAAA"}}));
  }
}

TEST_F(TransitSignTest, EcdsaOptions) {
  CreateKey("ec", Json{{"type", "ecdsa-p256"}});
  Json jws = Ok("sign/ec/sha2-384", Json{{"input", B64("m")}, {"marshaling_algorithm", "jws"}});
  std::string sig = jws["signature"];
  // r||s, 64 bytes, base64url without padding: 86 characters.
  EXPECT_EQ(sig.size(), std::string("vault:v1:").size() + 86) << sig;
  EXPECT_TRUE(Valid("ec", Json{{"input", B64("m")},
                               {"signature", sig},
                               {"marshaling_algorithm", "jws"},
                               {"hash_algorithm", "sha2-384"}}));
  EXPECT_FALSE(
      Valid("ec", Json{{"input", B64("m")}, {"signature", sig}, {"marshaling_algorithm", "jws"}}));
  // P-521: r and s of 66 bytes each, 132 bytes, 176 base64url characters.
  CreateKey("ec521", Json{{"type", "ecdsa-p521"}});
  std::string sig521 = Ok("sign/ec521/sha2-512",
                          Json{{"input", B64("m")}, {"marshaling_algorithm", "jws"}})["signature"];
  EXPECT_EQ(sig521.size(), std::string("vault:v1:").size() + 176) << sig521;
  EXPECT_TRUE(Valid("ec521", Json{{"input", B64("m")},
                                  {"signature", sig521},
                                  {"marshaling_algorithm", "jws"},
                                  {"hash_algorithm", "sha2-512"}}));
  EXPECT_EQ(Read("keys/ec521")["keys"]["1"]["name"], "P-521");
  // Prehashed: the input is the digest.
  std::string digest(32, '\x11');
  std::string pre = Ok("sign/ec", Json{{"input", B64(digest)}, {"prehashed", true}})["signature"];
  EXPECT_TRUE(Valid("ec", Json{{"input", B64(digest)}, {"signature", pre}, {"prehashed", true}}));
  EXPECT_NE(Bad("sign/ec", Json{{"input", B64("m")}, {"hash_algorithm", "md5"}}), "");
  EXPECT_NE(Bad("sign/ec", Json{{"input", B64("m")}, {"marshaling_algorithm", "der"}}), "");
}

TEST_F(TransitSignTest, RsaPaddings) {
  CreateKey("r", Json{{"type", "rsa-2048"}});
  for (const char* alg : {"pss", "pkcs1v15"}) {
    SCOPED_TRACE(alg);
    std::string sig =
        Ok("sign/r/sha2-512", Json{{"input", B64("m")}, {"signature_algorithm", alg}})["signature"];
    EXPECT_TRUE(Valid("r",
                      Json{{"input", B64("m")}, {"signature", sig}, {"signature_algorithm", alg}},
                      "/sha2-512"));
  }
  EXPECT_NE(Bad("sign/r", Json{{"input", B64("m")}, {"signature_algorithm", "raw"}}), "");
}

TEST_F(TransitSignTest, Ed25519RulesAndDerivation) {
  CreateKey("ed", Json{{"type", "ed25519"}});
  EXPECT_NE(Bad("sign/ed", Json{{"input", B64("m")}, {"prehashed", true}}), "");
  EXPECT_NE(Bad("sign/k-missing", Json{{"input", B64("m")}}), "");
  CreateKey("k", Json::object());
  EXPECT_NE(Bad("sign/k", Json{{"input", B64("m")}}).find("does not support signing"),
            std::string::npos);
  CreateKey("edd", Json{{"type", "ed25519"}, {"derived", true}});
  Json c1{{"input", B64("m")}, {"context", B64("a")}};
  std::string sig = Ok("sign/edd", c1)["signature"];
  Json v = c1;
  v["signature"] = sig;
  EXPECT_TRUE(Valid("edd", v));
  v["context"] = B64("b");
  EXPECT_FALSE(Valid("edd", v));
  EXPECT_NE(Bad("sign/edd", Json{{"input", B64("m")}}).find("context"), std::string::npos);
}

TEST_F(TransitSignTest, BatchSign) {
  CreateKey("ed", Json{{"type", "ed25519"}});
  Json out =
      Ok("sign/ed",
         Json{{"batch_input", Json::array({Json{{"input", B64("a")}}, Json{{"input", "***"}}})}});
  ASSERT_EQ(out["batch_results"].size(), 2u);
  EXPECT_TRUE(out["batch_results"][0].contains("signature"));
  EXPECT_TRUE(out["batch_results"][1].contains("error"));
  // Unlike encrypt and decrypt, a sign batch answers 200 even when every
  // item failed, as Vault does: the errors are in the items.
  auto all_bad = Do(Operation::kUpdate, "sign/ed",
                    Json{{"batch_input", Json::array({Json{{"input", "***"}}})}});
  ASSERT_TRUE(all_bad.has_value());
  EXPECT_EQ(all_bad->http_status, 200);
  EXPECT_TRUE(all_bad->data["batch_results"][0].contains("error"));
}

}  // namespace
}  // namespace coffer::engines::transit::testing
