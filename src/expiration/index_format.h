#pragma once
// The on-disk layout of the expiration manager, in its storage view
// ("sys/expire/" under the barrier):
//
//   id/<lease id>                 the lease record (JSON, see lease.h)
//   index/<bucket>                a packed batch of expiry index records
//   log/<seq>                     one index record not yet folded into its
//                                 bucket (same encoding, one record), or a
//                                 deletion (a record with an empty id); seq
//                                 is 16 hex digits, increasing
//   journal/<bucket>/<key hex>    the journal of earlier versions: one index
//                                 record not yet folded (read, folded and
//                                 deleted; never written now)
//   token/<token hmac>/<key hex>  → lease id: the secret leases a token
//                                 created (a token's own lease has none: its
//                                 id follows from the token's path and hmac)
//   irrevocable/<key hex>         a lease whose revocation failed
//                                 ExpirationManager::kIrrevocableAfter times
//                                 in a row or more (JSON: lease_id, attempts,
//                                 error), so that the report survives a
//                                 restart; deleted with the lease
//
// Index records are batched into kIndexBuckets storage keys by their lease
// key, so that unseal streams 4096 values instead of one key per lease: at
// one million leases a bucket is ~20 KiB and Load() reads ~85 MiB of
// sequential ciphertext. A bucket value is
//   version (1 B = 1) | records...
//   record = key (16 B) | expire_time unix seconds (8 B, LE) | id length (2 B, LE) | id
//
// A new or renewed lease appends one log record, in the lease's own
// transaction: no read, no lock, and the record is a few dozen bytes however
// large the bucket has grown. The log's keys increase, so a commit of many
// new leases writes the log's last page or two rather than one page per
// lease, as a key per bucket did. Every compaction-threshold-th write of a
// bucket folds the bucket's live records into it instead (ExpirationManager:
// a bucket put in that write's transaction). A folded log record is not
// deleted then (that would be a write to a random page again): records are
// deleted oldest first, in batches, once every record before them is dead
// (folded, superseded by a newer record of its lease, or a deletion). A
// lease deletion removes its bucket record and appends a deletion to the
// log. Unseal reads the whole log, which a fold by age keeps short (see
// ExpirationManager), and resolves each lease's newest log record against
// its bucket: a deletion drops the lease; a record equal to the bucket's was
// folded; any other is newer than the bucket's (a fold writes the newest
// record it knows of, and every later change appends to the log).
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
std::string LogKey(std::uint64_t seq);          // "log/000000000000002a"
// The seq of a List("log/") name ("000000000000002a"), or nullopt.
std::optional<std::uint64_t> ParseLogName(std::string_view name);
std::string JournalKey(const LeaseKey& key);  // "journal/0a3/<key hex>"
inline constexpr std::string_view kIrrevocableFolder = "irrevocable/";
std::string IrrevocableKey(const LeaseKey& key);  // "irrevocable/<key hex>"
// The value of an irrevocable/ record.
struct FailureRecord {
  std::string lease_id;
  int attempts = 0;
  std::string error;
};
std::string EncodeFailure(const FailureRecord& record);
// nullopt for a value that is not such a record (fields of the wrong type,
// no id, a count below 1).
std::optional<FailureRecord> DecodeFailure(std::string_view value);
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
