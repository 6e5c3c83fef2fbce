#include "cli/data_args.h"

#include <fstream>
#include <iterator>

#include "common/json_numbers.h"
#include "common/secret_bytes.h"

namespace coffer::cli {
namespace {

struct Builder {
  std::istream* in;
  bool stdin_used = false;
  Json result = Json::object();

  Result<std::string> ReadStdin() {
    if (in == nullptr) return Err(InvalidArgument("stdin is not supported"));
    if (stdin_used) return Err(InvalidArgument("stdin already consumed"));
    stdin_used = true;
    return std::string(std::istreambuf_iterator<char>(*in), std::istreambuf_iterator<char>());
  }

  static Result<std::string> ReadFile(const std::string& name) {
    std::ifstream f(name, std::ios::binary);
    if (!f) return Err(InvalidArgument("error reading file \"" + name + "\""));
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (f.bad()) return Err(InvalidArgument("error reading file \"" + name + "\""));
    return s;
  }

  Status MergeJson(std::string text, const std::string& source) {
    // Numbers are sent as written (common/json_numbers.h).
    auto kept = ParseJsonNumbers<Json>(text, kKeepNumberText);
    WipeString(text);
    Json parsed = kept ? std::move(kept->value) : Json(Json::value_t::discarded);
    if (parsed.is_discarded() || !parsed.is_object()) {
      return InvalidArgument("invalid JSON object in " + source);
    }
    for (auto it = parsed.begin(); it != parsed.end(); ++it) result[it.key()] = it.value();
    return Status::Ok();
  }

  void Add(const std::string& key, std::string value) {
    auto it = result.find(key);
    if (it == result.end()) {
      result[key] = std::move(value);
    } else if (it->is_array()) {
      it->push_back(std::move(value));
    } else {
      Json list = Json::array({*it, std::move(value)});
      *it = std::move(list);
    }
  }

  Status AddArg(const std::string& raw) {
    if (raw.empty()) return Status::Ok();
    std::size_t eq = raw.find('=');
    if (eq == std::string::npos) {
      if (raw == "-") {
        ASSIGN_OR_RETURN(std::string text, ReadStdin());
        return MergeJson(std::move(text), "stdin");
      }
      if (raw[0] == '@') {
        ASSIGN_OR_RETURN(std::string text, ReadFile(raw.substr(1)));
        return MergeJson(std::move(text), "\"" + raw.substr(1) + "\"");
      }
      return InvalidArgument("format must be key=value");
    }
    std::string key = raw.substr(0, eq);
    std::string value = raw.substr(eq + 1);
    if (!value.empty()) {
      if (value[0] == '@') {
        ASSIGN_OR_RETURN(std::string contents, ReadFile(value.substr(1)));
        value = std::move(contents);
      } else if (value.size() > 1 && value[0] == '\\' && value[1] == '@') {
        value.erase(0, 1);
      } else if (value == "-") {
        ASSIGN_OR_RETURN(std::string contents, ReadStdin());
        value = std::move(contents);
      }
    }
    Add(key, std::move(value));
    return Status::Ok();
  }
};

}  // namespace

Result<Json> ParseDataArgs(const std::vector<std::string>& args, std::istream* in) {
  Builder b{in};
  for (const std::string& arg : args) {
    Status s = b.AddArg(arg);
    if (!s.ok()) return Err(s);
  }
  return std::move(b.result);
}

}  // namespace coffer::cli
