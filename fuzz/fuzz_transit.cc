// Fuzz target: transit ciphertexts and key records (engines/transit).
// Modes, by the first byte:
//   0: "vault:vN:<base64>" ciphertexts decrypted as the decrypt endpoint
//      does (ParseEnvelope, SelectDecryptVersion, Base64Decode,
//      DecryptPayload) under fixed AES-256-GCM, derived ChaCha20-Poly1305
//      and convergent AES-128-GCM keys, with fuzzed context and AAD;
//   1: a key record as restore/ and the key store read it (DecodePolicy),
//      then a decrypt under each of its versions.
// Invariants: no crash; a forged ciphertext never authenticates; what
// EncryptPayload makes decrypts to the same plaintext.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "engines/transit/cipher.h"
#include "engines/transit/key_types.h"
#include "engines/transit/policy.h"
#include "fuzz_util.h"

namespace {

using namespace coffer::engines::transit;

Policy MakePolicy(KeyType type, bool derived, bool convergent) {
  Policy p;
  p.name = "fuzz";
  p.type = type;
  p.derived = derived;
  p.convergent = convergent;
  for (std::uint32_t v = 1; v <= 2; ++v) {
    auto version = GenerateVersion(type, v, 0, 32);
    FUZZ_CHECK(version.has_value());
    p.versions[v] = *version;
  }
  p.latest_version = 2;
  return p;
}

const std::vector<Policy>& Policies() {
  static const auto* policies = new std::vector<Policy>{
      MakePolicy(KeyType::kAes256Gcm96, false, false),
      MakePolicy(KeyType::kChaCha20Poly1305, true, false),
      MakePolicy(KeyType::kAes128Gcm96, true, true),
  };
  return *policies;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool()) {
    const std::string payload = in.ConsumeRandomLengthString(128);
    const std::string context = in.ConsumeRandomLengthString(16);
    auto policy = DecodePolicy(in.ConsumeRemainingBytesAsString());
    if (!policy) return 0;
    for (const auto& [n, version] : policy->versions) {
      (void)DecryptPayload(*policy, *version, payload, context, "");
    }
    (void)PolicyReadJson(*policy);
    return 0;
  }
  const Policy& policy = Policies()[in.ConsumeIntegralInRange<std::size_t>(0, 2)];
  const std::string context = in.ConsumeRandomLengthString(16);
  const std::string aad = in.ConsumeRandomLengthString(16);
  const std::string text = in.ConsumeRemainingBytesAsString();

  // Round trip with the fuzzed bytes as plaintext.
  auto version = SelectEncryptVersion(policy, 0);
  FUZZ_CHECK(version.has_value());
  auto sealed = EncryptPayload(policy, **version, text, context, aad);
  if (sealed) {
    auto opened = DecryptPayload(policy, **version, *sealed, context, aad);
    FUZZ_CHECK(opened.has_value() && opened->view() == text);
  } else {
    FUZZ_CHECK(policy.derived && context.empty());
  }

  // The fuzzed bytes as a ciphertext envelope.
  auto env = ParseEnvelope(text, "ciphertext");
  if (!env) return 0;
  auto v = SelectDecryptVersion(policy, env->version);
  if (!v) return 0;
  auto payload = coffer::Base64Decode(env->payload);
  if (!payload) return 0;
  auto plain = DecryptPayload(policy, **v, payload->view(), context, aad);
  FUZZ_CHECK(!plain.has_value());  // nobody can forge a tag
  return 0;
}
