#pragma once
// The parse tree of go_template::Template. Not part of the public API.

#include <memory>
#include <string>
#include <vector>

#include "common/go_template.h"

namespace coffer::go_template::internal {

struct Pipeline;

// One operand of a command.
struct Arg {
  enum class Kind { kField, kVariable, kLiteral, kFunction, kPipeline };
  Kind kind = Kind::kLiteral;
  std::string name;                 // variable ("$x", "$") or function name
  std::vector<std::string> fields;  // .a.b after the dot or the variable
  Json literal;                     // kLiteral
  std::shared_ptr<Pipeline> pipe;   // kPipeline: ( ... )
};

struct Command {
  std::vector<Arg> args;
};

struct Pipeline {
  std::vector<std::string> decl;  // "$x" or "$k", "$v"
  bool assign = false;            // `=` rather than `:=`
  std::vector<Command> commands;
};

struct Node {
  enum class Kind { kList, kText, kAction, kIf, kWith, kRange };
  Kind kind = Kind::kList;
  int line = 0;
  std::string text;  // kText
  Pipeline pipe;     // kAction, kIf, kWith, kRange
  std::vector<Node> list;
  std::vector<Node> else_list;
};

// Evaluates a parsed tree; see template.cc.
Result<std::string> Execute(const Node& root, const std::string& name, const SecretFetcher& fetch,
                            const RenderOptions& options);

}  // namespace coffer::go_template::internal
