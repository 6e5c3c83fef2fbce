// ParseYaml: libyaml's event parser turned into a JSON tree. libyaml (C, no
// exceptions, Debian's libyaml-dev) does the YAML syntax; this file only
// builds the tree and refuses what a project file has no use for (aliases,
// several documents), so that what the file says is what is read.
#include <yaml.h>

#include <vector>

#include "cli/run_config.h"

namespace coffer::cli {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxYamlBytes = 1 << 20;
constexpr std::size_t kMaxDepth = 64;

std::string Where(const yaml_mark_t& mark) {
  return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1);
}

// One open mapping or sequence; `key` is the pending key of a mapping.
struct Frame {
  json value;
  bool has_key = false;
  std::string key;
};

class Builder {
 public:
  // Adds a finished value to the innermost container (or makes it the root).
  Status Add(json value, const yaml_mark_t& mark) {
    if (stack_.empty()) {
      root_ = std::move(value);
      have_root_ = true;
      return Status::Ok();
    }
    Frame& top = stack_.back();
    if (top.value.is_array()) {
      top.value.push_back(std::move(value));
      return Status::Ok();
    }
    if (!top.has_key) {
      if (!value.is_string()) {
        return InvalidArgument(Where(mark) + ": a mapping key must be a plain string");
      }
      top.key = value.get<std::string>();
      if (top.value.contains(top.key)) {
        return InvalidArgument(Where(mark) + ": duplicate key \"" + top.key + "\"");
      }
      top.has_key = true;
      return Status::Ok();
    }
    top.value[top.key] = std::move(value);
    top.has_key = false;
    return Status::Ok();
  }

  Status Open(json container, const yaml_mark_t& mark) {
    if (stack_.size() >= kMaxDepth) return InvalidArgument(Where(mark) + ": nesting too deep");
    stack_.push_back({std::move(container), false, {}});
    return Status::Ok();
  }

  Status Close(const yaml_mark_t& mark) {
    json done = std::move(stack_.back().value);
    stack_.pop_back();
    return Add(std::move(done), mark);
  }

  bool have_root() const { return have_root_; }
  json TakeRoot() { return std::move(root_); }

 private:
  std::vector<Frame> stack_;
  json root_;
  bool have_root_ = false;
};

struct Parser {
  yaml_parser_t p;
  Parser() { yaml_parser_initialize(&p); }
  ~Parser() { yaml_parser_delete(&p); }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;
};

struct Event {
  yaml_event_t e{};
  bool valid = false;
  ~Event() {
    if (valid) yaml_event_delete(&e);
  }
};

}  // namespace

Result<json> ParseYaml(std::string_view text) {
  if (text.size() > kMaxYamlBytes) return Err(TooLarge("YAML file larger than 1 MiB"));
  Parser parser;
  yaml_parser_set_input_string(&parser.p, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  Builder builder;
  int documents = 0;
  while (true) {
    Event ev;
    if (yaml_parser_parse(&parser.p, &ev.e) == 0) {
      std::string what = parser.p.problem != nullptr ? parser.p.problem : "syntax error";
      return Err(InvalidArgument(Where(parser.p.problem_mark) + ": " + what));
    }
    ev.valid = true;
    const yaml_mark_t& mark = ev.e.start_mark;
    switch (ev.e.type) {
      case YAML_STREAM_START_EVENT:
      case YAML_DOCUMENT_END_EVENT:
        break;
      case YAML_STREAM_END_EVENT:
        return builder.have_root() ? builder.TakeRoot() : json();
      case YAML_DOCUMENT_START_EVENT:
        if (++documents > 1) {
          return Err(InvalidArgument(Where(mark) + ": only one YAML document is allowed"));
        }
        break;
      case YAML_ALIAS_EVENT:
        return Err(InvalidArgument(Where(mark) + ": anchors and aliases are not supported"));
      case YAML_SCALAR_EVENT: {
        if (ev.e.data.scalar.anchor != nullptr) {
          return Err(InvalidArgument(Where(mark) + ": anchors and aliases are not supported"));
        }
        const char* value = reinterpret_cast<const char*>(ev.e.data.scalar.value);
        json scalar = std::string(value, ev.e.data.scalar.length);
        // An empty plain scalar (`key:` with nothing after it) is null.
        if (ev.e.data.scalar.length == 0 && ev.e.data.scalar.plain_implicit != 0) scalar = json();
        TRY(builder.Add(std::move(scalar), mark));
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
        TRY(builder.Open(json::array(), mark));
        break;
      case YAML_MAPPING_START_EVENT:
        TRY(builder.Open(json::object(), mark));
        break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        TRY(builder.Close(mark));
        break;
      default:
        break;
    }
  }
}

}  // namespace coffer::cli
