#pragma once
// Template part of index_format.h.

#include <cstring>

namespace coffer::expiration {

template <typename Fn>
Status ForEachRecord(std::string_view value, Fn&& fn) {
  if (value.empty()) return Status::Ok();
  if (static_cast<unsigned char>(value[0]) != 1) return Internal("unknown lease index version");
  std::size_t pos = 1;
  while (pos < value.size()) {
    if (value.size() - pos < 26) return Internal("truncated lease index bucket");
    LeaseKey key;
    std::memcpy(key.bytes.data(), value.data() + pos, 16);
    std::uint64_t expire = 0;
    for (int i = 7; i >= 0; --i) {
      expire = (expire << 8) | static_cast<unsigned char>(value[pos + 16 + i]);
    }
    std::size_t len = static_cast<unsigned char>(value[pos + 24]) |
                      (static_cast<std::size_t>(static_cast<unsigned char>(value[pos + 25])) << 8);
    pos += 26;
    if (value.size() - pos < len) return Internal("truncated lease index bucket");
    fn(key, static_cast<std::int64_t>(expire), value.substr(pos, len));
    pos += len;
  }
  return Status::Ok();
}

}  // namespace coffer::expiration
