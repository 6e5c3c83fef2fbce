#include "http/framing.h"

#include <algorithm>

#include "common/text.h"

namespace coffer::http {
namespace {

bool IsChunked(std::string_view v) {
  static constexpr std::string_view kChunked = "chunked";
  return v.size() == kChunked.size() &&
         std::equal(v.begin(), v.end(), kChunked.begin(), [](char a, char b) {
           return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
         });
}

}  // namespace

Status CheckRawHeader(std::string_view raw) {
  if (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) {
    return InvalidArgument("malformed request line");
  }
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\0') return InvalidArgument("NUL in request header");
    if (c == '\r' && (i + 1 >= raw.size() || raw[i + 1] != '\n')) {
      return InvalidArgument("bare CR in request header");
    }
    if (c == '\n') {
      if (i == 0 || raw[i - 1] != '\r') return InvalidArgument("bare LF in request header");
      if (i + 1 < raw.size() && (raw[i + 1] == ' ' || raw[i + 1] == '\t')) {
        return InvalidArgument("obsolete line folding in request header");
      }
    }
  }
  return Status::Ok();
}

Status CheckFraming(const FramingFields& f) {
  if (f.version != 10 && f.version != 11) return InvalidArgument("unsupported HTTP version");
  if (f.content_length.size() > 1) return InvalidArgument("duplicate Content-Length");
  if (f.transfer_encoding.size() > 1) return InvalidArgument("duplicate Transfer-Encoding");
  if (!f.content_length.empty() && !f.transfer_encoding.empty()) {
    return InvalidArgument("both Content-Length and Transfer-Encoding");
  }
  if (!f.content_length.empty()) {
    std::string_view v = Trim(f.content_length[0]);
    if (v.empty() ||
        !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return InvalidArgument("invalid Content-Length");
    }
  }
  if (!f.transfer_encoding.empty()) {
    if (!IsChunked(Trim(f.transfer_encoding[0]))) {
      return InvalidArgument("unsupported Transfer-Encoding");
    }
    if (f.version == 10) return InvalidArgument("Transfer-Encoding in an HTTP/1.0 request");
  }
  return Status::Ok();
}

}  // namespace coffer::http
