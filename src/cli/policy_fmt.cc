#include "cli/policy_fmt.h"

#include <cstdio>
#include <vector>

#include "cli/command_util.h"
#include "common/encoding.h"
#include "hcl/hcl.h"

namespace coffer::cli {
namespace {

using nlohmann::json;

// True when `text` has a comment outside a quoted string. Heredoc bodies are
// not tracked, so a '#' inside one also counts (a conservative refusal).
bool HasComment(std::string_view text) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '#') {
      return true;
    } else if (c == '/' && i + 1 < text.size() && (text[i + 1] == '/' || text[i + 1] == '*')) {
      return true;
    }
  }
  return false;
}

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

bool IsIdentifier(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return !(s[0] >= '0' && s[0] <= '9');
}

std::string Value(const json& v, int indent);

std::string ObjectLiteral(const json& obj, int indent) {
  if (obj.empty()) return "{}";
  std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  std::size_t width = 0;
  for (auto it = obj.begin(); it != obj.end(); ++it)
    width = std::max(width, Quote(it.key()).size());
  std::string out = "{\n";
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    std::string key = Quote(it.key());
    out += pad + key + std::string(width - key.size(), ' ') + " = " + Value(*it, indent + 2) + "\n";
  }
  return out + std::string(static_cast<std::size_t>(indent), ' ') + "}";
}

std::string Value(const json& v, int indent) {
  if (v.is_string()) return Quote(v.get<std::string>());
  if (v.is_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out += ", ";
      out += Value(v[i], indent);
    }
    return out + "]";
  }
  if (v.is_object()) return ObjectLiteral(v, indent);
  return v.dump();
}

std::string Body(const json& body, int indent);

// `name "label" { ... }` for every label (and every repeat of one).
std::string LabeledBlocks(const std::string& name, const json& labels, int indent) {
  std::string pad(static_cast<std::size_t>(indent), ' ');
  std::string out;
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    std::vector<const json*> bodies;
    if (it->is_array()) {
      for (const json& b : *it) bodies.push_back(&b);
    } else {
      bodies.push_back(&*it);
    }
    for (const json* b : bodies) {
      if (!out.empty()) out += "\n";
      out += pad + name + " " + Quote(it.key()) + " {\n" + Body(*b, indent + 2) + pad + "}\n";
    }
  }
  return out;
}

std::string Body(const json& body, int indent) {
  std::string pad(static_cast<std::size_t>(indent), ' ');
  std::string attrs;
  std::size_t width = 0;
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (!(indent == 0 && it.key() == "path")) width = std::max(width, it.key().size());
  }
  std::string blocks;
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& key = it.key();
    std::string name = IsIdentifier(key) ? key : Quote(key);
    if (indent == 0 && key == "path" && it->is_object()) {
      if (!blocks.empty()) blocks += "\n";
      blocks += LabeledBlocks(name, *it, indent);
      continue;
    }
    attrs += pad + name + std::string(width - key.size(), ' ') + " = " + Value(*it, indent) + "\n";
  }
  if (attrs.empty()) return blocks;
  if (blocks.empty()) return attrs;
  return attrs + "\n" + blocks;
}

}  // namespace

Result<std::string> FormatPolicy(std::string_view text) {
  hcl::ParseOptions options;
  ASSIGN_OR_RETURN(hcl::Document doc, hcl::Parse(text, options));
  if (!doc.json().is_object()) return Err(InvalidArgument("a policy must be an object"));
  if (HasComment(text)) {
    return Err(InvalidArgument(
        "the policy has comments, which formatting would drop; remove them or format by hand"));
  }
  const json& path = doc.json().contains("path") ? doc.json()["path"] : json();
  if (!path.is_null() && !path.is_object()) {
    return Err(InvalidArgument("\"path\" must be blocks: path \"PATTERN\" { ... }"));
  }
  return Body(doc.json(), 0);
}

}  // namespace coffer::cli
