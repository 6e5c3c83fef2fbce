#pragma once
// SecretBytes holds key material, unseal shares and tokens.
//
// - Move-only; the buffer is wiped with OPENSSL_cleanse when it is released.
// - Allocated from OpenSSL's secure heap when InitSecureMemory() succeeded:
//   that arena is mlock()ed and marked MADV_DONTDUMP, so it is neither swapped
//   nor written to a core dump. Without it, memory comes from the normal heap
//   and is still wiped.
// - Printing it (operator<<, fmt) shows "<redacted>", never the bytes.
// Not thread-safe; like std::string, one owner at a time.

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

namespace coffer {

// Sets up the locked arena for SecretBytes (call once at start, before
// threads). SecretBytes use at most half of it (beyond that they come from
// the normal heap, still wiped): the rest stays for OpenSSL's own secure
// allocations (DRBG seeding, private keys). Returns false when mlock is not
// permitted; callers decide whether that is fatal (it is unless
// disable_mlock is set).
bool InitSecureMemory(std::size_t arena_bytes = 1 << 20);

// Turns off core dumps for this process (PR_SET_DUMPABLE 0, RLIMIT_CORE 0).
void DisableCoreDumps();

// Zeroed memory for key material other than SecretBytes (an object holding
// keyed hash states, say): from the secure arena while there is room in
// the secrets' half of it, else from the heap; never null (terminates).
// FreeSecret wipes and frees either; `size` as allocated.
void* AllocateSecret(std::size_t size);
void FreeSecret(void* p, std::size_t size);

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size);  // zero-filled
  SecretBytes(const std::uint8_t* data, std::size_t size);
  static SecretBytes FromString(std::string_view s) {
    return SecretBytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  }
  ~SecretBytes();

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  // An explicit, visible copy.
  SecretBytes Clone() const { return SecretBytes(data_, size_); }

  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const std::uint8_t> span() const { return {data_, size_}; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }

  // Constant-time comparison (CRYPTO_memcmp); lengths are not secret.
  bool Equals(const SecretBytes& other) const;
  bool Equals(std::string_view other) const;

  // Wipes and frees now.
  void Clear();

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

std::ostream& operator<<(std::ostream& os, const SecretBytes&);

// Constant-time equality of two byte strings (length is not secret).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Wipes a std::string's buffer before it goes away, for plaintext that had
// to pass through a string (JSON bodies, for instance).
void WipeString(std::string& s);

}  // namespace coffer
