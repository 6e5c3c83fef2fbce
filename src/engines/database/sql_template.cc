#include "engines/database/sql_template.h"

namespace coffer::engines::database {
namespace {

bool IsIdentifierVariable(std::string_view name) { return name == "name" || name == "username"; }

bool IsKnownVariable(std::string_view name) {
  return name == "name" || name == "username" || name == "password" || name == "expiration";
}

// At text[i] == '{' and text[i+1] == '{': the variable name and the index
// after "}}", or kInvalidArgument.
Result<std::pair<std::string, std::size_t>> ReadPlaceholder(std::string_view text, std::size_t i) {
  std::size_t close = text.find("}}", i + 2);
  if (close == std::string_view::npos) return Err(InvalidArgument("unterminated {{ in statement"));
  std::string name(text.substr(i + 2, close - i - 2));
  // Tolerate spaces: {{ name }}.
  while (!name.empty() && name.front() == ' ') name.erase(0, 1);
  while (!name.empty() && name.back() == ' ') name.pop_back();
  if (!IsKnownVariable(name)) {
    return Err(InvalidArgument("unknown template variable in statement"));
  }
  return std::make_pair(name, close + 2);
}

Result<std::string> Quote(const std::string& name, bool identifier, const TemplateValues& values,
                          const Quoter& quoter) {
  auto it = values.find(name);
  if (it == values.end()) {
    return Err(InvalidArgument("template variable {{" + name + "}} has no value here"));
  }
  return identifier ? quoter.Identifier(it->second) : quoter.Literal(it->second);
}

// The dollar-quote tag starting at text[i] ('$'): "$tag$" or "$$", or "".
std::string_view DollarTag(std::string_view text, std::size_t i) {
  std::size_t j = i + 1;
  while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_')) {
    ++j;
  }
  if (j < text.size() && text[j] == '$') {
    // "$1" is a parameter, not a tag.
    if (j > i + 1 && std::isdigit(static_cast<unsigned char>(text[i + 1]))) return {};
    return text.substr(i, j - i + 1);
  }
  return {};
}

}  // namespace

Result<std::string> RenderStatement(std::string_view text, const TemplateValues& values,
                                    const Quoter& quoter) {
  std::string out;
  out.reserve(text.size() + 64);
  std::size_t i = 0;
  const std::size_t n = text.size();
  auto refuse_inside = [&](std::size_t from, std::size_t to) -> Status {
    if (text.substr(from, to - from).find("{{") != std::string_view::npos) {
      return InvalidArgument(
          "template variables may only stand alone or as a whole quoted token, not inside "
          "strings, dollar quotes or comments");
    }
    return Status::Ok();
  };
  while (i < n) {
    char c = text[i];
    if (c == '{' && i + 1 < n && text[i + 1] == '{') {
      ASSIGN_OR_RETURN(auto ph, ReadPlaceholder(text, i));
      ASSIGN_OR_RETURN(std::string q,
                       Quote(ph.first, IsIdentifierVariable(ph.first), values, quoter));
      out += q;
      i = ph.second;
      continue;
    }
    if (c == '\'' || c == '"') {
      // A quoted token that is exactly one placeholder: replaced whole.
      if (i + 2 < n && text[i + 1] == '{' && text[i + 2] == '{') {
        ASSIGN_OR_RETURN(auto ph, ReadPlaceholder(text, i + 1));
        if (ph.second < n && text[ph.second] == c) {
          ASSIGN_OR_RETURN(std::string q, Quote(ph.first, c == '"', values, quoter));
          out += q;
          i = ph.second + 1;
          continue;
        }
      }
      // Any other quoted token is copied as written (doubled quotes are
      // escapes; a backslash escapes in E'' strings).
      bool escape_string = c == '\'' && i > 0 && (text[i - 1] == 'E' || text[i - 1] == 'e');
      std::size_t j = i + 1;
      for (;;) {
        if (j >= n) return Err(InvalidArgument("unterminated quoted string in statement"));
        if (escape_string && text[j] == '\\') {
          j += 2;
          continue;
        }
        if (text[j] == c) {
          if (j + 1 < n && text[j + 1] == c) {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      TRY(refuse_inside(i, j));
      out.append(text.substr(i, j + 1 - i));
      i = j + 1;
      continue;
    }
    if (c == '$') {
      std::string_view tag = DollarTag(text, i);
      if (!tag.empty()) {
        std::size_t end = text.find(tag, i + tag.size());
        if (end == std::string_view::npos) {
          return Err(InvalidArgument("unterminated dollar-quoted string in statement"));
        }
        TRY(refuse_inside(i, end));
        out.append(text.substr(i, end + tag.size() - i));
        i = end + tag.size();
        continue;
      }
    }
    if (c == '-' && i + 1 < n && text[i + 1] == '-') {
      std::size_t end = text.find('\n', i);
      if (end == std::string_view::npos) end = n;
      TRY(refuse_inside(i, end));
      out.append(text.substr(i, end - i));
      i = end;
      continue;
    }
    if (c == '/' && i + 1 < n && text[i + 1] == '*') {
      std::size_t end = text.find("*/", i + 2);
      if (end == std::string_view::npos) return Err(InvalidArgument("unterminated comment"));
      TRY(refuse_inside(i, end));
      out.append(text.substr(i, end + 2 - i));
      i = end + 2;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

namespace {

class StandInQuoter : public Quoter {
 public:
  Result<std::string> Identifier(std::string_view value) const override {
    return "\"" + std::string(value) + "\"";
  }
  Result<std::string> Literal(std::string_view value) const override {
    return "'" + std::string(value) + "'";
  }
};

}  // namespace

Status CheckStatements(const std::vector<std::string>& statements, std::string_view field) {
  const TemplateValues values{
      {"name", "n"}, {"username", "n"}, {"password", "p"}, {"expiration", "e"}};
  const StandInQuoter quoter;
  for (std::size_t i = 0; i < statements.size(); ++i) {
    Result<std::string> rendered = RenderStatement(statements[i], values, quoter);
    if (!rendered) {
      return InvalidArgument(std::string(field) + "[" + std::to_string(i) +
                             "]: " + rendered.error().message());
    }
  }
  return Status::Ok();
}

}  // namespace coffer::engines::database
