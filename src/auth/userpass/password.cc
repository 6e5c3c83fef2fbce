#include "auth/userpass/password.h"

#include <sodium.h>

#include "crypto/hmac.h"
#include "crypto/random.h"

namespace coffer::auth::userpass {
namespace {

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

// The dummy hash is a real hash of a random password, made once per
// process with the same parameters as every new hash.
const std::string& DummyHash() {
  static const std::string hash = [] {
    auto random = crypto::RandomString(24);
    std::string password = random ? crypto::ToHex(*random) : std::string("unguessable-dummy");
    auto h = HashPassword(password);
    WipeString(password);
    return h ? *h : std::string();
  }();
  return hash;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  if (!SodiumReady()) return Err(Internal("libsodium failed to initialise"));
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kOpsLimit, kMemLimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Err(Internal("password hashing failed (out of memory)"));
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  if (!SodiumReady() || hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  // crypto_pwhash_str_verify wants a NUL-terminated string.
  char stored[crypto_pwhash_STRBYTES] = {};
  hash.copy(stored, hash.size());
  return crypto_pwhash_str_verify(stored, password.data(), password.size()) == 0;
}

bool VerifyAgainstDummy(std::string_view password) {
  (void)VerifyPassword(DummyHash(), password);
  return false;
}

void PrepareDummyHash() { (void)DummyHash(); }

bool NeedsRehash(std::string_view hash) {
  if (!SodiumReady() || hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return true;
  char stored[crypto_pwhash_STRBYTES] = {};
  hash.copy(stored, hash.size());
  return crypto_pwhash_str_needs_rehash(stored, kOpsLimit, kMemLimit) != 0;
}

}  // namespace coffer::auth::userpass
