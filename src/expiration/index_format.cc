#include "expiration/index_format.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

namespace coffer::expiration {

namespace {

int HexDigit(char c) {
  return c >= '0' && c <= '9' ? c - '0' : (c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
}

}  // namespace

std::size_t BucketOf(const LeaseKey& key) {
  return ((static_cast<std::size_t>(key.bytes[14]) << 8) | key.bytes[15]) % kIndexBuckets;
}

std::string BucketStorageKey(std::size_t bucket) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "index/%03zx", bucket);
  return buf;
}

std::string LeaseStorageKey(std::string_view lease_id) { return "id/" + std::string(lease_id); }

std::string KeyHex(const LeaseKey& key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (std::uint8_t b : key.bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::string JournalFolder(std::size_t bucket) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "journal/%03zx/", bucket % kIndexBuckets);
  return buf;
}

std::string JournalKey(const LeaseKey& key) { return JournalFolder(BucketOf(key)) + KeyHex(key); }

std::string IrrevocableKey(const LeaseKey& key) {
  return std::string(kIrrevocableFolder) + KeyHex(key);
}

std::string EncodeFailure(const FailureRecord& record) {
  return nlohmann::json{
      {"lease_id", record.lease_id}, {"attempts", record.attempts}, {"error", record.error}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<FailureRecord> DecodeFailure(std::string_view value) {
  const auto json = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  auto id = json.find("lease_id");
  auto attempts = json.find("attempts");
  auto error = json.find("error");
  if (id == json.end() || !id->is_string() || attempts == json.end() ||
      !attempts->is_number_integer() || error == json.end() || !error->is_string()) {
    return std::nullopt;
  }
  FailureRecord out;
  out.lease_id = id->get<std::string>();
  const auto n = attempts->get<std::int64_t>();
  if (out.lease_id.empty() || n < 1) return std::nullopt;
  out.attempts = static_cast<int>(std::min<std::int64_t>(n, std::int64_t{1} << 30));
  out.error = error->get<std::string>();
  return out;
}

std::optional<std::size_t> ParseBucketFolder(std::string_view name) {
  if (name.size() != 4 || name[3] != '/') return std::nullopt;
  std::size_t bucket = 0;
  for (char c : name.substr(0, 3)) {
    const int digit = HexDigit(c);
    if (digit < 0) return std::nullopt;
    bucket = bucket * 16 + static_cast<std::size_t>(digit);
  }
  if (bucket >= kIndexBuckets) return std::nullopt;
  return bucket;
}

std::string LogKey(std::uint64_t seq) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "log/%016llx", static_cast<unsigned long long>(seq));
  return buf;
}

std::optional<std::uint64_t> ParseLogName(std::string_view name) {
  if (name.size() != 16) return std::nullopt;
  std::uint64_t seq = 0;
  for (char c : name) {
    const int digit = HexDigit(c);
    if (digit < 0) return std::nullopt;
    seq = seq * 16 + static_cast<std::uint64_t>(digit);
  }
  return seq;
}

std::string TokenIndexKey(std::string_view token_hmac, const LeaseKey& key) {
  return "token/" + std::string(token_hmac) + "/" + KeyHex(key);
}

namespace {

void AppendRecord(std::string& out, const IndexRecord& r) {
  out.append(reinterpret_cast<const char*>(r.key.bytes.data()), r.key.bytes.size());
  auto expire = static_cast<std::uint64_t>(r.expire_time);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((expire >> (8 * i)) & 0xff));
  std::size_t len = std::min<std::size_t>(r.id.size(), 0xffff);
  out.push_back(static_cast<char>(len & 0xff));
  out.push_back(static_cast<char>(len >> 8));
  out.append(r.id, 0, len);
}

// The [begin, end) byte range of key's record in an encoded bucket, or
// begin == end == npos when absent.
Result<std::pair<std::size_t, std::size_t>> FindRecord(std::string_view value,
                                                       const LeaseKey& key) {
  constexpr auto kNone = std::string_view::npos;
  if (value.empty()) return std::pair{kNone, kNone};
  if (static_cast<unsigned char>(value[0]) != 1) {
    return Err(Internal("unknown lease index version"));
  }
  std::size_t pos = 1;
  while (pos < value.size()) {
    if (value.size() - pos < 26) return Err(Internal("truncated lease index bucket"));
    std::size_t len = static_cast<unsigned char>(value[pos + 24]) |
                      (static_cast<std::size_t>(static_cast<unsigned char>(value[pos + 25])) << 8);
    if (value.size() - pos - 26 < len) return Err(Internal("truncated lease index bucket"));
    const std::size_t end = pos + 26 + len;
    if (std::memcmp(value.data() + pos, key.bytes.data(), 16) == 0) return std::pair{pos, end};
    pos = end;
  }
  return std::pair{kNone, kNone};
}

}  // namespace

std::string EncodeBucket(const std::vector<IndexRecord>& records) {
  std::string out;
  std::size_t total = 1;
  for (const auto& r : records) total += 26 + r.id.size();
  out.reserve(total);
  out.push_back(1);
  for (const auto& r : records) AppendRecord(out, r);
  return out;
}

std::string EncodeRecord(const IndexRecord& record) {
  std::string out;
  out.reserve(27 + record.id.size());
  out.push_back(1);
  AppendRecord(out, record);
  return out;
}

Status UpsertRecord(std::string& bucket, const IndexRecord& record) {
  ASSIGN_OR_RETURN(auto range, FindRecord(bucket, record.key));
  std::string encoded;
  encoded.reserve(26 + record.id.size());
  AppendRecord(encoded, record);
  if (range.first == std::string::npos) {
    if (bucket.empty()) bucket.push_back(1);
    bucket += encoded;
  } else {
    bucket.replace(range.first, range.second - range.first, encoded);
  }
  return Status::Ok();
}

Status EraseRecord(std::string& bucket, const LeaseKey& key) {
  ASSIGN_OR_RETURN(auto range, FindRecord(bucket, key));
  if (range.first != std::string::npos) bucket.erase(range.first, range.second - range.first);
  if (bucket.size() == 1) bucket.clear();
  return Status::Ok();
}

Result<std::vector<IndexRecord>> DecodeBucket(std::string_view value) {
  std::vector<IndexRecord> out;
  TRY(ForEachRecord(value, [&](const LeaseKey& key, std::int64_t expire, std::string_view id) {
    out.push_back(IndexRecord{key, expire, std::string(id)});
  }));
  return out;
}

}  // namespace coffer::expiration
