#include "common/log.h"

#include <string>

namespace coffer {

bool SetLogLevel(std::string_view level) {
  std::string name(level);
  if (name == "warning") name = "warn";
  auto parsed = spdlog::level::from_str(name);
  // from_str answers "off" for names it does not know.
  if (parsed == spdlog::level::off && name != "off") return false;
  spdlog::set_level(parsed);
  return true;
}

}  // namespace coffer
