#include "audit/filter.h"

#include <cctype>
#include <vector>

namespace coffer::audit {
namespace {

enum class Field { kMountType, kMountPoint, kPath, kOperation, kNamespace };
enum class Op { kEq, kNe, kMatches };

class Compare final : public Filter {
 public:
  Compare(Field field, Op op, std::string value)
      : field_(field), op_(op), value_(std::move(value)) {}
  bool Matches(const FilterInput& in) const override {
    std::string_view v;
    switch (field_) {
      case Field::kMountType:
        v = in.mount_type;
        break;
      case Field::kMountPoint:
        v = in.mount_point;
        break;
      case Field::kPath:
        v = in.path;
        break;
      case Field::kOperation:
        v = in.operation;
        break;
      case Field::kNamespace:
        v = "root";
        break;
    }
    switch (op_) {
      case Op::kEq:
        return v == value_;
      case Op::kNe:
        return v != value_;
      case Op::kMatches:
        return GlobMatch(value_, v);
    }
    return false;
  }

 private:
  Field field_;
  Op op_;
  std::string value_;
};

class Not final : public Filter {
 public:
  explicit Not(std::shared_ptr<const Filter> inner) : inner_(std::move(inner)) {}
  bool Matches(const FilterInput& in) const override { return !inner_->Matches(in); }

 private:
  std::shared_ptr<const Filter> inner_;
};

class Both final : public Filter {
 public:
  Both(std::shared_ptr<const Filter> a, std::shared_ptr<const Filter> b, bool any)
      : a_(std::move(a)), b_(std::move(b)), any_(any) {}
  bool Matches(const FilterInput& in) const override {
    return any_ ? (a_->Matches(in) || b_->Matches(in)) : (a_->Matches(in) && b_->Matches(in));
  }

 private:
  std::shared_ptr<const Filter> a_, b_;
  bool any_;
};

struct Token {
  enum Kind { kWord, kString, kOp, kLParen, kRParen, kEnd } kind;
  std::string text;
  std::size_t pos;
};

Result<std::vector<Token>> Lex(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '(' || c == ')') {
      out.push_back({c == '(' ? Token::kLParen : Token::kRParen, std::string(1, c), i});
      ++i;
    } else if (c == '"') {
      std::string v;
      std::size_t start = i++;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        v.push_back(s[i++]);
      }
      if (i >= s.size()) {
        return Err(InvalidArgument("filter: unterminated string at " + std::to_string(start)));
      }
      ++i;
      out.push_back({Token::kString, std::move(v), start});
    } else if ((c == '=' || c == '!') && i + 1 < s.size() && s[i + 1] == '=') {
      out.push_back({Token::kOp, std::string(s.substr(i, 2)), i});
      i += 2;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t start = i;
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) ++i;
      out.push_back({Token::kWord, std::string(s.substr(start, i - start)), start});
    } else {
      return Err(InvalidArgument("filter: unexpected character at " + std::to_string(i)));
    }
  }
  out.push_back({Token::kEnd, "", s.size()});
  return out;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  Result<std::shared_ptr<const Filter>> Expr() {
    ASSIGN_OR_RETURN(auto left, Term());
    while (IsWord("or")) {
      ++i_;
      ASSIGN_OR_RETURN(auto right, Term());
      left = std::make_shared<Both>(left, right, true);
    }
    return left;
  }
  bool AtEnd() const { return t_[i_].kind == Token::kEnd; }
  std::size_t Pos() const { return t_[i_].pos; }

 private:
  bool IsWord(std::string_view w) const { return t_[i_].kind == Token::kWord && t_[i_].text == w; }
  Status Expected(std::string_view what) const {
    return InvalidArgument("filter: expected " + std::string(what) + " at " +
                           std::to_string(t_[i_].pos));
  }

  Result<std::shared_ptr<const Filter>> Term() {
    ASSIGN_OR_RETURN(auto left, Factor());
    while (IsWord("and")) {
      ++i_;
      ASSIGN_OR_RETURN(auto right, Factor());
      left = std::make_shared<Both>(left, right, false);
    }
    return left;
  }

  Result<std::shared_ptr<const Filter>> Factor() {
    if (IsWord("not")) {
      ++i_;
      ASSIGN_OR_RETURN(auto inner, Factor());
      return std::shared_ptr<const Filter>(std::make_shared<Not>(inner));
    }
    if (t_[i_].kind == Token::kLParen) {
      ++i_;
      ASSIGN_OR_RETURN(auto inner, Expr());
      if (t_[i_].kind != Token::kRParen) return Err(Expected("')'"));
      ++i_;
      return inner;
    }
    if (t_[i_].kind != Token::kWord) return Err(Expected("a field"));
    Field field;
    const std::string& name = t_[i_].text;
    if (name == "mount_type") {
      field = Field::kMountType;
    } else if (name == "mount_point") {
      field = Field::kMountPoint;
    } else if (name == "path") {
      field = Field::kPath;
    } else if (name == "operation") {
      field = Field::kOperation;
    } else if (name == "namespace") {
      field = Field::kNamespace;
    } else {
      return Err(InvalidArgument("filter: unknown field \"" + name +
                                 "\" (mount_type, mount_point, path, operation, namespace)"));
    }
    ++i_;
    Op op;
    if (t_[i_].kind == Token::kOp) {
      op = t_[i_].text == "==" ? Op::kEq : Op::kNe;
    } else if (IsWord("matches")) {
      op = Op::kMatches;
    } else {
      return Err(Expected("==, != or matches"));
    }
    ++i_;
    if (t_[i_].kind != Token::kString) return Err(Expected("a quoted value"));
    std::string value = t_[i_].text;
    ++i_;
    return std::shared_ptr<const Filter>(std::make_shared<Compare>(field, op, std::move(value)));
  }

  std::vector<Token> t_;
  std::size_t i_ = 0;
};

}  // namespace

Result<std::shared_ptr<const Filter>> Filter::Parse(std::string_view text) {
  ASSIGN_OR_RETURN(auto tokens, Lex(text));
  Parser parser(std::move(tokens));
  ASSIGN_OR_RETURN(auto f, parser.Expr());
  if (!parser.AtEnd()) {
    return Err(InvalidArgument("filter: unexpected text at " + std::to_string(parser.Pos())));
  }
  return f;
}

}  // namespace coffer::audit
