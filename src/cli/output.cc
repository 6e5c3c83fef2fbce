#include "cli/output.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>

#include "common/json_numbers.h"
#include "common/text.h"

namespace coffer::cli {
namespace {

constexpr std::string_view kGlue = "    ";

bool ParseInt(std::string_view s, int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

Result<OutputFormat> ParseFormat(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "table") return OutputFormat::kTable;
  if (lower == "json") return OutputFormat::kJson;
  if (lower == "yaml" || lower == "yml") return OutputFormat::kYaml;
  if (lower == "raw") return OutputFormat::kRaw;
  return Err(InvalidArgument("Invalid output format: " + lower));
}

std::string FormatColumns(const std::vector<Row>& rows) {
  std::vector<std::size_t> widths;
  std::vector<std::vector<std::string>> cells;
  cells.reserve(rows.size());
  for (const Row& row : rows) {
    std::vector<std::string> line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string cell(Trim(row[i]));
      if (cell.empty()) cell = "n/a";
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], cell.size());
      line.push_back(std::move(cell));
    }
    cells.push_back(std::move(line));
  }
  std::string out;
  for (const auto& line : cells) {
    for (std::size_t i = 0; i < line.size(); ++i) {
      out += line[i];
      if (i + 1 < line.size()) {
        out.append(widths[i] - line[i].size(), ' ');
        out += kGlue;
      }
    }
    out += '\n';
  }
  return out;
}

std::string FormatTable(const std::vector<Row>& rows) {
  if (rows.empty()) return "";
  std::vector<Row> all;
  all.reserve(rows.size() + 1);
  all.push_back(rows[0]);
  Row underline;
  for (const std::string& h : rows[0]) underline.emplace_back(Trim(h).size(), '-');
  all.push_back(std::move(underline));
  all.insert(all.end(), rows.begin() + 1, rows.end());
  return FormatColumns(all);
}

std::string FormatKeyValue(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::vector<Row> rows{{"Key", "Value"}};
  for (const auto& [k, v] : pairs) rows.push_back({k, v});
  return FormatTable(rows);
}

std::string FormatJson(const Json& value) { return DumpJsonWithNumberText(value, 2) + "\n"; }

std::string FormatStructured(OutputFormat format, const Json& value) {
  return format == OutputFormat::kYaml ? FormatYaml(value) : FormatJson(value);
}

std::string ScalarText(const Json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  return DumpJsonWithNumberText(value);
}

std::string WrapAtLength(std::string_view text, std::size_t width) {
  std::string out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t nl = text.find('\n', start);
    std::string_view para = text.substr(start, nl == std::string_view::npos ? nl : nl - start);
    std::size_t col = 0;
    std::size_t pos = 0;
    while (pos < para.size()) {
      std::size_t sp = para.find(' ', pos);
      std::string_view word = para.substr(pos, sp == std::string_view::npos ? sp : sp - pos);
      pos = sp == std::string_view::npos ? para.size() : sp + 1;
      if (word.empty()) continue;
      if (col > 0 && col + 1 + word.size() > width) {
        out += '\n';
        col = 0;
      } else if (col > 0) {
        out += ' ';
        ++col;
      }
      out += word;
      col += word.size();
    }
    if (nl == std::string_view::npos) break;
    out += '\n';
    start = nl + 1;
  }
  return out;
}

std::string FormatRfc822(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':' || !ParseInt(s.substr(0, 4), y) ||
      !ParseInt(s.substr(5, 2), mo) || !ParseInt(s.substr(8, 2), d) ||
      !ParseInt(s.substr(11, 2), h) || !ParseInt(s.substr(14, 2), mi) ||
      !ParseInt(s.substr(17, 2), sec)) {
    return std::string(s);
  }
  std::string_view zone = s.substr(19);
  if (!zone.empty() && zone[0] == '.') {
    std::size_t i = 1;
    while (i < zone.size() && zone[i] >= '0' && zone[i] <= '9') ++i;
    zone.remove_prefix(i);
  }
  int offset_minutes = 0;
  if (zone == "Z" || zone == "z") {
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int oh, om;
    if (!ParseInt(zone.substr(1, 2), oh) || !ParseInt(zone.substr(4, 2), om)) {
      return std::string(s);
    }
    offset_minutes = (oh * 60 + om) * (zone[0] == '+' ? 1 : -1);
  } else {
    return std::string(s);
  }
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::string(s);
  sys_seconds t = sys_days(ymd) + hours(h) + minutes(mi) + seconds(sec) - minutes(offset_minutes);
  sys_days day_point = floor<days>(t);
  year_month_day utc{day_point};
  hh_mm_ss tod{t - day_point};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%02u %s %02d %02d:%02d UTC", unsigned(utc.day()),
                kMonths[unsigned(utc.month()) - 1], int(utc.year()) % 100,
                static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()));
  return buf;
}

}  // namespace coffer::cli
