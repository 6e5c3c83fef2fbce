// Evaluation of the Go-template subset: values are JSON, with a "missing"
// marker for map keys that do not exist (printed "<no value>", as Go does).
#include <algorithm>
#include <cctype>
#include <map>

#include "common/encoding.h"
#include "common/go_template_internal.h"
#include "common/json_numbers.h"
#include "common/secret_bytes.h"

namespace coffer::go_template::internal {
namespace {

struct Value {
  Json json;
  bool missing = false;
};

bool Truthy(const Value& v) {
  if (v.missing) return false;
  const Json& j = v.json;
  switch (j.type()) {
    case Json::value_t::null:
      return false;
    case Json::value_t::boolean:
      return j.get<bool>();
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return j.get<double>() != 0;
    case Json::value_t::string:
      return !j.get_ref<const std::string&>().empty();
    case Json::value_t::array:
    case Json::value_t::object:
      return !j.empty();
    case Json::value_t::binary:  // a number kept as written
      return IsNumberText(j) && NumberTextValue(j) != 0;
    default:
      return false;
  }
}

std::string_view TypeName(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return "nil";
    case Json::value_t::boolean:
      return "bool";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "map";
    default:
      return "number";
  }
}

// Go's fmt %v of a decoded JSON value.
void Print(std::string& out, const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      out += "<nil>";
      return;
    case Json::value_t::string:
      out += j.get_ref<const std::string&>();
      return;
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const Json& e : j) {
        if (!first) out += ' ';
        first = false;
        Print(out, e);
      }
      out += ']';
      return;
    }
    case Json::value_t::object: {
      out += "map[";
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out += ' ';
        first = false;
        out += it.key();
        out += ':';
        Print(out, it.value());
      }
      out += ']';
      return;
    }
    default:
      // A number kept as written prints as written, as Go prints a
      // json.Number.
      out += IsNumberText(j) ? std::string(NumberTextOf(j)) : j.dump();
  }
}

class Executor {
 public:
  Executor(const std::string& name, const SecretFetcher& fetch, const RenderOptions& options)
      : name_(name), fetch_(fetch), options_(options) {}

  Status Run(const Node& root, std::string& out) {
    vars_.push_back({"$", Value{options_.dot}});
    return Walk(root, Value{options_.dot}, out);
  }

 private:
  Status Error(std::string_view what) const {
    return InvalidArgument(name_ + ":" + std::to_string(line_) + ": " + std::string(what));
  }

  Status WalkList(const std::vector<Node>& list, const Value& dot, std::string& out) {
    std::size_t mark = vars_.size();
    for (const Node& n : list) TRY(Walk(n, dot, out));
    vars_.resize(mark);
    return Status::Ok();
  }

  Status Walk(const Node& n, const Value& dot, std::string& out) {
    line_ = n.line;
    switch (n.kind) {
      case Node::Kind::kList:
        return WalkList(n.list, dot, out);
      case Node::Kind::kText:
        out += n.text;
        return Status::Ok();
      case Node::Kind::kAction: {
        ASSIGN_OR_RETURN(Value v, EvalPipeline(n.pipe, dot));
        if (!n.pipe.decl.empty()) return Status::Ok();
        if (v.missing) {
          out += "<no value>";
        } else {
          Print(out, v.json);
        }
        return Status::Ok();
      }
      case Node::Kind::kIf:
      case Node::Kind::kWith: {
        std::size_t mark = vars_.size();
        ASSIGN_OR_RETURN(Value v, EvalPipeline(n.pipe, dot));
        Status s;
        if (Truthy(v)) {
          s = WalkList(n.list, n.kind == Node::Kind::kWith ? v : dot, out);
        } else {
          s = WalkList(n.else_list, dot, out);
        }
        vars_.resize(mark);
        return s;
      }
      case Node::Kind::kRange:
        return WalkRange(n, dot, out);
    }
    return Status::Ok();
  }

  Status WalkRange(const Node& n, const Value& dot, std::string& out) {
    Pipeline p = n.pipe;
    std::vector<std::string> decl = std::move(p.decl);
    p.decl.clear();
    ASSIGN_OR_RETURN(Value v, EvalPipeline(p, dot));
    const Json& j = v.json;
    if (!v.missing && !j.is_null() && !j.is_array() && !j.is_object()) {
      return Error("range can't iterate over " + std::string(TypeName(j)));
    }
    if (!Truthy(v)) return WalkList(n.else_list, dot, out);
    std::size_t index = 0;
    for (auto it = j.begin(); it != j.end(); ++it, ++index) {
      std::size_t mark = vars_.size();
      Value key{j.is_object() ? Json(it.key()) : Json(index)};
      Value elem{*it};
      if (decl.size() == 1) vars_.push_back({decl[0], elem});
      if (decl.size() == 2) {
        vars_.push_back({decl[0], key});
        vars_.push_back({decl[1], elem});
      }
      Status s = WalkList(n.list, elem, out);
      vars_.resize(mark);
      TRY(s);
      line_ = n.line;
    }
    return Status::Ok();
  }

  Result<Value> EvalPipeline(const Pipeline& p, const Value& dot) {
    Value result;
    bool have = false;
    for (const Command& c : p.commands) {
      ASSIGN_OR_RETURN(result, EvalCommand(c, dot, have ? &result : nullptr));
      have = true;
    }
    if (!p.decl.empty()) {
      if (p.assign) {
        Value* slot = FindVar(p.decl[0]);
        if (slot == nullptr) return Err(Error("undefined variable: " + p.decl[0]));
        *slot = result;
      } else {
        vars_.push_back({p.decl[0], result});
      }
    }
    return result;
  }

  Value* FindVar(const std::string& name) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      if (it->first == name) return &it->second;
    }
    return nullptr;
  }

  Result<Value> Fields(Value v, const std::vector<std::string>& fields) {
    for (const std::string& f : fields) {
      if (v.missing || v.json.is_null()) {
        return Err(Error("nil pointer evaluating field ." + f));
      }
      if (!v.json.is_object()) {
        return Err(
            Error("can't evaluate field " + f + " in type " + std::string(TypeName(v.json))));
      }
      auto it = v.json.find(f);
      if (it == v.json.end()) {
        if (options_.error_on_missing_key) {
          return Err(Error("map has no entry for key \"" + f + "\""));
        }
        v = Value{Json(), true};
      } else {
        Json next = *it;
        v = Value{std::move(next)};
      }
    }
    return v;
  }

  Result<Value> EvalArg(const Arg& a, const Value& dot) {
    switch (a.kind) {
      case Arg::Kind::kField:
        return Fields(dot, a.fields);
      case Arg::Kind::kVariable: {
        Value* v = FindVar(a.name);
        if (v == nullptr) return Err(Error("undefined variable: " + a.name));
        return Fields(*v, a.fields);
      }
      case Arg::Kind::kLiteral:
        return Value{a.literal};
      case Arg::Kind::kPipeline: {
        std::size_t mark = vars_.size();
        Result<Value> v = EvalPipeline(*a.pipe, dot);
        vars_.resize(mark);
        if (!v) return v;
        return Fields(std::move(*v), a.fields);
      }
      case Arg::Kind::kFunction:
        return Call(a.name, {});
    }
    return Value{};
  }

  Result<Value> EvalCommand(const Command& c, const Value& dot, const Value* piped) {
    const Arg& head = c.args[0];
    if (head.kind != Arg::Kind::kFunction) {
      if (c.args.size() > 1 || piped != nullptr) {
        return Err(Error("can't give argument to non-function"));
      }
      return EvalArg(head, dot);
    }
    std::vector<Value> args;
    for (std::size_t i = 1; i < c.args.size(); ++i) {
      ASSIGN_OR_RETURN(Value v, EvalArg(c.args[i], dot));
      args.push_back(std::move(v));
    }
    if (piped != nullptr) args.push_back(*piped);
    return Call(head.name, args);
  }

  Status Arity(const std::string& fn, const std::vector<Value>& args, std::size_t n) const {
    if (args.size() != n) {
      return Error("wrong number of args for " + fn + ": want " + std::to_string(n) + " got " +
                   std::to_string(args.size()));
    }
    return Status::Ok();
  }

  Result<std::string> StringArg(const std::string& fn, const Value& v) const {
    if (v.missing || !v.json.is_string()) {
      return Err(Error(fn + ": expected a string, got " +
                       std::string(v.missing ? "<no value>" : TypeName(v.json))));
    }
    return v.json.get<std::string>();
  }

  Result<Value> Call(const std::string& fn, const std::vector<Value>& args) {
    if (fn == "secret") return CallSecret(args);
    if (fn == "toJSON" || fn == "toJSONPretty") {
      TRY(Arity(fn, args, 1));
      const Value& v = args[0];
      return Value{Json(v.missing ? std::string("null")
                                  : DumpJsonWithNumberText(v.json, fn == "toJSON" ? -1 : 2))};
    }
    if (fn == "replace") {  // sprig's argument order, so that `S | replace OLD NEW` works
      TRY(Arity(fn, args, 3));
      ASSIGN_OR_RETURN(std::string from, StringArg(fn, args[0]));
      ASSIGN_OR_RETURN(std::string to, StringArg(fn, args[1]));
      ASSIGN_OR_RETURN(std::string s, StringArg(fn, args[2]));
      if (from.empty()) return Value{Json(std::move(s))};
      std::string out;
      for (std::size_t pos = 0;;) {
        const std::size_t hit = s.find(from, pos);
        out.append(s, pos, hit == std::string::npos ? std::string::npos : hit - pos);
        if (hit == std::string::npos) break;
        out += to;
        pos = hit + from.size();
      }
      return Value{Json(std::move(out))};
    }
    if (fn == "base64Encode" || fn == "base64Decode" || fn == "trimSpace" || fn == "toUpper" ||
        fn == "toLower" || fn == "uppercase" || fn == "lowercase") {
      TRY(Arity(fn, args, 1));
      ASSIGN_OR_RETURN(std::string s, StringArg(fn, args[0]));
      if (fn == "base64Encode") return Value{Json(Base64Encode(s))};
      if (fn == "base64Decode") {
        std::optional<SecretBytes> d = Base64Decode(s);
        WipeString(s);
        if (!d) return Err(Error("base64Decode: illegal base64 data"));
        return Value{Json(std::string(d->view()))};
      }
      if (fn == "trimSpace") {
        auto space = [](unsigned char c) { return std::isspace(c) != 0; };
        std::size_t b = 0, e = s.size();
        while (b < e && space(static_cast<unsigned char>(s[b]))) ++b;
        while (e > b && space(static_cast<unsigned char>(s[e - 1]))) --e;
        return Value{Json(s.substr(b, e - b))};
      }
      for (char& c : s) {
        const bool upper = fn == "toUpper" || fn == "uppercase";
        c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c))
                                    : std::tolower(static_cast<unsigned char>(c)));
      }
      return Value{Json(std::move(s))};
    }
    if (fn == "not") {
      TRY(Arity(fn, args, 1));
      return Value{Json(!Truthy(args[0]))};
    }
    if (fn == "and" || fn == "or") {
      if (args.empty()) return Err(Error(fn + ": at least one argument is needed"));
      for (const Value& v : args) {
        if (Truthy(v) == (fn == "or")) return v;
      }
      return args.back();
    }
    if (fn == "eq" || fn == "ne") {
      if (args.size() < 2 || (fn == "ne" && args.size() != 2)) {
        return Err(Error("wrong number of args for " + fn));
      }
      auto j = [](const Value& v) { return v.missing ? Json() : v.json; };
      bool equal = false;
      for (std::size_t i = 1; i < args.size(); ++i) equal = equal || j(args[0]) == j(args[i]);
      return Value{Json(fn == "eq" ? equal : !equal)};
    }
    if (fn == "len") {
      TRY(Arity(fn, args, 1));
      const Json& j = args[0].json;
      if (args[0].missing || !(j.is_string() || j.is_array() || j.is_object())) {
        return Err(Error("len of " + std::string(args[0].missing ? "<no value>" : TypeName(j))));
      }
      return Value{Json(j.is_string() ? j.get_ref<const std::string&>().size() : j.size())};
    }
    if (fn == "index") return CallIndex(args);
    return Err(Error("function \"" + fn + "\" not defined"));
  }

  Result<Value> CallIndex(const std::vector<Value>& args) {
    if (args.empty()) return Err(Error("wrong number of args for index"));
    Value v = args[0];
    for (std::size_t i = 1; i < args.size(); ++i) {
      const Json& k = args[i].json;
      if (v.missing || v.json.is_null()) return Err(Error("index of untyped nil"));
      if (v.json.is_object() && k.is_string()) {
        auto it = v.json.find(k.get<std::string>());
        if (it == v.json.end()) {
          v = Value{Json(), true};
        } else {
          Json next = *it;
          v = Value{std::move(next)};
        }
      } else if (v.json.is_array() && k.is_number_integer()) {
        long long n = k.get<long long>();
        if (n < 0 || static_cast<std::size_t>(n) >= v.json.size()) {
          return Err(Error("index out of range: " + std::to_string(n)));
        }
        Json next = v.json[static_cast<std::size_t>(n)];
        v = Value{std::move(next)};
      } else {
        return Err(Error("can't index item of type " + std::string(TypeName(v.json))));
      }
    }
    return v;
  }

  Result<Value> CallSecret(const std::vector<Value>& args) {
    if (args.empty()) return Err(Error("secret: a path is needed"));
    ASSIGN_OR_RETURN(std::string path, StringArg("secret", args[0]));
    Json data;
    for (std::size_t i = 1; i < args.size(); ++i) {
      ASSIGN_OR_RETURN(std::string kv, StringArg("secret", args[i]));
      std::size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Err(Error("secret: arguments after the path must be key=value"));
      }
      data[kv.substr(0, eq)] = kv.substr(eq + 1);
      WipeString(kv);
    }
    Result<Json> r = fetch_ ? fetch_(path, data) : Err(Unavailable("no secret source"));
    if (!r)
      return Err(Status(r.error().code(), name_ + ":" + std::to_string(line_) + ": secret \"" +
                                              path + "\": " + r.error().message()));
    return Value{std::move(*r)};
  }

  const std::string& name_;
  const SecretFetcher& fetch_;
  const RenderOptions& options_;
  std::vector<std::pair<std::string, Value>> vars_;
  int line_ = 1;
};

}  // namespace

Result<std::string> Execute(const Node& root, const std::string& name, const SecretFetcher& fetch,
                            const RenderOptions& options) {
  std::string out;
  Executor ex(name, fetch, options);
  Status s = ex.Run(root, out);
  if (!s.ok()) {
    WipeString(out);
    return Err(std::move(s));
  }
  return out;
}

}  // namespace coffer::go_template::internal
