// Scanner and parser of the Go-template subset (see template.h). The text is
// first cut into text and action items (handling {{- -}} and comments), each
// action into tokens; a recursive descent then builds the tree.
#include <cctype>
#include <cstdlib>
#include <optional>

#include "common/encoding.h"
#include "common/go_template.h"
#include "common/go_template_internal.h"

namespace coffer::go_template {
namespace {

using internal::Arg;
using internal::Command;
using internal::Node;
using internal::Pipeline;

enum class Tok {
  kIdent,     // if, range, toJSON, ...
  kField,     // . or .a.b
  kVariable,  // $ or $x, with optional .fields
  kLiteral,   // string, number, true, false, nil
  kPipe,
  kLParen,
  kRParen,
  kDeclare,  // :=
  kAssign,   // =
  kComma,
};

struct Token {
  Tok kind;
  std::string text;
  std::vector<std::string> fields;
  Json literal;
};

struct Item {
  bool is_action = false;
  int line = 1;
  std::string text;           // text items
  std::vector<Token> tokens;  // action items
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

class Scanner {
 public:
  Scanner(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  Result<std::vector<Item>> Scan() {
    std::vector<Item> items;
    bool trim_left = false;
    while (pos_ < text_.size()) {
      std::size_t open = text_.find("{{", pos_);
      std::string_view chunk =
          text_.substr(pos_, open == std::string_view::npos ? std::string_view::npos : open - pos_);
      bool trim_right = open != std::string_view::npos && open + 3 < text_.size() &&
                        text_[open + 2] == '-' && IsSpace(text_[open + 3]);
      std::string_view kept = chunk;
      if (trim_left) {
        while (!kept.empty() && IsSpace(kept.front())) kept.remove_prefix(1);
      }
      if (trim_right) {
        while (!kept.empty() && IsSpace(kept.back())) kept.remove_suffix(1);
      }
      if (!kept.empty()) items.push_back(Item{false, line_, std::string(kept), {}});
      Advance(chunk.size());
      if (open == std::string_view::npos) break;
      Advance(trim_right ? 3 : 2);
      Item action{true, line_, {}, {}};
      ASSIGN_OR_RETURN(bool comment, ScanAction(action.tokens, trim_left));
      if (!comment) items.push_back(std::move(action));
    }
    return items;
  }

 private:
  Status Error(std::string_view what) const {
    return InvalidArgument(name_ + ":" + std::to_string(line_) + ": " + std::string(what));
  }

  void Advance(std::size_t n) {
    for (std::size_t i = 0; i < n && pos_ < text_.size(); ++i, ++pos_) {
      if (text_[pos_] == '\n') ++line_;
    }
  }

  // At "}}" or " -}}" (after whitespace): consumes it, sets *trim.
  bool AtClose(bool after_space, bool* trim) {
    if (text_.substr(pos_).starts_with("}}")) {
      Advance(2);
      *trim = false;
      return true;
    }
    if (after_space && text_.substr(pos_).starts_with("-}}")) {
      Advance(3);
      *trim = true;
      return true;
    }
    return false;
  }

  // Returns true for a comment (no tokens).
  Result<bool> ScanAction(std::vector<Token>& out, bool& trim_next) {
    std::size_t ws = pos_;
    while (pos_ < text_.size() && IsSpace(text_[pos_])) Advance(1);
    if (text_.substr(pos_).starts_with("/*")) {
      std::size_t end = text_.find("*/", pos_ + 2);
      if (end == std::string_view::npos) return Err(Error("unclosed comment"));
      Advance(end + 2 - pos_);
      std::size_t before = pos_;
      while (pos_ < text_.size() && IsSpace(text_[pos_])) Advance(1);
      if (!AtClose(pos_ > before, &trim_next)) return Err(Error("comment ends before closing }}"));
      return true;
    }
    bool after_space = pos_ > ws;
    while (true) {
      if (pos_ >= text_.size()) return Err(Error("unclosed action"));
      if (AtClose(after_space, &trim_next)) return false;
      char c = text_[pos_];
      if (IsSpace(c)) {
        Advance(1);
        after_space = true;
        continue;
      }
      after_space = false;
      TRY(ScanToken(out));
    }
  }

  std::vector<std::string> ScanFields() {
    std::vector<std::string> fields;
    while (pos_ < text_.size() && text_[pos_] == '.' && pos_ + 1 < text_.size() &&
           IsIdentChar(text_[pos_ + 1])) {
      Advance(1);
      std::size_t start = pos_;
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) Advance(1);
      fields.emplace_back(text_.substr(start, pos_ - start));
    }
    return fields;
  }

  Status ScanToken(std::vector<Token>& out) {
    char c = text_[pos_];
    switch (c) {
      case '|':
        Advance(1);
        out.push_back({Tok::kPipe, "|", {}, {}});
        return Status::Ok();
      case '(':
        Advance(1);
        out.push_back({Tok::kLParen, "(", {}, {}});
        return Status::Ok();
      case ')': {
        Advance(1);
        // (pipeline).Field: the fields ride on the closing paren.
        out.push_back({Tok::kRParen, ")", ScanFields(), {}});
        return Status::Ok();
      }
      case ',':
        Advance(1);
        out.push_back({Tok::kComma, ",", {}, {}});
        return Status::Ok();
      case '=':
        Advance(1);
        out.push_back({Tok::kAssign, "=", {}, {}});
        return Status::Ok();
      case ':':
        if (text_.substr(pos_).starts_with(":=")) {
          Advance(2);
          out.push_back({Tok::kDeclare, ":=", {}, {}});
          return Status::Ok();
        }
        return Error("unexpected \":\" in action");
      case '.': {
        if (pos_ + 1 < text_.size() && IsIdentChar(text_[pos_ + 1]) &&
            std::isdigit(static_cast<unsigned char>(text_[pos_ + 1])) == 0) {
          out.push_back({Tok::kField, ".", ScanFields(), {}});
        } else {
          Advance(1);
          out.push_back({Tok::kField, ".", {}, {}});
        }
        return Status::Ok();
      }
      case '$': {
        std::size_t start = pos_;
        Advance(1);
        while (pos_ < text_.size() && IsIdentChar(text_[pos_])) Advance(1);
        std::string name(text_.substr(start, pos_ - start));
        out.push_back({Tok::kVariable, name, ScanFields(), {}});
        return Status::Ok();
      }
      case '"':
        return ScanQuoted(out);
      case '`': {
        std::size_t end = text_.find('`', pos_ + 1);
        if (end == std::string_view::npos) return Error("unterminated raw string");
        std::string s(text_.substr(pos_ + 1, end - pos_ - 1));
        Advance(end + 1 - pos_);
        out.push_back({Tok::kLiteral, "", {}, Json(std::move(s))});
        return Status::Ok();
      }
      default:
        break;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '+') {
      return ScanNumber(out);
    }
    if (IsIdentChar(c)) {
      std::size_t start = pos_;
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) Advance(1);
      std::string word(text_.substr(start, pos_ - start));
      if (word == "true" || word == "false") {
        out.push_back({Tok::kLiteral, word, {}, Json(word == "true")});
      } else if (word == "nil") {
        out.push_back({Tok::kLiteral, word, {}, Json()});
      } else {
        out.push_back({Tok::kIdent, word, {}, {}});
      }
      return Status::Ok();
    }
    return Error(std::string("unexpected character '") + c + "' in action");
  }

  Status ScanNumber(std::vector<Token>& out) {
    std::size_t start = pos_;
    if (text_[pos_] == '-' || text_[pos_] == '+') Advance(1);
    while (pos_ < text_.size() && (IsIdentChar(text_[pos_]) || text_[pos_] == '.' ||
                                   ((text_[pos_] == '-' || text_[pos_] == '+') &&
                                    (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E')))) {
      Advance(1);
    }
    std::string s(text_.substr(start, pos_ - start));
    char* end = nullptr;
    long long i = std::strtoll(s.c_str(), &end, 0);
    if (!s.empty() && end == s.c_str() + s.size()) {
      out.push_back({Tok::kLiteral, s, {}, Json(i)});
      return Status::Ok();
    }
    double d = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) return Error("bad number syntax: " + s);
    out.push_back({Tok::kLiteral, s, {}, Json(d)});
    return Status::Ok();
  }

  Status ScanQuoted(std::vector<Token>& out) {
    std::string s;
    std::size_t i = pos_ + 1;
    while (true) {
      if (i >= text_.size() || text_[i] == '\n') return Error("unterminated quoted string");
      char c = text_[i];
      if (c == '"') break;
      if (c != '\\') {
        s += c;
        ++i;
        continue;
      }
      if (i + 1 >= text_.size()) return Error("unterminated quoted string");
      char e = text_[i + 1];
      i += 2;
      switch (e) {
        case 'n':
          s += '\n';
          break;
        case 't':
          s += '\t';
          break;
        case 'r':
          s += '\r';
          break;
        case 'a':
          s += '\a';
          break;
        case 'b':
          s += '\b';
          break;
        case 'f':
          s += '\f';
          break;
        case 'v':
          s += '\v';
          break;
        case '\\':
          s += '\\';
          break;
        case '"':
          s += '"';
          break;
        case '\'':
          s += '\'';
          break;
        case 'x':
        case 'u':
        case 'U': {
          std::size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (i + n > text_.size()) return Error("bad escape in quoted string");
          std::string hex(text_.substr(i, n));
          char* end = nullptr;
          unsigned long v = std::strtoul(hex.c_str(), &end, 16);
          if (end != hex.c_str() + n || v > 0x10FFFF) return Error("bad escape in quoted string");
          if (e == 'x') {
            s += static_cast<char>(v);
          } else {
            AppendUtf8(s, static_cast<std::uint32_t>(v));
          }
          i += n;
          break;
        }
        default:
          return Error(std::string("unknown escape sequence \\") + e);
      }
    }
    Advance(i + 1 - pos_);
    out.push_back({Tok::kLiteral, "", {}, Json(std::move(s))});
    return Status::Ok();
  }

  std::string_view text_;
  const std::string& name_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

class Parser {
 public:
  Parser(std::vector<Item> items, const std::string& name)
      : items_(std::move(items)), name_(name) {}

  Result<Node> ParseRoot() {
    Node root;
    root.kind = Node::Kind::kList;
    ASSIGN_OR_RETURN(std::optional<std::size_t> stop, ParseList(root.list));
    if (stop) return Err(ErrorAt(*stop, "unexpected {{" + items_[*stop].tokens[0].text + "}}"));
    return root;
  }

 private:
  Status ErrorAt(std::size_t item, std::string_view what) const {
    int line = item < items_.size() ? items_[item].line : (items_.empty() ? 1 : items_.back().line);
    return InvalidArgument(name_ + ":" + std::to_string(line) + ": " + std::string(what));
  }

  static bool IsKeyword(const Item& item, std::string_view word) {
    return item.is_action && !item.tokens.empty() && item.tokens[0].kind == Tok::kIdent &&
           item.tokens[0].text == word;
  }

  // Parses nodes until {{end}} or {{else ...}} (returned, not consumed
  // beyond) or the end of input (nullopt).
  Result<std::optional<std::size_t>> ParseList(std::vector<Node>& out) {
    while (next_ < items_.size()) {
      std::size_t at = next_;
      const Item& item = items_[at];
      if (!item.is_action) {
        out.push_back(Node{Node::Kind::kText, item.line, item.text, {}, {}, {}});
        ++next_;
        continue;
      }
      if (IsKeyword(item, "end") || IsKeyword(item, "else")) return std::optional<std::size_t>(at);
      ++next_;
      if (IsKeyword(item, "if") || IsKeyword(item, "with") || IsKeyword(item, "range")) {
        ASSIGN_OR_RETURN(Node n, ParseControl(at, 1));
        out.push_back(std::move(n));
        continue;
      }
      if (item.tokens.empty()) return Err(ErrorAt(at, "missing value for command"));
      const std::string& first = item.tokens[0].text;
      if (item.tokens[0].kind == Tok::kIdent &&
          (first == "define" || first == "template" || first == "block" || first == "break" ||
           first == "continue")) {
        return Err(ErrorAt(at, "{{" + first + "}} is not supported"));
      }
      Node n{Node::Kind::kAction, item.line, {}, {}, {}, {}};
      ASSIGN_OR_RETURN(n.pipe, ParsePipelineOf(at, 0, true));
      out.push_back(std::move(n));
    }
    return std::optional<std::size_t>();
  }

  // The control structure whose keyword is token `first - 1` of item `at`.
  Result<Node> ParseControl(std::size_t at, std::size_t first) {
    const Item& item = items_[at];
    const std::string& kw = item.tokens[first - 1].text;
    Node n;
    n.kind = kw == "if" ? Node::Kind::kIf : kw == "with" ? Node::Kind::kWith : Node::Kind::kRange;
    n.line = item.line;
    ASSIGN_OR_RETURN(n.pipe, ParsePipelineOf(at, first, kw == "range"));
    if (n.kind != Node::Kind::kRange && !n.pipe.decl.empty() && n.pipe.assign) {
      return Err(ErrorAt(at, "assignment not allowed in " + kw));
    }
    if (n.pipe.decl.size() > (n.kind == Node::Kind::kRange ? 2u : 1u)) {
      return Err(ErrorAt(at, "too many declarations in " + kw));
    }
    ASSIGN_OR_RETURN(std::optional<std::size_t> stop, ParseList(n.list));
    if (!stop) return Err(ErrorAt(items_.size(), "unexpected EOF: missing {{end}} for " + kw));
    ++next_;
    if (IsKeyword(items_[*stop], "else")) {
      const Item& els = items_[*stop];
      if (els.tokens.size() > 1) {
        if (els.tokens[1].kind != Tok::kIdent ||
            (els.tokens[1].text != "if" && els.tokens[1].text != "with")) {
          return Err(ErrorAt(*stop, "unexpected tokens after {{else}}"));
        }
        // {{else if X}}: a nested if that shares this structure's {{end}}.
        ASSIGN_OR_RETURN(Node nested, ParseControl(*stop, 2));
        n.else_list.push_back(std::move(nested));
        return n;
      }
      ASSIGN_OR_RETURN(std::optional<std::size_t> stop2, ParseList(n.else_list));
      if (!stop2 || !IsKeyword(items_[*stop2], "end")) {
        return Err(ErrorAt(stop2 ? *stop2 : items_.size(), "expected {{end}} for " + kw));
      }
      if (items_[*stop2].tokens.size() > 1)
        return Err(ErrorAt(*stop2, "unexpected tokens in {{end}}"));
      ++next_;
    } else if (items_[*stop].tokens.size() > 1) {
      return Err(ErrorAt(*stop, "unexpected tokens in {{end}}"));
    }
    return n;
  }

  Result<Pipeline> ParsePipelineOf(std::size_t at, std::size_t first, bool allow_decl) {
    const std::vector<Token>& toks = items_[at].tokens;
    std::size_t i = first;
    Pipeline p;
    // Declarations: $x :=, $x =, $k, $v :=
    std::size_t j = i;
    std::vector<std::string> vars;
    while (j < toks.size() && toks[j].kind == Tok::kVariable && toks[j].fields.empty()) {
      vars.push_back(toks[j].text);
      ++j;
      if (j < toks.size() && toks[j].kind == Tok::kComma) {
        ++j;
        continue;
      }
      break;
    }
    if (!vars.empty() && j < toks.size() &&
        (toks[j].kind == Tok::kDeclare || toks[j].kind == Tok::kAssign)) {
      if (!allow_decl && vars.size() > 1) return Err(ErrorAt(at, "too many declarations"));
      p.decl = vars;
      p.assign = toks[j].kind == Tok::kAssign;
      i = j + 1;
    }
    ASSIGN_OR_RETURN(std::size_t end, ParseCommands(at, toks, i, p));
    if (end != toks.size()) return Err(ErrorAt(at, "unexpected \"" + toks[end].text + "\""));
    if (p.commands.empty()) return Err(ErrorAt(at, "missing value for command"));
    return p;
  }

  // Parses commands from toks[i] up to the end or a ')'; returns that index.
  Result<std::size_t> ParseCommands(std::size_t at, const std::vector<Token>& toks, std::size_t i,
                                    Pipeline& p) {
    Command cmd;
    while (i < toks.size() && toks[i].kind != Tok::kRParen) {
      const Token& t = toks[i];
      if (t.kind == Tok::kPipe) {
        if (cmd.args.empty()) return Err(ErrorAt(at, "missing command before |"));
        p.commands.push_back(std::move(cmd));
        cmd = Command();
        ++i;
        continue;
      }
      Arg a;
      switch (t.kind) {
        case Tok::kField:
          a.kind = Arg::Kind::kField;
          a.fields = t.fields;
          break;
        case Tok::kVariable:
          a.kind = Arg::Kind::kVariable;
          a.name = t.text;
          a.fields = t.fields;
          break;
        case Tok::kLiteral:
          a.kind = Arg::Kind::kLiteral;
          a.literal = t.literal;
          break;
        case Tok::kIdent:
          if (t.text == "if" || t.text == "else" || t.text == "end" || t.text == "range" ||
              t.text == "with") {
            return Err(ErrorAt(at, "unexpected keyword " + t.text));
          }
          a.kind = Arg::Kind::kFunction;
          a.name = t.text;
          break;
        case Tok::kLParen: {
          a.kind = Arg::Kind::kPipeline;
          a.pipe = std::make_shared<Pipeline>();
          ASSIGN_OR_RETURN(std::size_t close, ParseCommands(at, toks, i + 1, *a.pipe));
          if (close >= toks.size()) return Err(ErrorAt(at, "unclosed left paren"));
          if (a.pipe->commands.empty()) return Err(ErrorAt(at, "missing value in ()"));
          a.fields = toks[close].fields;
          i = close;
          break;
        }
        default:
          return Err(ErrorAt(at, "unexpected \"" + t.text + "\""));
      }
      cmd.args.push_back(std::move(a));
      ++i;
    }
    if (!cmd.args.empty()) {
      p.commands.push_back(std::move(cmd));
    } else if (!p.commands.empty()) {
      return Err(ErrorAt(at, "missing command after |"));
    }
    return i;
  }

  std::vector<Item> items_;
  const std::string& name_;
  std::size_t next_ = 0;
};

}  // namespace

Result<Template> Template::Parse(std::string_view text, std::string name) {
  Scanner scanner(text, name);
  ASSIGN_OR_RETURN(std::vector<Item> items, scanner.Scan());
  Parser parser(std::move(items), name);
  ASSIGN_OR_RETURN(Node root, parser.ParseRoot());
  Template t;
  t.name_ = std::move(name);
  t.root_ = std::make_shared<const Node>(std::move(root));
  return t;
}

Result<std::string> Template::Render(const SecretFetcher& fetch,
                                     const RenderOptions& options) const {
  return internal::Execute(*root_, name_, fetch, options);
}

}  // namespace coffer::go_template
