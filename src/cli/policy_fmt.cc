#include "cli/policy_fmt.h"

#include <cstdio>
#include <vector>

#include "cli/hcl_layout.h"
#include "common/encoding.h"
#include "hcl/hcl.h"

namespace coffer::cli {
namespace {

using nlohmann::json;

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
  return (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_';
}

std::string Value(const json& v, int indent);

std::string ObjectLiteral(const json& obj, int indent) {
  if (obj.empty()) return "{}";
  // No alignment here: FormatHclKeepingLayout aligns the result.
  std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  std::string out = "{\n";
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    out += pad + Quote(it.key()) + " = " + Value(*it, indent + 2) + "\n";
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
  std::string blocks;
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& key = it.key();
    std::string name = IsIdentifier(key) ? key : Quote(key);
    if (indent == 0 && key == "path" && it->is_object()) {
      if (!blocks.empty()) blocks += "\n";
      blocks += LabeledBlocks(name, *it, indent);
      continue;
    }
    attrs += pad + name + " = " + Value(*it, indent) + "\n";
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
  const json& path = doc.json().contains("path") ? doc.json()["path"] : json();
  const Status not_blocks = InvalidArgument("\"path\" must be blocks: path \"PATTERN\" { ... }");
  if (!path.is_null() && !path.is_object()) return Err(not_blocks);
  for (const json& bodies : path) {  // each pattern's body, or its repeats
    if (bodies.is_object()) continue;
    if (!bodies.is_array()) return Err(not_blocks);
    for (const json& body : bodies) {
      if (!body.is_object()) return Err(not_blocks);
    }
  }
  // JSON has no comments or order to keep: it is printed as HCL in a sorted
  // order first, then laid out as any HCL.
  ASSIGN_OR_RETURN(std::string out, FormatHclKeepingLayout(hcl::IsJson(text) ? Body(doc.json(), 0)
                                                                             : std::string(text)));
  // A formatter must never change what a policy says: the result has to
  // parse to the same tree, or the file is left as it is.
  Result<hcl::Document> again = hcl::Parse(out, options);
  if (!again || again->json() != doc.json()) {
    // JSON can hold what HCL cannot write back the same (an integer beyond
    // 64-bit signed ones, for instance); HCL in, HCL out must always match.
    if (hcl::IsJson(text)) {
      return Err(InvalidArgument(
          "the policy holds a value that HCL cannot write the same way; keep it as JSON"));
    }
    return Err(Internal("formatting would change the policy; the file was left as it is"));
  }
  return out;
}

}  // namespace coffer::cli
