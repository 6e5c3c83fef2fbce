#pragma once
// Tamper evidence for audit logs: a hash chain with signed checkpoints.
//
// Every line a device writes ends with "seq" (1, 2, 3, ... per device) and
// "prev_hash" (hex SHA-256 of the previous line's bytes, without the
// newline; 64 zeros for seq 1). They come last so that the two lines of one
// request, which begin with the same "auth" and "request" objects, begin
// with the same bytes, and the hash of those bytes is computed once
// (LineHasher). Lines of earlier versions, with the two first, verify too.
// Every N entries, every T seconds, at log rotation and when the device
// closes, the device writes a checkpoint line whose "hmac" is HMAC-SHA256
// under a key derived from the device's salt (which only the server holds)
// over the device path, seq and prev_hash. So:
//   - deleting, inserting, editing or reordering any line breaks the chain
//     or the sequence at that point;
//   - recomputing the chain after an edit is useless, because the next
//     checkpoint's signature covers the old chain and cannot be re-signed;
//   - truncating the end is caught against the server's current head (a
//     running server) or because a closed log must end with a checkpoint.
//
// Pure functions, thread-safe; LineHasher is not (one per device).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/entry.h"
#include "common/secret_bytes.h"
#include "common/status.h"

namespace coffer::audit {

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

std::string Sha256Hex(std::string_view data);

// A framed JSON line is its head (the body without its closing brace) and
// then its tail (`,"seq":…,"prev_hash":"…"}`), so a device can write the
// head from where the body was rendered and only the tail from elsewhere.
std::string_view FramedHead(std::string_view body);
void AppendFrameTail(std::string& out, std::uint64_t seq, std::string_view prev_hash,
                     std::string_view body);

// Puts seq and prev_hash last in a rendered entry.
std::string Frame(Format format, std::uint64_t seq, std::string_view prev_hash,
                  std::string_view body);
// The same appended to `out` (no temporary line).
void AppendFrame(std::string& out, Format format, std::uint64_t seq, std::string_view prev_hash,
                 std::string_view body);

// How many leading bytes the framed lines of `a` and `b` are sure to share,
// rounded down to whole SHA-256 blocks (64 bytes): what LineHasher can
// reuse. JSON only (0 for JSONx).
std::size_t SharedFramedPrefix(Format format, std::string_view a, std::string_view b);

// The chain's SHA-256 of consecutive lines, keeping the hash state after the
// blocks a line shares with the next one so that the next line starts from
// there. Not thread-safe (one per device, used by its writer).
class LineHasher {
 public:
  LineHasher();
  ~LineHasher();
  LineHasher(const LineHasher&) = delete;
  LineHasher& operator=(const LineHasher&) = delete;

  // Writes the hex SHA-256 of the line `head` + `tail` to `out`.
  // `shared_with_previous`: how many leading bytes of `head` the line hashed
  // just before began with too (0 when unknown); `shared_with_next`: how
  // many the next line will begin with. Both as SharedFramedPrefix returns
  // them, so never more than the head.
  void Hash(std::string_view head, std::string_view tail, std::size_t shared_with_previous,
            std::size_t shared_with_next, std::string& out);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The checkpoint key of a device: HMAC-SHA256(salt, "coffer audit checkpoint v1").
SecretBytes CheckpointKey(const SecretBytes& salt);
// Hex HMAC that a checkpoint at `seq` with `prev_hash` carries.
std::string CheckpointMac(const SecretBytes& checkpoint_key, std::string_view device,
                          std::uint64_t seq, std::string_view prev_hash);
// The body of a checkpoint line (to be framed with the same seq/prev_hash).
std::string CheckpointBody(Format format, std::string_view time, std::string_view device,
                           std::string_view reason, std::string_view mac_hex);

// What the verifier reads from a line.
struct LineInfo {
  std::uint64_t seq = 0;
  std::string prev_hash;
  bool checkpoint = false;
  std::string device;  // checkpoints only
  std::string reason;  // checkpoints only: "entries", "interval", "rotate", "close"
  std::string hmac;    // checkpoints only
};
// Errors: kInvalidArgument when the line is not a framed audit entry.
Result<LineInfo> ParseLine(std::string_view line);

struct CheckpointRef {
  std::string device;
  std::uint64_t seq = 0;
  std::string prev_hash;
  std::string hmac;
  std::string where;  // "file:line"
};

struct Problem {
  std::string where;  // "file:line"
  std::string message;
};

// Checks the chain over files given oldest first (a rotated log, then the
// current one).
class ChainVerifier {
 public:
  // `content` is the whole file.
  void AddFile(std::string_view name, std::string_view content);

  const std::vector<Problem>& problems() const { return problems_; }
  const std::vector<CheckpointRef>& checkpoints() const { return checkpoints_; }
  std::size_t lines() const { return lines_; }
  std::uint64_t first_seq() const { return first_seq_; }
  std::uint64_t last_seq() const { return last_seq_; }
  bool ends_with_final_checkpoint() const { return last_final_; }
  std::string device() const { return device_; }
  // Hash of the line with this seq, when the verifier saw it (it keeps the
  // ones asked for with WatchSeq before AddFile).
  std::optional<std::string> HashOf(std::uint64_t seq) const;
  void WatchSeq(std::uint64_t seq) { watch_seq_ = seq; }
  // Adds a problem found outside the chain (checkpoint signatures, head).
  void AddProblem(std::string where, std::string message) {
    problems_.push_back({std::move(where), std::move(message)});
  }

 private:
  std::vector<Problem> problems_;
  std::vector<CheckpointRef> checkpoints_;
  std::size_t lines_ = 0;
  bool have_prev_ = false;
  bool prev_parsed_ = false;
  std::uint64_t prev_seq_ = 0;
  std::string prev_hash_;  // hash of the previous line
  std::uint64_t first_seq_ = 0;
  std::uint64_t last_seq_ = 0;
  bool last_final_ = false;
  std::string device_;
  std::optional<std::uint64_t> watch_seq_;
  std::optional<std::string> watched_hash_;
};

}  // namespace coffer::audit
