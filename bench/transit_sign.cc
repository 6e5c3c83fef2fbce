// Signs per second through the transit engine's signing code (key version
// loaded as the engine holds it, input digested, signature marshalled), one
// thread, for comparison with `openssl speed ed25519 ecdsap256` in the same
// run (bench/run --only transit).
//
// Usage: transit_sign SECONDS
// Prints: TRANSIT_SIGN type=<ed25519|ecdsa-p256> signs_per_s=<n>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engines/transit/policy.h"
#include "engines/transit/signer.h"

using coffer::engines::transit::GenerateVersion;
using coffer::engines::transit::KeyType;
using coffer::engines::transit::Policy;
using coffer::engines::transit::SignInput;
using coffer::engines::transit::SignOptions;

namespace {

int Run(KeyType type, const char* name, double seconds) {
  Policy policy;
  policy.name = "bench";
  policy.type = type;
  auto version = GenerateVersion(type, 1, 0, 32);
  if (!version) {
    std::fprintf(stderr, "keygen failed: %s\n", version.error().ToString().c_str());
    return 1;
  }
  policy.latest_version = 1;
  policy.versions[1] = *version;
  const std::string input(32, 'x');
  SignOptions options;
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  long long n = 0;
  while (true) {
    for (int i = 0; i < 64; ++i) {
      auto sig = SignInput(policy, **version, input, options);
      if (!sig) {
        std::fprintf(stderr, "sign failed: %s\n", sig.error().ToString().c_str());
        return 1;
      }
    }
    n += 64;
    if (std::chrono::steady_clock::now() >= deadline) break;
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("TRANSIT_SIGN type=%s signs_per_s=%.1f\n", name, static_cast<double>(n) / elapsed);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  if (seconds <= 0) seconds = 3.0;
  if (Run(KeyType::kEd25519, "ed25519", seconds) != 0) return 1;
  return Run(KeyType::kEcdsaP256, "ecdsa-p256", seconds);
}
