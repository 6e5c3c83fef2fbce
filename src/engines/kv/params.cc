#include "engines/kv/params.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "common/encoding.h"

namespace coffer::engines::kv {
namespace {

Status BadField(std::string_view field, std::string_view expected) {
  return InvalidArgument("invalid value for \"" + std::string(field) + "\": expected " +
                         std::string(expected));
}

// Decimal digits with an optional sign, as a duration's number of seconds
// is read (Go's strconv.ParseInt with base 10: "010" is ten).
std::optional<std::int64_t> ParseDecimalString(std::string_view s) {
  std::int64_t out = 0;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return out;
}

// A string as Vault's field decoding reads an integer (mapstructure's weak
// decode, strconv.ParseInt with base 0): "" is 0, a sign may lead, and
// 0x/0o/0b (or a leading 0: octal) choose the base.
std::optional<std::int64_t> ParseIntString(std::string_view s) {
  if (s.empty()) return 0;
  bool negative = false;
  if (s.front() == '+' || s.front() == '-') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
    base = 8;
    s.remove_prefix(2);
  } else if (s.size() > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
    base = 2;
    s.remove_prefix(2);
  } else if (s.size() > 1 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  if (s.empty() || s.front() == '+' || s.front() == '-') return std::nullopt;
  std::uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (magnitude > kMax + (negative ? 1 : 0)) return std::nullopt;
  if (negative)
    return magnitude == kMax + 1 ? std::numeric_limits<std::int64_t>::min()
                                 : -static_cast<std::int64_t>(magnitude);
  return static_cast<std::int64_t>(magnitude);
}

// Go's time.ParseDuration plus the "d" (24h) unit Vault accepts. Returns
// nanoseconds as a long double so "1.5h" and overflow are handled simply.
std::optional<long double> ParseGoDuration(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0.0L;
  if (s.empty()) return std::nullopt;
  long double total = 0;
  while (!s.empty()) {
    std::size_t i = 0;
    long double number = 0;
    bool digits = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      number = number * 10 + (s[i++] - '0');
      digits = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        number += scale * (s[i++] - '0');
        scale /= 10;
        digits = true;
      }
    }
    if (!digits) return std::nullopt;
    s.remove_prefix(i);
    static constexpr std::pair<std::string_view, long double> kUnits[] = {
        {"ns", 1.0L}, {"us", 1e3L}, {"\xC2\xB5s", 1e3L}, {"\xCE\xBCs", 1e3L}, {"ms", 1e6L},
        {"s", 1e9L},  {"m", 60e9L}, {"h", 3600e9L},      {"d", 86400e9L}};
    bool matched = false;
    for (const auto& [unit, scale] : kUnits) {
      // "m" must not swallow the "m" of "ms": the table lists "ms" first.
      if (s.substr(0, unit.size()) == unit) {
        total += number * scale;
        s.remove_prefix(unit.size());
        matched = true;
        break;
      }
    }
    if (!matched) return std::nullopt;
  }
  return negative ? -total : total;
}

}  // namespace

std::optional<Json> Param(const logical::Request& request, std::string_view name) {
  // The query string counts only where it is the request's data (reads,
  // lists): a write's parameters come from its body alone, which is what the
  // ACL's parameter rules checked and the audit entry recorded.
  const bool query_is_data = logical::IsReadOperation(request.operation);
  auto it = query_is_data ? request.query.find(std::string(name)) : request.query.end();
  if (it != request.query.end()) return Json(it->second);
  const Json* field = request.Field(name);
  if (field == nullptr || field->is_null()) return std::nullopt;
  return *field;
}

Result<std::int64_t> ParseInt(const Json& value, std::string_view field) {
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (std::trunc(d) == d && std::abs(d) < 9.0e15) return static_cast<std::int64_t>(d);
  }
  if (value.is_string()) {
    if (auto v = ParseIntString(value.get<std::string>())) return *v;
  }
  return Err(BadField(field, "an integer"));
}

Result<bool> ParseBool(const Json& value, std::string_view field) {
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number_integer()) {
    auto v = value.get<std::int64_t>();
    if (v == 0 || v == 1) return v == 1;
  }
  if (value.is_string()) {
    if (auto b = ParseGoBool(value.get_ref<const std::string&>())) return *b;
  }
  return Err(BadField(field, "a boolean"));
}

Result<std::int64_t> ParseDurationSeconds(const Json& value, std::string_view field) {
  if (value.is_number()) {
    double d = value.get<double>();
    if (std::isfinite(d) && std::abs(d) < 9.0e15) return static_cast<std::int64_t>(d);
    return Err(BadField(field, "a duration"));
  }
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s.empty()) return 0;
    if (auto v = ParseDecimalString(s)) return *v;
    if (auto ns = ParseGoDuration(s)) {
      long double secs = *ns / 1e9L;
      if (std::abs(secs) < 9.0e15L) return static_cast<std::int64_t>(secs);
    }
  }
  return Err(BadField(field, "a duration such as \"30s\", \"1h15m\" or a number of seconds"));
}

std::string FormatDurationSeconds(std::int64_t seconds) {
  if (seconds == 0) return "0s";
  std::string out = seconds < 0 ? "-" : "";
  // Negate through unsigned so INT64_MIN does not overflow.
  std::uint64_t s =
      seconds < 0 ? 0 - static_cast<std::uint64_t>(seconds) : static_cast<std::uint64_t>(seconds);
  std::uint64_t h = s / 3600, m = (s / 60) % 60, sec = s % 60;
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  out += std::to_string(sec) + "s";
  return out;
}

Result<std::vector<std::uint64_t>> ParseVersionList(const Json& value, std::string_view field) {
  std::vector<std::uint64_t> out;
  auto add = [&](const Json& v) -> Status {
    ASSIGN_OR_RETURN(std::int64_t n, ParseInt(v, field));
    if (n < 0) return BadField(field, "non-negative version numbers");
    out.push_back(static_cast<std::uint64_t>(n));
    return Status::Ok();
  };
  if (value.is_array()) {
    for (const Json& v : value) TRY(add(v));
  } else if (value.is_string()) {
    std::string_view s = value.get_ref<const std::string&>();
    while (!s.empty()) {
      auto comma = s.find(',');
      std::string_view part = s.substr(0, comma);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
      if (!part.empty()) TRY(add(Json(std::string(part))));
      if (comma == std::string_view::npos) break;
      s.remove_prefix(comma + 1);
    }
  } else {
    TRY(add(value));
  }
  return out;
}

Status ValidateSecretKey(std::string_view key) {
  if (key.empty()) return InvalidArgument("missing path");
  if (key.size() > kMaxKeyLength) {
    return InvalidArgument("path is too long (at most " + std::to_string(kMaxKeyLength) +
                           " bytes)");
  }
  if (key.front() == '/' || key.back() == '/') {
    return InvalidArgument("path must not begin or end with '/'");
  }
  if (key.find("//") != std::string_view::npos) {
    return InvalidArgument("path must not contain an empty segment (\"//\")");
  }
  if (key.find('\0') != std::string_view::npos) {
    return InvalidArgument("path must not contain a NUL byte");
  }
  return Status::Ok();
}

logical::Response ListResponse(std::vector<std::string> keys) {
  if (keys.empty()) return NotFoundResponse();
  logical::Response r;
  r.data = Json{{"keys", std::move(keys)}};
  return r;
}

}  // namespace coffer::engines::kv
