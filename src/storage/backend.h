#pragma once
// storage::Backend: the physical key/value store under the barrier.
//
// Keys are '/'-separated paths ("core/keyring", "logical/<uuid>/foo").
// Values are opaque bytes (the barrier's ciphertext; only "core/seal-config"
// is stored in the clear). Every implementation passes the shared conformance
// suite in tests/conformance/backend_conformance.h.
//
// Durability: Put/Delete/Transact return only after the change is durable for
// the backend's promise (inmem: in memory; local: fsynced to the SQLite WAL).
// Thread safety: every method may be called from any thread concurrently.
// Errors: kNotFound is never returned for a missing key (Get answers nullopt);
// kConflict when a Transact compare fails; kInternal/kUnavailable for I/O
// trouble (the message may name the key, never a value).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace coffer::storage {

struct Entry {
  std::string value;
  // Changes on every write of this key and never goes back (etcd's
  // mod_revision; a counter in the embedded backends). Never 0 for a present
  // key.
  std::uint64_t revision = 0;
};

struct Op {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;  // for kPut
};

// A precondition of Transact: `key` must currently be at `revision`, where
// revision 0 means "the key must not exist".
struct Compare {
  std::string key;
  std::uint64_t revision = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // The value at key, or nullopt when absent.
  virtual Result<std::optional<Entry>> Get(std::string_view key) = 0;

  virtual Status Put(std::string_view key, std::string_view value) = 0;

  // Deleting a missing key is not an error.
  virtual Status Delete(std::string_view key) = 0;

  // One level below prefix (which is "" or ends in '/'): direct children by
  // their name relative to prefix, sub-folders with a trailing '/', each once,
  // sorted bytewise.
  virtual Result<std::vector<std::string>> List(std::string_view prefix) = 0;

  // Applies every op atomically if every compare holds; otherwise changes
  // nothing and returns kConflict.
  virtual Status Transact(std::span<const Compare> compares, std::span<const Op> ops) = 0;

  // The name used in config ("inmem", "local", ...).
  virtual std::string_view Type() const = 0;
};

// Checks a key for use with any backend: non-empty, no NUL, no leading '/',
// at most 1 KiB.
Status ValidateKey(std::string_view key);

}  // namespace coffer::storage
