#include "audit/chain.h"

// For SHA256_Init/Update/Final in LineHasher: the low-level interface, no
// context allocation or algorithm fetch per line (see crypto/keyed_hmac.cc
// for why it is used despite OpenSSL 3 deprecating it).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/encoding.h"
#include "crypto/hmac.h"

namespace coffer::audit {
namespace {

constexpr std::string_view kJsonxSeq = "<json:number name=\"seq\">";
constexpr std::string_view kJsonxPrev = "<json:string name=\"prev_hash\">";
constexpr std::string_view kJsonxCheckpoint = "<json:string name=\"type\">checkpoint</json:string>";

std::string JsonxString(std::string_view name, std::string_view value) {
  // Values here are hex, digits and fixed words: nothing to escape.
  return "<json:string name=\"" + std::string(name) + "\">" + std::string(value) + "</json:string>";
}

// The text between `open` and the next '<', searching from `from`.
std::optional<std::string_view> JsonxValue(std::string_view line, std::string_view open,
                                           std::size_t from = 0) {
  std::size_t at = line.find(open, from);
  if (at == std::string_view::npos) return std::nullopt;
  at += open.size();
  std::size_t end = line.find('<', at);
  if (end == std::string_view::npos) return std::nullopt;
  return line.substr(at, end - at);
}

bool ParseSeq(std::string_view s, std::uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out > 0;
}

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  std::string out;
  AppendHex(out, std::string_view(reinterpret_cast<const char*>(md), sizeof(md)));
  return out;
}

void AppendFrame(std::string& out, Format format, std::uint64_t seq, std::string_view prev_hash,
                 std::string_view body) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof(digits), seq).ptr;
  std::string_view seq_text(digits, static_cast<std::size_t>(end - digits));
  out.reserve(out.size() + body.size() + 110);
  if (format == Format::kJsonx) {
    // Insert before the root element's closing tag.
    std::size_t close = body.rfind("</json:object>");
    if (close == std::string_view::npos) close = body.size();
    out.append(body.substr(0, close));
    out += kJsonxSeq;
    out += seq_text;
    out += "</json:number>";
    out += JsonxString("prev_hash", prev_hash);
    out.append(body.substr(close));
    return;
  }
  out.append(FramedHead(body));
  AppendFrameTail(out, seq, prev_hash, body);
}

std::string_view FramedHead(std::string_view body) {
  return body.size() > 2 ? body.substr(0, body.size() - 1) : std::string_view("{");
}

void AppendFrameTail(std::string& out, std::uint64_t seq, std::string_view prev_hash,
                     std::string_view body) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof(digits), seq).ptr;
  out += body.size() > 2 ? ",\"seq\":" : "\"seq\":";
  out.append(digits, static_cast<std::size_t>(end - digits));
  out += ",\"prev_hash\":\"";
  out += prev_hash;
  out += "\"}";
}

std::size_t SharedFramedPrefix(Format format, std::string_view a, std::string_view b) {
  // A framed JSON line keeps all of its body but the closing brace.
  if (format != Format::kJson || a.size() <= 2 || b.size() <= 2) return 0;
  const std::size_t limit = std::min(a.size(), b.size()) - 1;
  std::size_t n = 0;
  while (n + SHA256_CBLOCK <= limit &&
         std::memcmp(a.data() + n, b.data() + n, SHA256_CBLOCK) == 0) {
    n += SHA256_CBLOCK;
  }
  return n;
}

struct LineHasher::State {
  SHA256_CTX saved;             // after the first `saved_bytes` of the last line
  std::size_t saved_bytes = 0;  // 0: nothing saved
};

LineHasher::LineHasher() : state_(std::make_unique<State>()) {}
LineHasher::~LineHasher() = default;

void LineHasher::Hash(std::string_view head, std::string_view tail,
                      std::size_t shared_with_previous, std::size_t shared_with_next,
                      std::string& out) {
  SHA256_CTX ctx;
  std::size_t done = 0;
  State& s = *state_;
  if (s.saved_bytes > 0 && s.saved_bytes <= shared_with_previous && s.saved_bytes <= head.size()) {
    ctx = s.saved;
    done = s.saved_bytes;
  } else {
    SHA256_Init(&ctx);
  }
  s.saved_bytes = 0;
  const std::size_t keep = std::min(shared_with_next, head.size()) / SHA256_CBLOCK * SHA256_CBLOCK;
  if (keep > 0 && keep >= done) {
    SHA256_Update(&ctx, head.data() + done, keep - done);
    done = keep;
    s.saved = ctx;
    s.saved_bytes = keep;
  }
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256_Update(&ctx, head.data() + done, head.size() - done);
  SHA256_Update(&ctx, tail.data(), tail.size());
  SHA256_Final(md, &ctx);
  OPENSSL_cleanse(&ctx, sizeof(ctx));
  out.clear();
  AppendHex(out, std::string_view(reinterpret_cast<const char*>(md), sizeof(md)));
}

std::string Frame(Format format, std::uint64_t seq, std::string_view prev_hash,
                  std::string_view body) {
  std::string out;
  AppendFrame(out, format, seq, prev_hash, body);
  return out;
}

SecretBytes CheckpointKey(const SecretBytes& salt) {
  auto mac = crypto::HmacSha256(salt, "coffer audit checkpoint v1");
  if (!mac) return SecretBytes();
  SecretBytes key = SecretBytes::FromString(*mac);
  OPENSSL_cleanse(mac->data(), mac->size());
  return key;
}

std::string CheckpointMac(const SecretBytes& checkpoint_key, std::string_view device,
                          std::uint64_t seq, std::string_view prev_hash) {
  std::string msg =
      std::string(device) + '\n' + std::to_string(seq) + '\n' + std::string(prev_hash);
  auto mac = crypto::HmacSha256(checkpoint_key, msg);
  return mac ? crypto::ToHex(*mac) : std::string();
}

std::string CheckpointBody(Format format, std::string_view time, std::string_view device,
                           std::string_view reason, std::string_view mac_hex) {
  if (format == Format::kJsonx) {
    return "<json:object xmlns:json=\"http://www.ibm.com/xmlns/prod/2009/jsonx\">" +
           std::string(kJsonxCheckpoint) + JsonxString("device", device) +
           JsonxString("reason", reason) + JsonxString("time", time) +
           JsonxString("hmac", mac_hex) + "</json:object>";
  }
  logical::Json body{{"type", "checkpoint"},
                     {"device", device},
                     {"reason", reason},
                     {"time", time},
                     {"hmac", mac_hex}};
  return body.dump();
}

Result<LineInfo> ParseLine(std::string_view line) {
  LineInfo info;
  if (line.starts_with("<json:object")) {
    // Lines of earlier versions carry the frame first (right after the root
    // element's opening tag), current ones last.
    const std::size_t open_end = line.find('>') + 1;
    const bool frame_first = line.substr(open_end).starts_with(kJsonxSeq);
    const std::size_t seq_at = frame_first ? open_end : line.rfind(kJsonxSeq);
    const std::size_t prev_at = frame_first ? open_end : line.rfind(kJsonxPrev);
    if (seq_at == std::string_view::npos || prev_at == std::string_view::npos) {
      return Err(InvalidArgument("not a framed audit line"));
    }
    auto seq = JsonxValue(line, kJsonxSeq, seq_at);
    auto prev = JsonxValue(line, kJsonxPrev, prev_at);
    if (!seq || !prev || !ParseSeq(*seq, info.seq) || !IsHex64(*prev)) {
      return Err(InvalidArgument("not a framed audit line"));
    }
    info.prev_hash = std::string(*prev);
    std::size_t body_at = open_end;
    if (frame_first) {
      body_at = line.find(kJsonxPrev, open_end);
      body_at = line.find("</json:string>", body_at) + 14;
    }
    if (line.substr(body_at).starts_with(kJsonxCheckpoint)) {
      info.checkpoint = true;
      info.device = std::string(JsonxValue(line, "name=\"device\">", body_at).value_or(""));
      info.reason = std::string(JsonxValue(line, "name=\"reason\">", body_at).value_or(""));
      info.hmac = std::string(JsonxValue(line, "name=\"hmac\">", body_at).value_or(""));
    }
    return info;
  }
  logical::Json j = logical::Json::parse(line, nullptr, false);
  if (!j.is_object()) return Err(InvalidArgument("not a JSON object"));
  auto seq = j.find("seq");
  auto prev = j.find("prev_hash");
  if (seq == j.end() || !seq->is_number_unsigned() || prev == j.end() || !prev->is_string() ||
      !IsHex64(prev->get_ref<const std::string&>())) {
    return Err(InvalidArgument("not a framed audit line"));
  }
  info.seq = seq->get<std::uint64_t>();
  if (info.seq == 0) return Err(InvalidArgument("seq must be positive"));
  info.prev_hash = prev->get<std::string>();
  if (j.value("type", "") == "checkpoint") {
    info.checkpoint = true;
    info.device = j.value("device", "");
    info.reason = j.value("reason", "");
    info.hmac = j.value("hmac", "");
  }
  return info;
}

void ChainVerifier::AddFile(std::string_view name, std::string_view content) {
  std::size_t line_no = 0;
  bool first_in_file = true;
  std::size_t pos = 0;
  // Lines are read one ahead, so a swap can be told from a removal.
  std::vector<std::string_view> lines;
  while (pos < content.size()) {
    std::size_t nl = content.find('\n', pos);
    if (nl == std::string_view::npos) nl = content.size();
    lines.push_back(content.substr(pos, nl - pos));
    pos = nl + 1;
  }
  if (!lines.empty() && content.back() != '\n') {
    problems_.push_back({std::string(name) + ":" + std::to_string(lines.size()),
                         "the last line is incomplete (the file was cut mid-line)"});
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    line_no = i + 1;
    std::string where = std::string(name) + ":" + std::to_string(line_no);
    ++lines_;
    std::string hash = Sha256Hex(line);
    auto parsed = ParseLine(line);
    if (!parsed) {
      problems_.push_back({where, "not an audit line of this device (inserted or edited)"});
      have_prev_ = true;
      prev_parsed_ = false;
      prev_hash_ = hash;
      first_in_file = false;
      continue;
    }
    const LineInfo& info = *parsed;
    if (!have_prev_) {
      first_seq_ = info.seq;
      if (info.seq == 1 && info.prev_hash != kGenesisHash) {
        problems_.push_back({where, "seq 1 must start the chain (prev_hash of zeros)"});
      }
    } else if (info.seq == 1 && info.prev_hash == kGenesisHash && first_in_file) {
      // The server started a new chain in a new, empty file (after a restart).
    } else if (!prev_parsed_) {
      // The previous line was garbage: already reported.
    } else if (info.seq <= prev_seq_) {
      problems_.push_back({where, "seq " + std::to_string(info.seq) + " follows seq " +
                                      std::to_string(prev_seq_) +
                                      ": lines reordered, duplicated or inserted"});
    } else if (info.seq > prev_seq_ + 1) {
      std::uint64_t missing = info.seq - prev_seq_ - 1;
      bool swapped = false;
      if (i + 1 < lines.size()) {
        auto next = ParseLine(lines[i + 1]);
        swapped = next && next->seq == prev_seq_ + 1;
      }
      if (swapped) {
        problems_.push_back({where, "lines " + std::to_string(line_no) + " and " +
                                        std::to_string(line_no + 1) + " are swapped (reordered)"});
      } else {
        problems_.push_back({where, std::to_string(missing) + " line(s) removed before this line " +
                                        "(seq jumps from " + std::to_string(prev_seq_) + " to " +
                                        std::to_string(info.seq) + ")"});
      }
    } else if (info.prev_hash != prev_hash_) {
      problems_.push_back({where, "does not chain to the line before it: line " +
                                      std::to_string(line_no > 1 ? line_no - 1 : 0) +
                                      (line_no > 1 ? "" : " of the previous file") +
                                      " was edited or replaced"});
    }
    if (info.checkpoint) {
      checkpoints_.push_back({info.device, info.seq, info.prev_hash, info.hmac, where});
      if (device_.empty()) device_ = info.device;
    }
    if (watch_seq_ && *watch_seq_ == info.seq) watched_hash_ = hash;
    last_final_ = info.checkpoint && (info.reason == "close" || info.reason == "rotate");
    have_prev_ = true;
    prev_parsed_ = true;
    prev_seq_ = info.seq;
    last_seq_ = info.seq;
    prev_hash_ = hash;
    first_in_file = false;
  }
}

std::optional<std::string> ChainVerifier::HashOf(std::uint64_t seq) const {
  if (watch_seq_ && *watch_seq_ == seq) return watched_hash_;
  return std::nullopt;
}

}  // namespace coffer::audit
