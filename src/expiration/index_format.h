#pragma once
// The on-disk layout of the expiration manager, in its storage view
// ("sys/expire/" under the barrier):
//
//   id/<lease id>                 the lease record (JSON, see lease.h)
//   index/<bucket>                a packed batch of expiry index records
//   journal/<bucket>/<key hex>    one index record not yet folded into its
//                                 bucket (same encoding, one record)
//   token/<token hmac>/<key hex>  → lease id: the secret leases a token
//                                 created (a token's own lease has none: its
//                                 id follows from the token's path and hmac)
//
// Index records are batched into kIndexBuckets storage keys by their lease
// key, so that unseal streams 4096 values instead of one key per lease: at
// one million leases a bucket is ~20 KiB and Load() reads ~85 MiB of
// sequential ciphertext. A bucket value is
//   version (1 B = 1) | records...
//   record = key (16 B) | expire_time unix seconds (8 B, LE) | id length (2 B, LE) | id
//
// A new or renewed lease writes only its journal record, in the lease's own
// transaction: no read, no lock, and the record is a few dozen bytes however
// large the bucket has grown. Every compaction-threshold-th write of a bucket
// folds its journal into it instead (ExpirationManager: bucket put + journal
// deletes, in that write's transaction), so unseal still reads mostly packed
// buckets; the journal is bounded by the threshold per bucket. A lease
// deletion removes both its journal record and its bucket record. When both
// exist, the journal record is newer.
// Exposed so tools (bench/leases_load.cc) can write a large store quickly.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "expiration/expiry_index.h"

namespace coffer::expiration {

inline constexpr std::size_t kIndexBuckets = 4096;

struct IndexRecord {
  LeaseKey key;
  std::int64_t expire_time = 0;  // unix seconds
  std::string id;
};

std::size_t BucketOf(const LeaseKey& key);
std::string BucketStorageKey(std::size_t bucket);        // "index/0a3"
std::string LeaseStorageKey(std::string_view lease_id);  // "id/<lease id>"
std::string TokenIndexKey(std::string_view token_hmac, const LeaseKey& key);
std::string KeyHex(const LeaseKey& key);
std::string JournalFolder(std::size_t bucket);  // "journal/0a3/"
std::string JournalKey(const LeaseKey& key);    // "journal/0a3/<key hex>"
// The bucket number of a List("journal/") folder name ("0a3/"), or nullopt.
std::optional<std::size_t> ParseBucketFolder(std::string_view name);

std::string EncodeBucket(const std::vector<IndexRecord>& records);
// EncodeBucket({record}) without the vector: a journal value.
std::string EncodeRecord(const IndexRecord& record);
Result<std::vector<IndexRecord>> DecodeBucket(std::string_view value);
// In-place edits of an encoded bucket ("" = empty) that neither decode nor
// re-encode the other records: UpsertRecord replaces the record with the
// same key or appends one; EraseRecord removes it (absent is Ok). Errors:
// kInternal for a corrupt bucket (left unchanged).
Status UpsertRecord(std::string& bucket, const IndexRecord& record);
Status EraseRecord(std::string& bucket, const LeaseKey& key);

// Load's fast path: calls fn(key, expire_time) for each record without
// copying ids.
template <typename Fn>
Status ForEachRecord(std::string_view value, Fn&& fn);

}  // namespace coffer::expiration

#include "expiration/index_format_inl.h"
