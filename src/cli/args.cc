#include "cli/args.h"

#include <cctype>
#include <string_view>

namespace coffer::cli {
namespace {

bool IsAlpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
}

bool IsSingleDashWordFlag(std::string_view arg) {
  if (arg.size() < 3 || arg[0] != '-' || arg[1] == '-') return false;
  std::string_view name = arg.substr(
      1, arg.find('=') == std::string_view::npos ? std::string_view::npos : arg.find('=') - 1);
  if (name.size() < 2 || !IsAlpha(name[0])) return false;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> NormalizeArgs(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  out.reserve(args.size());
  bool passthrough = false;
  for (const std::string& arg : args) {
    if (passthrough) {
      out.push_back(arg);
      continue;
    }
    if (arg == "--") {
      passthrough = true;
      out.push_back(arg);
      continue;
    }
    out.push_back(IsSingleDashWordFlag(arg) ? "-" + arg : arg);
  }
  return out;
}

}  // namespace coffer::cli
