// The generic commands: `coffer read|write|patch|list|delete PATH`, `unwrap`
// and `path-help`.
#include <CLI/CLI.hpp>

#include "cli/command_util.h"
#include "cli/data_args.h"
#include "cli/secret_output.h"
#include "common/json_numbers.h"

namespace coffer::cli {
namespace {

class LogicalCommand : public Command {
 public:
  enum class Kind { kRead, kWrite, kPatch, kList, kDelete };
  explicit LogicalCommand(Kind kind) : kind_(kind) {}
  ~LogicalCommand() override {
    for (std::string& a : args_) WipeString(a);
  }

  void AddFlags(CLI::App& app) override {
    app.add_option("args", args_, "PATH [K=V ...]");
    if (kind_ != Kind::kDelete) AddFieldFlag(app, field_);
    if (kind_ != Kind::kDelete) AddWrapTtlFlag(app, wrap_ttl_);
    if (Writes()) app.add_flag("-f,--force", force_, "Allow writing no data");
  }

  int Run(Invocation& inv) override {
    const std::size_t max = kind_ == Kind::kList ? 1 : static_cast<std::size_t>(-1);
    if (!ArityOk(inv, args_.size(), 1, max)) return kExitLocal;
    std::string path = SanitizePath(args_[0]);
    std::vector<std::string> kvs(args_.begin() + 1, args_.end());
    Result<Json> data = ParseDataArgs(kvs, inv.env.in);
    for (std::string& a : kvs) WipeString(a);
    if (!data) {
      inv.err() << "Failed to parse K=V data: " << data.error().message() << "\n";
      return kExitLocal;
    }
    if (Writes() && data->empty() && !force_) {
      inv.err() << "Must supply data or use -force\n";
      return kExitLocal;
    }
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    if (!ApplyWrapTtl(inv, *client, wrap_ttl_)) return kExitLocal;
    std::string query;
    if (kind_ == Kind::kRead || kind_ == Kind::kDelete) {
      for (auto it = data->begin(); it != data->end(); ++it) {
        std::vector<std::string> values;
        if (it->is_array()) {
          for (const Json& v : *it) values.push_back(ScalarText(v));
        } else {
          values.push_back(ScalarText(*it));
        }
        for (const std::string& v : values) {
          query += (query.empty() ? "?" : "&") + QueryEscape(it.key()) + "=" + QueryEscape(v);
        }
      }
    }
    // Vault lists "PATH/", with the trailing slash.
    const std::string api = "/v1/" + path + (kind_ == Kind::kList ? "/" : "");
    switch (kind_) {
      case Kind::kRead:
      case Kind::kList: {
        const char* method = kind_ == Kind::kRead ? "GET" : "LIST";
        if (inv.format == OutputFormat::kRaw) return ReadRaw(inv, *client, api + query, path);
        Result<ApiResponse> r = client->Send(method, api + query);
        WipeJson(*data);
        if (r && r->status == 404) {
          // As Vault's client: a 404 with warnings (a KV v2 mount asked a
          // v1-style path) or data (a deleted version's metadata) is an
          // answer, shown as one; without either, nothing is there.
          const Json& body = r->body;
          const auto warnings = body.is_object() ? body.find("warnings") : body.end();
          const bool warned = warnings != body.end() && warnings->is_array() && !warnings->empty();
          const Json& found = DataOf(body);
          if (warned || (found.is_object() && !found.empty())) {
            return Print(inv, r->body, kind_ == Kind::kList);
          }
          if (kind_ == Kind::kList) return OutputListAnswer(inv, Json(), path);
          inv.err() << "No value found at " << api.substr(4) << "\n";
          return kExitServer;
        }
        if (!r || r->status < 200 || r->status >= 300) {
          inv.err() << (kind_ == Kind::kRead ? "Error reading " : "Error listing ") << path << ": "
                    << DescribeFailure(*client, method, api, r) << "\n";
          return kExitServer;
        }
        return Print(inv, r->body, kind_ == Kind::kList);
      }
      case Kind::kWrite:
      case Kind::kPatch: {
        std::string body = DumpJsonWithNumberText(*data);
        WipeJson(*data);
        // A patch is a JSON merge patch (RFC 7386), as Vault's command sends it.
        if (kind_ == Kind::kPatch)
          client->SetHeader("Content-Type", "application/merge-patch+json");
        Result<Json> r = SendWiped(*client, kind_ == Kind::kPatch ? "PATCH" : "PUT", api, body);
        if (!r) {
          inv.err() << "Error writing data to " << path << ": " << r.error().message() << "\n";
          return kExitServer;
        }
        if (r->is_null()) {
          if (inv.format == OutputFormat::kTable) {
            inv.out() << "Success! Data written to: " << path << "\n";
          }
          return 0;
        }
        return Print(inv, *r, false);
      }
      case Kind::kDelete: {
        Result<Json> r = client->Request("DELETE", api + query);
        if (!r) {
          inv.err() << "Error deleting " << path << ": " << r.error().message() << "\n";
          return kExitServer;
        }
        if (inv.format == OutputFormat::kTable) {
          inv.out() << "Success! Data deleted (if it existed) at: " << path << "\n";
        }
        return 0;
      }
    }
    return kExitLocal;
  }

 private:
  bool Writes() const { return kind_ == Kind::kWrite || kind_ == Kind::kPatch; }

  // -format=raw: the body as the server sent it (a PEM, a JSON document as
  // written), as Vault's read prints it.
  static int ReadRaw(Invocation& inv, ApiClient& client, const std::string& target,
                     const std::string& path) {
    Result<HttpResponse> r = client.http().Do("GET", target);
    if (r && r->status == 404) {
      inv.err() << "No value found at " << path << "\n";
      return kExitServer;
    }
    if (!r || r->status < 200 || r->status >= 300) {
      inv.err() << "Error reading " << path << ": "
                << (r ? "Code: " + std::to_string(r->status) + ". " + r->body : r.error().message())
                << "\n";
      return kExitServer;
    }
    inv.out() << r->body << "\n";
    return 0;
  }

  int Print(Invocation& inv, Json& secret, bool list) {
    int code;
    if (!field_.empty()) {
      code = PrintSecretField(inv, secret, field_);
    } else if (list) {
      code = OutputListAnswer(inv, secret, SanitizePath(args_[0]));
    } else {
      code = OutputSecret(inv, secret);
    }
    WipeJson(secret);
    return code;
  }

  Kind kind_;
  std::vector<std::string> args_;
  std::string field_, wrap_ttl_;
  bool force_ = false;
};

class UnwrapCommand : public Command {
 public:
  ~UnwrapCommand() override { WipeString(token_arg_); }
  void AddFlags(CLI::App& app) override {
    app.add_option("TOKEN", token_arg_,
                   "The wrapping token (default: the token in use); - reads "
                   "it from stdin");
    AddFieldFlag(app, field_);
  }

  int Run(Invocation& inv) override {
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    SecretBytes token;
    if (!token_arg_.empty()) {
      Result<SecretBytes> t = ReadTokenArgument(inv, token_arg_, "");
      if (!t) {
        inv.err() << "Error reading the token: " << t.error().message() << "\n";
        return kExitLocal;
      }
      token = std::move(*t);
      client->SetToken(token.Clone());
    }
    Result<Json> r = client->Request("POST", "/v1/sys/wrapping/unwrap");
    if (!r) {
      inv.err() << "Error unwrapping: " << Redact(r.error().message(), token.view()) << "\n";
      return kExitServer;
    }
    if (r->is_null()) {  // as Vault: a wrapped answer without data is a success
      if (inv.format == OutputFormat::kTable) {
        inv.out() << "Successfully unwrapped. There was no data in the wrapped secret.\n";
      }
      return 0;
    }
    int code;
    if (!field_.empty()) {
      code = PrintSecretField(inv, *r, field_);
    } else if (const Json& d = DataOf(*r);
               d.is_object() && d.contains("keys") && d["keys"].is_array()) {
      code = OutputList(inv, *r);  // a wrapped LIST shows as a list, as in Vault
    } else {
      code = OutputSecret(inv, *r);
    }
    WipeJson(*r);
    return code;
  }

 private:
  std::string token_arg_, field_;
};

// `coffer path-help PATH`: the server's help for a path (`GET PATH?help=1`).
class PathHelpCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override { app.add_option("PATH", path_, "The path"); }

  int Run(Invocation& inv) override {
    if (!ArityOk(inv, path_.empty() ? 0 : 1, 1, 1)) return kExitLocal;
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    const std::string api = "/v1/" + SanitizePath(path_) + "?help=1";
    Result<ApiResponse> r = client->Send("GET", api);
    if (!r || r->status < 200 || r->status >= 300 || !r->body.is_object()) {
      inv.err() << "Error retrieving help: " << DescribeFailure(*client, "GET", api, r) << "\n";
      return kExitServer;
    }
    if (inv.format != OutputFormat::kTable) return OutputData(inv, r->body);
    const Json& help = r->body.contains("help") ? r->body.at("help") : Json();
    inv.out() << (help.is_string() ? help.get<std::string>() : std::string()) << "\n";
    return 0;
  }

 private:
  std::string path_;
};

}  // namespace

void RegisterLogicalCommands(Registry& registry) {
  using Kind = LogicalCommand::Kind;
  auto add = [&](const char* name, const char* synopsis, const char* help, Kind kind) {
    registry.Add({name, synopsis, help, [kind] { return std::make_unique<LogicalCommand>(kind); }});
  };
  add("read", "Read data and retrieves secrets",
      "Usage: coffer read [options] PATH [K=V ...]\n\n"
      "  Reads PATH; K=V pairs become query parameters.",
      Kind::kRead);
  add("write", "Write data, configuration, and secrets",
      "Usage: coffer write [options] PATH [DATA K=V...]\n\n"
      "  Writes K=V pairs to PATH. K=@FILE reads a value from a file, K=- from\n"
      "  stdin, and a lone - reads a JSON object from stdin.",
      Kind::kWrite);
  add("patch", "Patch data, configuration, and secrets",
      "Usage: coffer patch [options] PATH [DATA K=V...]\n\n"
      "  Sends K=V pairs to PATH as a JSON merge patch (HTTP PATCH), for the\n"
      "  endpoints that accept one: the keys given are set and the rest is left as\n"
      "  it is; a JSON object on stdin (a lone -) can set a key to null to remove\n"
      "  it. K=@FILE and K=- read values as write does.",
      Kind::kPatch);
  add("list", "List data or secrets", "Usage: coffer list [options] PATH", Kind::kList);
  add("delete", "Delete secrets and configuration", "Usage: coffer delete [options] PATH [K=V ...]",
      Kind::kDelete);
  registry.Add({"unwrap", "Unwrap a wrapped secret",
                "Usage: coffer unwrap [options] [TOKEN | -]\n\n"
                "  Unwraps a response-wrapped secret (sys/wrapping/unwrap). With TOKEN, it is\n"
                "  sent as the request's token; without, the token in use is unwrapped.",
                [] { return std::make_unique<UnwrapCommand>(); }});
  registry.Add({"path-help", "Retrieve API help for paths",
                "Usage: coffer path-help [options] PATH\n\n"
                "  Prints the server's help for PATH: for a mount (secret/), what the\n"
                "  engine is for and the routes it serves; for a route (secret/data/app),\n"
                "  what each operation does there. Any valid token may ask.",
                [] { return std::make_unique<PathHelpCommand>(); }});
}

}  // namespace coffer::cli
