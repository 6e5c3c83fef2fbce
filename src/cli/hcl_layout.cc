// FormatHclKeepingLayout: a lexer of HCL 1 that keeps comments and line
// numbers, a parser into a tree of bodies, items, values and the comments
// around them, and a printer. Hand-written for the reason hcl/ is: no Debian
// package formats HCL (HashiCorp's printer is Go only), and hcl::Parse drops
// comments and order by design (its tree is JSON).
#include "cli/hcl_layout.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "hcl/hcl.h"

namespace coffer::cli {
namespace {

enum class Kind { kWord, kString, kHeredoc, kPunct, kComment };

struct Token {
  Kind kind;
  std::string text;
  int line = 0;      // where it starts
  int end_line = 0;  // where it ends (heredocs and /* */ comments span lines)
};

bool EndsWord(std::string_view text, std::size_t i) {
  const char c = text[i];
  if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"' || c == '#') return true;
  if (c == '{' || c == '}' || c == '[' || c == ']' || c == '=' || c == ',' || c == ':') return true;
  return c == '/' && i + 1 < text.size() && (text[i + 1] == '/' || text[i + 1] == '*');
}

int Lines(std::string_view s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

Result<std::vector<Token>> Lex(std::string_view text) {
  std::vector<Token> out;
  int line = 1;
  std::size_t i = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;  // a byte order mark goes
  const std::size_t n = text.size();
  auto push = [&](Kind kind, std::size_t from, std::size_t to) {
    std::string_view t = text.substr(from, to - from);
    out.push_back({kind, std::string(t), line, line + Lines(t)});
    line += Lines(t);
  };
  while (i < n) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
    } else if (c == '#' || (c == '/' && i + 1 < n && text[i + 1] == '/')) {
      std::size_t end = text.find('\n', i);
      if (end == std::string_view::npos) end = n;
      std::size_t last = end;
      while (last > i &&
             (text[last - 1] == ' ' || text[last - 1] == '\t' || text[last - 1] == '\r')) {
        --last;
      }
      push(Kind::kComment, i, last);
      i = end;
    } else if (c == '/' && i + 1 < n && text[i + 1] == '*') {
      const std::size_t end = text.find("*/", i + 2);
      if (end == std::string_view::npos) return Err(InvalidArgument("unterminated /* comment"));
      push(Kind::kComment, i, end + 2);
      i = end + 2;
    } else if (c == '"') {
      std::size_t j = i + 1;
      while (j < n && text[j] != '"') {
        if (text[j] == '$' && j + 1 < n && text[j + 1] == '{') {
          j = std::min(hcl::InterpolationEnd(text, j), n);  // its quotes do not end the string
        } else {
          j += text[j] == '\\' ? 2 : 1;
        }
      }
      if (j >= n) return Err(InvalidArgument("unterminated string"));
      push(Kind::kString, i, j + 1);
      i = j + 1;
    } else if (c == '<' && i + 1 < n && text[i + 1] == '<') {
      // <<MARKER or <<-MARKER, then lines up to the one that reads MARKER.
      std::size_t j = i + 2;
      const bool indented = j < n && text[j] == '-';
      if (indented) ++j;
      const std::size_t marker_start = j;
      while (j < n && !EndsWord(text, j)) ++j;
      const std::string_view marker = text.substr(marker_start, j - marker_start);
      std::size_t at = text.find('\n', j);
      while (true) {
        if (at == std::string_view::npos || marker.empty()) {
          return Err(InvalidArgument("unterminated heredoc"));
        }
        const std::size_t start = at + 1;
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = n;
        std::string_view l = text.substr(start, end - start);
        if (l.ends_with('\r')) l.remove_suffix(1);
        if (indented) l.remove_prefix(std::min(l.size(), l.find_first_not_of(" \t")));
        if (l == marker) {
          push(Kind::kHeredoc, i, end);
          i = end;
          break;
        }
        at = end == n ? std::string_view::npos : end;
      }
    } else if (c == '{' || c == '}' || c == '[' || c == ']' || c == '=' || c == ',' || c == ':') {
      push(Kind::kPunct, i, i + 1);
      ++i;
    } else {
      std::size_t j = i;
      while (j < n && !EndsWord(text, j)) ++j;
      push(Kind::kWord, i, j);
      i = j;
    }
  }
  return out;
}

// ---- tree ------------------------------------------------------------------

struct Comment {
  std::string text;
  bool blank_before = false;  // a blank line above it in the source
};

struct Body;
struct Value;

struct Item {
  std::vector<Comment> lead;      // comments on lines of their own above it
  bool blank_before = false;      // a blank line between those and the item
  std::vector<std::string> keys;  // the key, then a block's labels
  bool is_block = false;
  std::unique_ptr<Value> value;  // an attribute's
  std::unique_ptr<Body> body;    // a block's
  std::string line_comment;      // after it, on its last line
  int last_line = 0;
};

struct Body {
  std::vector<Item> items;
  std::vector<Comment> trailing;  // after the last item
};

struct Element {
  std::vector<Comment> lead;
  std::unique_ptr<Value> value;
  std::string line_comment;
};

struct Value {
  enum class Shape { kScalar, kList, kObject } shape = Shape::kScalar;
  std::string text;               // a scalar as written
  std::vector<Element> elements;  // a list's
  std::vector<Comment> trailing;  // a list's, before `]`
  std::unique_ptr<Body> object;   // an object literal's
  int last_line = 0;
};

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<Body> Document() {
    ASSIGN_OR_RETURN(Body body, ParseBody(/*closing=*/false));
    if (pos_ != tokens_.size()) return Err(Unexpected());
    return body;
  }

 private:
  const Token* Peek() const { return pos_ < tokens_.size() ? &tokens_[pos_] : nullptr; }
  bool PeekPunct(char c) const {
    const Token* t = Peek();
    return t != nullptr && t->kind == Kind::kPunct && t->text[0] == c;
  }
  Status Unexpected() const {
    const Token* t = Peek();
    if (t == nullptr) return InvalidArgument("unexpected end of input");
    return InvalidArgument("line " + std::to_string(t->line) + ": unexpected " + t->text);
  }

  // Comments up to the next token that is not one. The first one goes to
  // `*line_comment` when it sits on `after_line` (the line the previous
  // thing ended on) and that slot is free.
  std::vector<Comment> Comments(int& last_line, std::string* line_comment) {
    std::vector<Comment> out;
    while (const Token* t = Peek()) {
      if (t->kind != Kind::kComment) break;
      if (line_comment != nullptr && line_comment->empty() && out.empty() && t->line == last_line &&
          last_line > 0) {
        *line_comment = t->text;
      } else {
        out.push_back({t->text, last_line > 0 && t->line > last_line + 1});
      }
      last_line = t->end_line;
      ++pos_;
    }
    return out;
  }

  Result<Body> ParseBody(bool closing) {
    Body body;
    int last_line = 0;
    std::string* line_comment = nullptr;
    std::vector<Comment> pending;
    while (true) {
      std::vector<Comment> comments = Comments(last_line, line_comment);
      pending.insert(pending.end(), comments.begin(), comments.end());
      if (Peek() == nullptr || (closing && PeekPunct('}'))) {
        body.trailing = std::move(pending);
        return body;
      }
      if (PeekPunct(',')) {        // between the items of an object literal
        last_line = Peek()->line;  // blank lines are counted from it
        ++pos_;
        continue;
      }
      Item item;
      item.lead = std::move(pending);
      pending.clear();
      const Token* first = Peek();
      item.blank_before = last_line > 0 && first->line > last_line + 1;
      while (const Token* t = Peek()) {
        if (t->kind != Kind::kWord && t->kind != Kind::kString) break;
        item.keys.push_back(t->text);
        ++pos_;
      }
      if (item.keys.empty()) return Err(Unexpected());
      if (PeekPunct('{')) {
        ++pos_;
        item.is_block = true;
        ASSIGN_OR_RETURN(Body inner, ParseBody(/*closing=*/true));
        item.body = std::make_unique<Body>(std::move(inner));
        if (!PeekPunct('}')) return Err(Unexpected());
        item.last_line = Peek()->line;
        ++pos_;
      } else if (item.keys.size() == 1 && (PeekPunct('=') || PeekPunct(':'))) {
        ++pos_;
        ASSIGN_OR_RETURN(Value v, ParseValue());
        item.last_line = v.last_line;
        item.value = std::make_unique<Value>(std::move(v));
      } else {
        return Err(Unexpected());
      }
      last_line = item.last_line;
      body.items.push_back(std::move(item));
      line_comment = &body.items.back().line_comment;
    }
  }

  Result<Value> ParseValue() {
    const Token* t = Peek();
    if (t == nullptr) return Err(Unexpected());
    Value v;
    if (t->kind == Kind::kWord || t->kind == Kind::kString || t->kind == Kind::kHeredoc) {
      v.text = t->text;
      v.last_line = t->end_line;
      ++pos_;
      return v;
    }
    if (PeekPunct('{')) {
      ++pos_;
      v.shape = Value::Shape::kObject;
      ASSIGN_OR_RETURN(Body inner, ParseBody(/*closing=*/true));
      v.object = std::make_unique<Body>(std::move(inner));
      if (!PeekPunct('}')) return Err(Unexpected());
      v.last_line = Peek()->line;
      ++pos_;
      return v;
    }
    if (!PeekPunct('[')) return Err(Unexpected());
    v.shape = Value::Shape::kList;
    int last_line = t->line;
    ++pos_;
    std::string* line_comment = nullptr;
    std::vector<Comment> pending;  // comments on lines of their own, for what follows
    bool comma_due = false;        // an element was read and no comma yet
    while (true) {
      std::vector<Comment> comments = Comments(last_line, line_comment);
      pending.insert(pending.end(), comments.begin(), comments.end());
      if (PeekPunct(']')) {
        v.trailing = std::move(pending);
        v.last_line = Peek()->line;
        ++pos_;
        return v;
      }
      if (PeekPunct(',') && comma_due) {
        last_line = Peek()->line;  // blank lines are counted from it (it may follow a heredoc)
        ++pos_;
        comma_due = false;
        continue;
      }
      if (comma_due) return Err(Unexpected());
      Element e;
      e.lead = std::move(pending);
      pending.clear();
      ASSIGN_OR_RETURN(Value inner, ParseValue());
      last_line = inner.last_line;
      e.value = std::make_unique<Value>(std::move(inner));
      v.elements.push_back(std::move(e));
      line_comment = &v.elements.back().line_comment;
      comma_due = true;
    }
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
};

// ---- printing ----------------------------------------------------------------

bool OneLine(const Value& v) {
  switch (v.shape) {
    case Value::Shape::kScalar:
      return v.text.find('\n') == std::string::npos;
    case Value::Shape::kObject:
      return v.object->items.empty() && v.object->trailing.empty();
    case Value::Shape::kList:
      if (!v.trailing.empty()) return false;
      for (const Element& e : v.elements) {
        if (!e.lead.empty() || !e.line_comment.empty() || !OneLine(*e.value) ||
            e.value->shape == Value::Shape::kObject) {
          return false;
        }
      }
      return true;
  }
  return true;
}

bool OneLine(const Item& item) { return !item.is_block && OneLine(*item.value); }

std::string Pad(int indent) { return std::string(static_cast<std::size_t>(indent), ' '); }

std::string PrintBody(const Body& body, int indent, bool top);

void PrintComments(std::string& out, const std::vector<Comment>& comments, int indent,
                   bool first_in_body) {
  for (std::size_t i = 0; i < comments.size(); ++i) {
    if (comments[i].blank_before && !(first_in_body && i == 0)) out += "\n";
    out += Pad(indent) + comments[i].text + "\n";
  }
}

std::string PrintValue(const Value& v, int indent) {
  switch (v.shape) {
    case Value::Shape::kScalar:
      return v.text;
    case Value::Shape::kObject:
      if (OneLine(v)) return "{}";
      return "{\n" + PrintBody(*v.object, indent + 2, false) + Pad(indent) + "}";
    case Value::Shape::kList:
      break;
  }
  if (OneLine(v)) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.elements.size(); ++i) {
      if (i > 0) out += ", ";
      out += PrintValue(*v.elements[i].value, indent);
    }
    return out + "]";
  }
  std::string out = "[\n";
  for (const Element& e : v.elements) {
    PrintComments(out, e.lead, indent + 2, &e == &v.elements.front());
    out += Pad(indent + 2) + PrintValue(*e.value, indent + 2);
    // A heredoc ends at a line that holds only its marker: its comma (when
    // another element follows) goes on a line of its own, with the comment
    // that followed the comma; after the last element that comment keeps a
    // line of its own.
    if (e.value->shape == Value::Shape::kScalar && e.value->text.starts_with("<<")) {
      out += "\n";
      const std::string comment = e.line_comment.empty() ? "" : " " + e.line_comment;
      if (&e != &v.elements.back()) {
        out += Pad(indent + 2) + "," + comment + "\n";
      } else if (!e.line_comment.empty()) {
        out += Pad(indent + 2) + e.line_comment + "\n";
      }
      continue;
    }
    out += ",";
    if (!e.line_comment.empty()) out += " " + e.line_comment;
    out += "\n";
  }
  PrintComments(out, v.trailing, indent + 2, v.elements.empty());
  return out + Pad(indent) + "]";
}

std::string Joined(const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& k : keys) out += (out.empty() ? "" : " ") + k;
  return out;
}

std::string PrintBody(const Body& body, int indent, bool top) {
  std::string out;
  // The width of the keys of each run of one-line attributes, for aligning
  // their `=`: a run ends at a block, a multi-line value, a comment line or
  // a blank line.
  std::vector<std::size_t> width(body.items.size(), 0);
  for (std::size_t i = 0; i < body.items.size();) {
    std::size_t j = i;
    std::size_t w = 0;
    while (j < body.items.size() && OneLine(body.items[j]) &&
           (j == i || (body.items[j].lead.empty() && !body.items[j].blank_before))) {
      w = std::max(w, body.items[j].keys[0].size());
      ++j;
    }
    for (std::size_t k = i; k < j; ++k) width[k] = w;
    i = j == i ? i + 1 : j;
  }
  for (std::size_t i = 0; i < body.items.size(); ++i) {
    const Item& item = body.items[i];
    const bool first = i == 0;
    // At the top level a multi-line item gets a blank line on each side.
    const bool forced = top && !first && (!OneLine(item) || !OneLine(body.items[i - 1]));
    const bool source_blank = (!item.lead.empty() && item.lead.front().blank_before) ||
                              (item.lead.empty() && item.blank_before);
    if (!first && (forced || source_blank)) out += "\n";
    PrintComments(out, item.lead, indent, true);  // the first one's blank line is above
    if (!item.lead.empty() && item.blank_before) out += "\n";
    out += Pad(indent);
    if (item.is_block) {
      out += Joined(item.keys) + " ";
      const Body& inner = *item.body;
      out += inner.items.empty() && inner.trailing.empty()
                 ? "{}"
                 : "{\n" + PrintBody(inner, indent + 2, false) + Pad(indent) + "}";
    } else {
      const std::string& key = item.keys[0];
      out += key + std::string(width[i] > key.size() ? width[i] - key.size() : 0, ' ') + " = " +
             PrintValue(*item.value, indent);
    }
    if (!item.line_comment.empty()) out += " " + item.line_comment;
    out += "\n";
  }
  PrintComments(out, body.trailing, indent, body.items.empty());
  return out;
}

}  // namespace

Result<std::string> FormatHclKeepingLayout(std::string_view text) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(text));
  ASSIGN_OR_RETURN(Body body, Parser(std::move(tokens)).Document());
  return PrintBody(body, 0, true);
}

}  // namespace coffer::cli
