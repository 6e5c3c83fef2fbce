#include "http/response_writer.h"

#include <chrono>
#include <ctime>

#include "common/encoding.h"
#include "common/json_numbers.h"
#include "common/log.h"

namespace coffer::http {
namespace {

using logical::Json;

bool IsSafeHeaderText(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

bool IEqualsAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

void AppendJson(std::string& out, const Json& j) {
  // Most of an envelope is null; dump() would build a string for each.
  if (j.is_null()) {
    out += "null";
    return;
  }
  // Invalid UTF-8 inside a handler's strings must not throw out of the
  // server: replace it.
  const std::size_t from = out.size();
  out += j.dump(-1, ' ', false, Json::error_handler_t::replace);
  // Numbers with an exponent as Go prints them (common/encoding.h).
  GoStyleExponents(out, from);
}

// A string of printable ASCII without quote or backslash (request ids,
// lease ids, mount types) needs no escaping; anything else goes through
// nlohmann's dump. Not coffer::AppendJsonString (common/encoding.h): that
// one copies invalid UTF-8 as it is, where the envelope has always
// replaced it (a lease id carries a request path).
void AppendEnvelopeString(std::string& out, std::string_view s) {
  bool plain = true;
  for (char c : s) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  }
  if (!plain) {
    AppendJson(out, Json(s));
    return;
  }
  out += '"';
  out += s;
  out += '"';
}

// The IMF-fixdate, recomputed at most once per second per thread.
std::string_view DateHeader() {
  thread_local std::time_t cached_second = 0;
  thread_local char buf[40];
  thread_local std::size_t len = 0;
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    len = std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return {buf, len};
}

// The handler's extra headers, minus those the server owns.
void AppendHandlerHeaders(const logical::Response& r, std::string& out) {
  for (const auto& [name, value] : r.headers) {
    if (IEqualsAscii(name, "Content-Type") || IEqualsAscii(name, "Content-Length") ||
        IEqualsAscii(name, "Connection") || IEqualsAscii(name, "Transfer-Encoding") ||
        IEqualsAscii(name, "Cache-Control") || IEqualsAscii(name, "Date")) {
      continue;  // the server owns framing; Cache-Control stays no-store
    }
    if (name.empty() || !IsSafeHeaderText(name) || !IsSafeHeaderText(value) ||
        name.find_first_of(": \t") != std::string::npos) {
      Log(LogModule::kHttp).warn("dropping an invalid response header from a handler");
      continue;
    }
    out += "\r\n";
    out += name;
    out += ": ";
    out += value;
  }
}

}  // namespace

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 307:
      return "Temporary Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 472:
      return "Data Replication Secondary";
    case 473:
      return "Performance Standby";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

bool IsEmptyResponse(const logical::Response& r) {
  if (r.http_status == 204) return true;
  return r.http_status == 200 && !r.raw && r.data.is_null() && r.data_text.empty() &&
         r.auth.is_null() && r.auth_text.empty() && r.wrap_info.is_null() &&
         (r.warnings.is_null() || r.warnings.empty()) && r.lease_id.empty();
}

std::string RenderBody(const logical::Response& r, std::string_view request_id) {
  std::string out;
  if (r.raw) {
    AppendJson(out, *r.raw);
    return out;
  }
  out.reserve(256);
  out += "{\"request_id\":";
  AppendEnvelopeString(out, request_id);
  out += ",\"lease_id\":";
  AppendEnvelopeString(out, r.lease_id);
  out += r.renewable ? ",\"renewable\":true" : ",\"renewable\":false";
  out += ",\"lease_duration\":";
  out += std::to_string(r.lease_duration);
  out += ",\"data\":";
  if (r.number_text) {
    AppendJsonWithNumberText(out, r.data);
  } else if (r.data_text.empty()) {
    AppendJson(out, r.data);
  } else {
    out += r.data_text;
  }
  out += ",\"wrap_info\":";
  AppendJson(out, r.wrap_info);
  out += ",\"warnings\":";
  AppendJson(out, r.warnings);
  out += ",\"auth\":";
  if (r.auth_text.empty()) {
    AppendJson(out, r.auth);
  } else {
    out += r.auth_text;
  }
  out += ",\"mount_type\":";
  AppendEnvelopeString(out, r.mount_type);
  out += '}';
  return out;
}

void RenderResponse(const logical::Response& r, std::string_view request_id, bool head,
                    bool keep_alive, std::string& out) {
  out.clear();
  const bool empty = IsEmptyResponse(r);
  const int status = empty ? 204 : r.http_status;
  const bool send_body = !head && !r.no_body && status != 204 && status != 304;

  std::string_view content_type = "application/json";
  for (const auto& [name, value] : r.headers) {
    if (IEqualsAscii(name, "Content-Type") && IsSafeHeaderText(value)) content_type = value;
  }

  std::string body;
  if (send_body) {
    if (r.raw && r.raw->is_string() && !IEqualsAscii(content_type, "application/json")) {
      body = r.raw->get_ref<const std::string&>();
    } else {
      body = RenderBody(r, request_id);
    }
  }

  out.reserve(160 + body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += ReasonPhrase(status);
  out += "\r\nDate: ";
  out += DateHeader();
  // On a 204 too, as Vault sends it (vault-java-driver's seal() refuses an
  // answer without it).
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nCache-Control: no-store";
  AppendHandlerHeaders(r, out);
  if (status != 204) {
    out += "\r\nContent-Length: ";
    out += std::to_string(body.size());
  }
  if (!keep_alive) out += "\r\nConnection: close";
  out += "\r\n\r\n";
  out += body;
}

void RenderStreamHeader(const logical::Response& r, std::string& out) {
  out.clear();
  std::string_view content_type = "text/event-stream";
  for (const auto& [name, value] : r.headers) {
    if (IEqualsAscii(name, "Content-Type") && IsSafeHeaderText(value)) content_type = value;
  }
  out += "HTTP/1.1 200 OK\r\nDate: ";
  out += DateHeader();
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nCache-Control: no-store";
  AppendHandlerHeaders(r, out);
  out += "\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n";
}

}  // namespace coffer::http
