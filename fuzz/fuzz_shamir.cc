// Fuzz target: Shamir combine (crypto/shamir.h) on arbitrary shares, and
// split-then-combine of an arbitrary secret. Invariants: Combine never
// crashes and returns an error or a secret one byte shorter than the shares;
// any `threshold` shares of a Split recover the secret.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/secret_bytes.h"
#include "crypto/shamir.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using coffer::SecretBytes;
  namespace shamir = coffer::crypto::shamir;
  FuzzedDataProvider in(data, size);
  const bool split_mode = in.ConsumeBool();
  if (!split_mode) {
    const int count = in.ConsumeIntegralInRange(0, 8);
    std::vector<SecretBytes> parts;
    for (int i = 0; i < count; ++i) {
      // Mostly equal lengths, sometimes not.
      const std::string s = in.ConsumeRandomLengthString(40);
      parts.push_back(SecretBytes::FromString(s));
    }
    auto secret = shamir::Combine(parts);
    if (secret) FUZZ_CHECK(!parts.empty() && secret->size() + 1 == parts[0].size());
    return 0;
  }
  const int parts = in.ConsumeIntegralInRange(1, 10);
  const int threshold = in.ConsumeIntegralInRange(1, 11);
  const std::string raw = in.ConsumeRandomLengthString(64);
  SecretBytes secret = SecretBytes::FromString(raw);
  auto shares = shamir::Split(secret, parts, threshold);
  if (!shares) return 0;
  FUZZ_CHECK(!raw.empty() && threshold >= 2 && threshold <= parts);
  FUZZ_CHECK(static_cast<int>(shares->size()) == parts);
  // The last `threshold` shares, in reverse order.
  std::vector<SecretBytes> subset;
  for (int i = parts - 1; i >= parts - threshold; --i) subset.push_back((*shares)[i].Clone());
  auto back = shamir::Combine(subset);
  FUZZ_CHECK(back.has_value() && back->Equals(secret));
  return 0;
}
