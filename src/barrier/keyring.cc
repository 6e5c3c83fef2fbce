#include "barrier/keyring.h"

#include <algorithm>
#include <cstring>

namespace coffer::barrier {
namespace {

// Binary layout, all integers big-endian:
//   u8 format (=1) | u32 active_term | u64 encryptions |
//   u64 max_operations | i64 interval_seconds | u8 disabled |
//   u32 term_count | term_count x (u32 term | i64 install_unix_ns | 32 B key)
constexpr std::uint8_t kFormat = 1;
constexpr std::size_t kKeySize = 32;
constexpr std::size_t kFixedSize = 1 + 4 + 8 + 8 + 8 + 1 + 4;
constexpr std::size_t kTermRecordSize = 4 + 8 + kKeySize;

class Writer {
 public:
  explicit Writer(std::uint8_t* p) : p_(p) {}
  void U8(std::uint8_t v) { *p_++ = v; }
  void U32(std::uint32_t v) { Big(v, 4); }
  void U64(std::uint64_t v) { Big(v, 8); }
  void Bytes(const std::uint8_t* b, std::size_t n) {
    std::memcpy(p_, b, n);
    p_ += n;
  }

 private:
  void Big(std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) *p_++ = static_cast<std::uint8_t>(v >> (8 * i));
  }
  std::uint8_t* p_;
};

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> b) : b_(b) {}
  bool Has(std::size_t n) const { return b_.size() - pos_ >= n; }
  std::uint8_t U8() { return b_[pos_++]; }
  std::uint32_t U32() { return static_cast<std::uint32_t>(Big(4)); }
  std::uint64_t U64() { return Big(8); }
  const std::uint8_t* Take(std::size_t n) {
    const std::uint8_t* p = b_.data() + pos_;
    pos_ += n;
    return p;
  }
  bool AtEnd() const { return pos_ == b_.size(); }

 private:
  std::uint64_t Big(int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | b_[pos_++];
    return v;
  }
  std::span<const std::uint8_t> b_;
  std::size_t pos_ = 0;
};

Status Corrupt() { return Internal("keyring is corrupt"); }

}  // namespace

const KeyTerm* Keyring::Find(std::uint32_t term) const {
  auto it = std::lower_bound(terms.begin(), terms.end(), term,
                             [](const KeyTerm& t, std::uint32_t v) { return t.term < v; });
  if (it == terms.end() || it->term != term) return nullptr;
  return &*it;
}

const KeyTerm& Keyring::Active() const { return *Find(active_term); }

std::uint32_t Keyring::MaxTerm() const { return terms.empty() ? 0 : terms.back().term; }

std::unique_ptr<Keyring> Keyring::Clone() const {
  auto out = std::make_unique<Keyring>();
  out->terms.reserve(terms.size() + 1);
  for (const KeyTerm& t : terms) out->terms.push_back({t.term, t.key.Clone(), t.install_time});
  out->active_term = active_term;
  out->rotation = rotation;
  out->root_key = root_key.Clone();
  out->encryptions.store(encryptions.load());
  return out;
}

SecretBytes Keyring::Serialize() const {
  SecretBytes out(kFixedSize + terms.size() * kTermRecordSize);
  Writer w(out.data());
  w.U8(kFormat);
  w.U32(active_term);
  w.U64(encryptions.load());
  w.U64(rotation.max_operations);
  w.U64(static_cast<std::uint64_t>(rotation.interval.count()));
  w.U8(rotation.disabled ? 1 : 0);
  w.U32(static_cast<std::uint32_t>(terms.size()));
  for (const KeyTerm& t : terms) {
    w.U32(t.term);
    auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(t.install_time.time_since_epoch());
    w.U64(static_cast<std::uint64_t>(ns.count()));
    w.Bytes(t.key.data(), t.key.size());
  }
  return out;
}

Result<std::unique_ptr<Keyring>> Keyring::Parse(std::span<const std::uint8_t> bytes,
                                                SecretBytes root_key) {
  Reader r(bytes);
  if (!r.Has(kFixedSize)) return Err(Corrupt());
  if (r.U8() != kFormat) return Err(Internal("unsupported keyring format"));
  auto kr = std::make_unique<Keyring>();
  kr->active_term = r.U32();
  kr->encryptions.store(r.U64());
  kr->rotation.max_operations = r.U64();
  kr->rotation.interval = std::chrono::seconds(static_cast<std::int64_t>(r.U64()));
  // One encoding per keyring: the flag is 0 or 1, nothing else.
  const std::uint8_t disabled = r.U8();
  if (disabled > 1) return Err(Corrupt());
  kr->rotation.disabled = disabled == 1;
  const std::uint32_t count = r.U32();
  if (count == 0 || !r.Has(std::size_t{count} * kTermRecordSize)) return Err(Corrupt());
  kr->terms.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    KeyTerm t;
    t.term = r.U32();
    auto ns = static_cast<std::int64_t>(r.U64());
    t.install_time = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(ns)));
    t.key = SecretBytes(r.Take(kKeySize), kKeySize);
    // Terms are strictly ascending and never 0 (reserved for root-key values).
    if (t.term == 0 || (!kr->terms.empty() && kr->terms.back().term >= t.term)) {
      return Err(Corrupt());
    }
    kr->terms.push_back(std::move(t));
  }
  if (!r.AtEnd() || kr->Find(kr->active_term) == nullptr) return Err(Corrupt());
  kr->root_key = std::move(root_key);
  return kr;
}

}  // namespace coffer::barrier
