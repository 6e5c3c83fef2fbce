#include <gtest/gtest.h>

#include "common/encoding.h"
#include "engines/transit/cipher.h"
#include "transit_test_util.h"

namespace coffer::engines::transit::testing {
namespace {

class TransitCryptTest : public TransitTest {};

TEST_F(TransitCryptTest, RoundTripEveryAeadType) {
  for (const char* type : {"aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"}) {
    SCOPED_TRACE(type);
    std::string name = std::string("k-") + type;
    CreateKey(name, Json{{"type", type}});
    std::string ct = Encrypt(name, "the quick brown fox");
    EXPECT_TRUE(ct.starts_with("vault:v1:")) << ct;
    EXPECT_EQ(Decrypt(name, ct), "the quick brown fox");
    // Random nonces: the same plaintext encrypts differently.
    EXPECT_NE(Encrypt(name, "the quick brown fox"), ct);
    // Empty plaintext works too.
    EXPECT_EQ(Decrypt(name, Encrypt(name, "")), "");
  }
}

TEST_F(TransitCryptTest, CiphertextLayoutIsNonceCiphertextTag) {
  CreateKey("k", Json{{"exportable", true}});
  std::string ct = Encrypt("k", "hello");
  auto payload = UnB64(ct.substr(std::string("vault:v1:").size()));
  EXPECT_EQ(payload.size(), 12 + 5 + 16);
  // Decrypting the payload with the exported key and the raw AEAD proves the
  // layout (Python's cryptography does the same in the integration test).
  Json exported = Read("export/encryption-key/k/1");
  auto key = Base64Decode(exported["keys"]["1"].get<std::string>());
  ASSERT_TRUE(key.has_value());
  auto pt = AeadOpen(KeyType::kAes256Gcm96, *key, payload, "");
  ASSERT_TRUE(pt.has_value());
  EXPECT_EQ(pt->view(), "hello");
}

TEST_F(TransitCryptTest, EncryptCreatesKeyOnCreateOnly) {
  // An update on a missing key fails; a create (ACL granted "create") makes it.
  EXPECT_EQ(Bad("encrypt/new", Json{{"plaintext", B64("x")}}), "encryption key not found");
  auto r = Do(Operation::kCreate, "encrypt/new", Json{{"plaintext", B64("x")}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(Read("keys/new")["type"], "aes256-gcm96");
  // With a context the upserted key is derived.
  r = Do(Operation::kCreate, "encrypt/derived",
         Json{{"plaintext", B64("x")}, {"context", B64("ctx")}});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(Read("keys/derived")["derived"], true);
  // A null or empty context is none (VaultSharp sends "context": null): the
  // key is not derived, and the request succeeds.
  for (const Json& none : {Json(nullptr), Json("")}) {
    const std::string name = none.is_null() ? "nullctx" : "emptyctx";
    r = Do(Operation::kCreate, "encrypt/" + name, Json{{"plaintext", B64("x")}, {"context", none}});
    ASSERT_TRUE(r.has_value()) << name << ": " << r.error().ToString();
    EXPECT_EQ(Read("keys/" + name)["derived"], false) << name;
  }
  // A signing-only type is refused before anything is made.
  EXPECT_FALSE(
      Do(Operation::kCreate, "encrypt/ed", Json{{"plaintext", B64("x")}, {"type", "ed25519"}})
          .has_value());
  EXPECT_EQ(Do(Operation::kRead, "keys/ed")->http_status, 404);
}

// config/keys disable_upsert: encrypt no longer creates a missing key, as
// Vault's setting (vault-client-go's TransitConfigureKeys).
TEST_F(TransitCryptTest, DisableUpsertStopsCreateOnFirstUse) {
  EXPECT_EQ(Read("config/keys")["disable_upsert"], false);
  EXPECT_EQ(Ok("config/keys", Json{{"disable_upsert", true}})["disable_upsert"], true);
  EXPECT_EQ(Read("config/keys")["disable_upsert"], true);
  auto r = Do(Operation::kCreate, "encrypt/none", Json{{"plaintext", B64("x")}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "encryption key not found");
  EXPECT_EQ(Do(Operation::kRead, "keys/none")->http_status, 404);
  // An existing key still encrypts; a write without the field turns it off.
  CreateKey("k");
  EXPECT_TRUE(Encrypt("k", "x").starts_with("vault:v1:"));
  EXPECT_EQ(Ok("config/keys", Json::object())["disable_upsert"], false);
  EXPECT_TRUE(Do(Operation::kCreate, "encrypt/none", Json{{"plaintext", B64("x")}}).has_value());
}

TEST_F(TransitCryptTest, ExistenceCheckForEncrypt) {
  logical::Request r;
  r.operation = Operation::kUpdate;
  r.relative_path = "encrypt/k";
  EXPECT_FALSE(*engine_->ExistenceCheck(r));
  CreateKey("k");
  EXPECT_TRUE(*engine_->ExistenceCheck(r));
}

TEST_F(TransitCryptTest, RotateKeyVersionsAndRewrap) {
  CreateKey("k");
  std::string v1 = Encrypt("k", "secret");
  Json rotated = Ok("keys/k/rotate");
  EXPECT_EQ(rotated["latest_version"], 2);
  std::string v2 = Encrypt("k", "secret");
  EXPECT_TRUE(v2.starts_with("vault:v2:"));
  EXPECT_EQ(Decrypt("k", v1), "secret");
  // Encrypt with an explicit older version.
  EXPECT_TRUE(Encrypt("k", "s", Json{{"key_version", 1}}).starts_with("vault:v1:"));
  EXPECT_NE(Bad("encrypt/k", Json{{"plaintext", B64("s")}, {"key_version", 3}}), "");
  // Rewrap moves a v1 ciphertext to v2 without revealing the plaintext.
  Json rewrapped = Ok("rewrap/k", Json{{"ciphertext", v1}});
  EXPECT_TRUE(rewrapped["ciphertext"].get<std::string>().starts_with("vault:v2:"));
  EXPECT_EQ(rewrapped["key_version"], 2);
  EXPECT_FALSE(rewrapped.contains("plaintext"));
  EXPECT_EQ(Decrypt("k", rewrapped["ciphertext"]), "secret");
}

TEST_F(TransitCryptTest, MinDecryptionAndEncryptionVersions) {
  CreateKey("k");
  std::string v1 = Encrypt("k", "old");
  Ok("keys/k/rotate");
  Ok("keys/k/rotate");
  Json cfg = Ok("keys/k/config", Json{{"min_decryption_version", 2}});
  EXPECT_EQ(cfg["min_decryption_version"], 2);
  EXPECT_EQ(cfg["keys"].size(), 2u);  // v2 and v3 are shown
  EXPECT_EQ(Bad("decrypt/k", Json{{"ciphertext", v1}}),
            "ciphertext or signature version is disallowed by policy (too old)");
  Ok("keys/k/config", Json{{"min_encryption_version", 3}});
  EXPECT_NE(Bad("encrypt/k", Json{{"plaintext", B64("x")}, {"key_version", 2}}), "");
  EXPECT_TRUE(Encrypt("k", "x").starts_with("vault:v3:"));
  // Out of range settings.
  EXPECT_NE(Bad("keys/k/config", Json{{"min_decryption_version", 9}}), "");
  EXPECT_NE(Bad("keys/k/config", Json{{"min_encryption_version", 1}}), "");  // below min_dec
  // Lowering min_decryption_version again brings v1 back (not trimmed).
  Ok("keys/k/config", Json{{"min_decryption_version", 1}, {"min_encryption_version", 0}});
  EXPECT_EQ(Decrypt("k", v1), "old");
}

TEST_F(TransitCryptTest, BatchEncryptDecryptWithPartialFailure) {
  CreateKey("k");
  Json batch = Json::array();
  for (int i = 0; i < 5; ++i) {
    batch.push_back(Json{{"plaintext", B64("item" + std::to_string(i))}, {"reference", i}});
  }
  Json enc = Ok("encrypt/k", Json{{"batch_input", batch}});
  ASSERT_EQ(enc["batch_results"].size(), 5u);
  Json dec_in = Json::array();
  for (const auto& item : enc["batch_results"]) {
    EXPECT_TRUE(item["ciphertext"].get<std::string>().starts_with("vault:v1:"));
    dec_in.push_back(Json{{"ciphertext", item["ciphertext"]}, {"reference", item["reference"]}});
  }
  dec_in.push_back(Json{{"ciphertext", "vault:v1:!!!"}});  // one bad item
  auto r = Do(Operation::kUpdate, "decrypt/k", Json{{"batch_input", dec_in}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->http_status, 400);  // partial failure: 400 with every result, as Vault
  const Json results = r->data["batch_results"];
  ASSERT_EQ(results.size(), 6u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(UnB64(results[i]["plaintext"].get<std::string>()), "item" + std::to_string(i));
    EXPECT_EQ(results[i]["reference"], i);
  }
  EXPECT_TRUE(results[5].contains("error"));
  // partial_failure_response_code replaces the 400 when some succeeded.
  r = Do(Operation::kUpdate, "decrypt/k",
         Json{{"batch_input", dec_in}, {"partial_failure_response_code", 207}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->http_status, 207);
  r = Do(Operation::kUpdate, "decrypt/k",
         Json{{"batch_input", dec_in}, {"partial_failure_response_code", "900"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->http_status, 400);
  EXPECT_TRUE(r->warnings.is_array() && !r->warnings.empty());
  // Without failures the code is not used.
  dec_in.erase(dec_in.end() - 1);
  r = Do(Operation::kUpdate, "decrypt/k",
         Json{{"batch_input", dec_in}, {"partial_failure_response_code", 207}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->http_status, 200);
  // Every item failing answers 400 with the per-item errors.
  r = Do(Operation::kUpdate, "decrypt/k",
         Json{{"batch_input", Json::array({Json{{"ciphertext", "nope"}}})}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->http_status, 400);
  EXPECT_TRUE(r->data["batch_results"][0].contains("error"));
  EXPECT_NE(Bad("encrypt/k", Json{{"batch_input", Json::array()}}), "");
  EXPECT_NE(Bad("encrypt/k", Json{{"batch_input", "x"}}), "");
}

TEST_F(TransitCryptTest, BadCiphertextsAre400WithoutPlaintext) {
  const std::string canary = "CANARY-PLAINTEXT-7731";
  CreateKey("k");
  CreateKey("other");
  std::string ct = Encrypt("k", canary);
  std::string payload = ct.substr(9);
  std::string raw = UnB64(payload);
  auto expect_bad = [&](const std::string& text, const std::string& needle) {
    std::string msg = Bad("decrypt/k", Json{{"ciphertext", text}});
    EXPECT_NE(msg.find(needle), std::string::npos) << text << " -> " << msg;
    EXPECT_EQ(msg.find(canary), std::string::npos);
    EXPECT_EQ(msg.find(payload), std::string::npos);
  };
  expect_bad("vault:v1:not*base64", "base64");
  expect_bad("vault:v99:" + payload, "v99 does not exist");
  expect_bad("vault:vx:" + payload, "version");
  expect_bad("notvault:" + payload, "vault:v");
  expect_bad("vault:v1:" + B64(raw.substr(0, 20)), "too short");                   // truncated
  expect_bad("vault:v1:" + B64(raw.substr(0, raw.size() - 1)), "authentication");  // tag cut
  std::string flipped = raw;
  flipped[14] ^= 1;
  expect_bad("vault:v1:" + B64(flipped), "authentication");
  // Ciphertext from another key.
  std::string foreign = Encrypt("other", canary);
  expect_bad(foreign, "authentication");
  EXPECT_NE(Bad("decrypt/k", Json::object()), "");
  EXPECT_NE(Bad("encrypt/k", Json{{"plaintext", "%%%"}}), "");
  EXPECT_NE(Bad("encrypt/k", Json::object()), "");
  EXPECT_EQ(Bad("decrypt/missing", Json{{"ciphertext", ct}}), "encryption key not found");
}

TEST_F(TransitCryptTest, NonceRejectedOnNonConvergentKey) {
  CreateKey("k");
  EXPECT_EQ(Bad("encrypt/k", Json{{"plaintext", B64("x")}, {"nonce", B64("123456789012")}}),
            "provided nonce not allowed for this key");
}

TEST_F(TransitCryptTest, DerivedKeysNeedTheRightContext) {
  CreateKey("d", Json{{"derived", true}});
  std::string ct = Encrypt("d", "hello", Json{{"context", B64("user-1")}});
  EXPECT_EQ(Decrypt("d", ct, Json{{"context", B64("user-1")}}), "hello");
  EXPECT_NE(
      Bad("decrypt/d", Json{{"ciphertext", ct}, {"context", B64("user-2")}}).find("authentication"),
      std::string::npos);
  EXPECT_NE(Bad("decrypt/d", Json{{"ciphertext", ct}}).find("context"), std::string::npos);
  EXPECT_NE(Bad("encrypt/d", Json{{"plaintext", B64("x")}}).find("context"), std::string::npos);
}

TEST_F(TransitCryptTest, ConvergentEncryptionIsDeterministicPerContext) {
  EXPECT_NE(Bad("keys/c", Json{{"convergent_encryption", true}}, Operation::kCreate), "");
  CreateKey("c", Json{{"derived", true}, {"convergent_encryption", true}});
  EXPECT_EQ(Read("keys/c")["convergent_encryption"], true);
  Json a{{"context", B64("ctx")}};
  std::string c1 = Encrypt("c", "same", a);
  EXPECT_EQ(Encrypt("c", "same", a), c1);
  EXPECT_NE(Encrypt("c", "other", a), c1);
  EXPECT_NE(Encrypt("c", "same", Json{{"context", B64("ctx2")}}), c1);
  EXPECT_EQ(Decrypt("c", c1, a), "same");
}

// A convergent key derives its nonce from what it encrypts. Associated
// data goes into the nonce too: the same nonce with two different AADs would
// give two GCM tags over the same ciphertext, from which the GHASH key, and
// with it forgeries under the whole derived key, can be solved for.
TEST(TransitConvergent, AssociatedDataChangesTheNonce) {
  Policy p;
  p.type = KeyType::kAes256Gcm96;
  p.derived = true;
  p.convergent = true;
  KeyVersion v;
  v.version = 1;
  v.key = SecretBytes::FromString(std::string(32, '\x07'));
  auto nonce_of = [&](std::string_view aad) {
    auto payload = EncryptPayload(p, v, "4111-1111-1111-1111", "tenant-a", aad);
    EXPECT_TRUE(payload.has_value());
    return payload ? HexEncode(payload->substr(0, kAeadNonceSize)) : std::string();
  };
  // Without associated data the nonce is what it always was, so ciphertexts
  // made before stay comparable with new ones.
  EXPECT_EQ(nonce_of(""), "04c5e5cc58de80bd0a39d3b3");
  const std::string a = nonce_of("row-1");
  EXPECT_EQ(nonce_of("row-1"), a);  // still deterministic
  EXPECT_NE(a, nonce_of(""));
  EXPECT_NE(a, nonce_of("row-2"));
  // Length-prefixed: moving bytes between AAD and plaintext changes the nonce.
  auto shifted = EncryptPayload(p, v, "14111-1111-1111-1111", "tenant-a", "row-");
  ASSERT_TRUE(shifted.has_value());
  EXPECT_NE(HexEncode(shifted->substr(0, kAeadNonceSize)), a);
  // Nor can a plaintext that spells out an AAD and a plaintext meet the
  // nonce of that pair: with AAD the nonce's MAC key is another one.
  std::string spelled(8, '\0');
  spelled[7] = 5;  // be64(len("row-1"))
  spelled += "row-1";
  spelled += "4111-1111-1111-1111";
  auto spelled_out = EncryptPayload(p, v, spelled, "tenant-a", "");
  ASSERT_TRUE(spelled_out.has_value());
  EXPECT_NE(HexEncode(spelled_out->substr(0, kAeadNonceSize)), a);
  // And each still decrypts only with its own associated data.
  auto ct = EncryptPayload(p, v, "4111-1111-1111-1111", "tenant-a", "row-1");
  ASSERT_TRUE(ct.has_value());
  auto pt = DecryptPayload(p, v, *ct, "tenant-a", "row-1");
  ASSERT_TRUE(pt.has_value());
  EXPECT_EQ(pt->view(), "4111-1111-1111-1111");
  EXPECT_FALSE(DecryptPayload(p, v, *ct, "tenant-a", "row-2").has_value());
}

TEST_F(TransitCryptTest, AssociatedDataIsAuthenticated) {
  CreateKey("k");
  Json ad{{"associated_data", B64("row-42")}};
  std::string ct = Encrypt("k", "v", ad);
  EXPECT_EQ(Decrypt("k", ct, ad), "v");
  EXPECT_NE(Bad("decrypt/k", Json{{"ciphertext", ct}}).find("authentication"), std::string::npos);
}

TEST_F(TransitCryptTest, DataKeys) {
  CreateKey("k");
  Json p = Ok("datakey/plaintext/k", Json{{"bits", 512}});
  EXPECT_EQ(UnB64(p["plaintext"].get<std::string>()).size(), 64u);
  EXPECT_EQ(Decrypt("k", p["ciphertext"]), UnB64(p["plaintext"].get<std::string>()));
  Json w = Ok("datakey/wrapped/k");
  EXPECT_FALSE(w.contains("plaintext"));
  EXPECT_EQ(Decrypt("k", w["ciphertext"]).size(), 32u);
  EXPECT_NE(Bad("datakey/plaintext/k", Json{{"bits", 100}}), "");
  EXPECT_NE(Bad("datakey/bogus/k"), "");
}

TEST_F(TransitCryptTest, RsaEncryption) {
  CreateKey("r", Json{{"type", "rsa-2048"}});
  std::string ct = Encrypt("r", "rsa secret");
  EXPECT_EQ(Decrypt("r", ct), "rsa secret");
  EXPECT_NE(Bad("encrypt/r", Json{{"plaintext", B64(std::string(300, 'x'))}}), "");
}

}  // namespace
}  // namespace coffer::engines::transit::testing
