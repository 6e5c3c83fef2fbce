// Fuzz target: the barrier's decrypt path on hostile storage contents
// (barrier/ciphertext.h, barrier/aes_gcm_barrier.h, barrier/keyring.h).
// Modes, by the first byte:
//   0: raw bytes as a stored value, read through an unsealed barrier;
//   1: a valid stored value with fuzzed bytes XORed in, appended or cut;
//   2: raw bytes as the decrypted keyring record (Keyring::Parse);
//   3: raw bytes as a ciphertext for DecryptValue with a fixed key.
// Invariants: no crash; a value that is not byte-for-byte what the barrier
// wrote never decrypts (GCM tag, term and the storage key as AAD).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "barrier/aes_gcm_barrier.h"
#include "barrier/ciphertext.h"
#include "barrier/keyring.h"
#include "common/secret_bytes.h"
#include "fuzz_util.h"
#include "storage/inmem/inmem_backend.h"

namespace {

using coffer::SecretBytes;
using namespace coffer::barrier;

constexpr char kKey[] = "logical/fuzz/value";
constexpr char kPlain[] = "{\"password\":\"hunter2\"}";

struct World {
  coffer::storage::InmemBackend physical;
  AesGcmBarrier barrier{physical};
  std::string good;  // what the barrier stored for kKey
};

SecretBytes RootKey() { return SecretBytes(AesGcmBarrier::kRootKeySize); }

World& Get() {
  static World* w = [] {
    auto* world = new World;
    FUZZ_CHECK(world->barrier.Initialize(RootKey()).ok());
    FUZZ_CHECK(world->barrier.Unseal(RootKey()).ok());
    FUZZ_CHECK(world->barrier.Put(kKey, kPlain).ok());
    auto raw = world->physical.Get(kKey);
    FUZZ_CHECK(raw.has_value() && raw->has_value());
    world->good = (*raw)->value;
    return world;
  }();
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = Get();
  FuzzedDataProvider in(data, size);
  const int mode = in.ConsumeIntegralInRange(0, 3);
  if (mode == 0 || mode == 1) {
    std::string stored;
    if (mode == 0) {
      stored = in.ConsumeRemainingBytesAsString();
    } else {
      stored = w.good;
      const std::size_t cut = in.ConsumeIntegralInRange<std::size_t>(0, stored.size());
      if (in.ConsumeBool()) stored.resize(cut);
      while (in.remaining_bytes() >= 2) {
        const std::size_t at = in.ConsumeIntegral<std::uint16_t>() % (stored.size() + 1);
        const char x = in.ConsumeIntegral<char>();
        if (at == stored.size()) {
          stored.push_back(x);
        } else {
          stored[at] = static_cast<char>(stored[at] ^ x);
        }
      }
    }
    FUZZ_CHECK(w.physical.Put(kKey, stored).ok());
    auto read = w.barrier.Get(kKey);
    if (stored == w.good) {
      FUZZ_CHECK(read.has_value() && read->has_value() && (*read)->value == kPlain);
    } else {
      FUZZ_CHECK(!read.has_value());
    }
    // The same bytes under another storage key never decrypt (AAD).
    FUZZ_CHECK(w.physical.Put("logical/fuzz/other", stored).ok());
    FUZZ_CHECK(!w.barrier.Get("logical/fuzz/other").has_value());
  } else if (mode == 2) {
    const std::string bytes = in.ConsumeRemainingBytesAsString();
    auto kr = Keyring::Parse({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()},
                             RootKey());
    if (kr) {
      FUZZ_CHECK((*kr)->Find((*kr)->active_term) != nullptr);
      SecretBytes again = (*kr)->Serialize();
      FUZZ_CHECK(again.view() == bytes);
    }
  } else {
    const std::string aad = in.ConsumeRandomLengthString(32);
    const std::string ct = in.ConsumeRemainingBytesAsString();
    (void)CiphertextTerm(ct);
    SecretBytes key(32);
    FUZZ_CHECK(!DecryptValue(key, ct, aad).has_value());
  }
  return 0;
}
