// What a server is and was, read from its API as Vault's commands show it:
//   `coffer version-history`          the versions that have run on the store
//                                     (sys/version-history)
//   `coffer plugin list [TYPE]`       the built-in plugins (sys/plugins/catalog)
//   `coffer plugin info TYPE NAME`    one of them
// and `coffer print token`, the token the CLI would send.

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/command_util.h"
#include "cli/secret_output.h"

namespace coffer::cli {
namespace {

// The answer of a GET, or nullopt after printing why (exit code in *code).
std::optional<Json> Get(Invocation& inv, ApiClient& client, const std::string& path,
                        std::string_view what, int* code) {
  Result<ApiResponse> r = client.Send("GET", path);
  if (!r || r->status < 200 || r->status >= 300) {
    inv.err() << "Error reading " << what << ": " << DescribeFailure(client, "GET", path, r)
              << "\n";
    *code = kExitServer;
    return std::nullopt;
  }
  return std::move(r->body);
}

class VersionHistoryCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override { app.add_option("args", args_, "arguments"); }

  int Run(Invocation& inv) override {
    if (!ArityOk(inv, args_.size(), 0, 0)) return kExitLocal;
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    int code = 0;
    auto body =
        Get(inv, *client, "/v1/sys/version-history?list=true", "the version history", &code);
    if (!body) return code;
    if (IsStructured(inv.format)) {
      inv.out() << FormatStructured(inv.format, *body);
      return 0;
    }
    const Json& data = body->contains("data") ? (*body)["data"] : Json::object();
    std::vector<Row> rows{{"Version", "Installation Time", "Build Date"}};
    if (data.contains("keys") && data["keys"].is_array()) {
      for (const Json& key : data["keys"]) {
        const std::string version = ScalarText(key);
        const Json info = data.contains("key_info") && data["key_info"].contains(version)
                              ? data["key_info"][version]
                              : Json::object();
        rows.push_back({version, ScalarText(info.value("timestamp_installed", Json())),
                        ScalarText(info.value("build_date", Json()))});
      }
    }
    inv.out() << FormatTable(rows);
    return 0;
  }

 private:
  std::vector<std::string> args_;
};

class PluginListCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override {
    app.add_option("args", args_, "arguments");
    app.add_flag("--detailed", detailed_, "Show each plugin's version and deprecation status");
  }

  int Run(Invocation& inv) override {
    if (!ArityOk(inv, args_.size(), 0, 1)) return kExitLocal;
    const std::string type = args_.empty() ? "" : args_[0];
    if (!type.empty() && type != "auth" && type != "database" && type != "secret") {
      inv.err() << "Error: invalid plugin type \"" << type << "\": auth, database or secret\n";
      return kExitLocal;
    }
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    int code = 0;
    auto body = Get(inv, *client, "/v1/sys/plugins/catalog", "the plugin catalog", &code);
    if (!body) return code;
    const Json& data = body->contains("data") ? (*body)["data"] : Json::object();
    Json plugins = Json::array();
    if (data.contains("detailed") && data["detailed"].is_array()) {
      for (const Json& p : data["detailed"]) {
        if (type.empty() || p.value("type", "") == type) plugins.push_back(p);
      }
    }
    if (IsStructured(inv.format)) {
      if (detailed_) {
        inv.out() << FormatStructured(inv.format, plugins);
      } else {
        Json names = Json::array();
        for (const Json& p : plugins) names.push_back(p.value("name", ""));
        inv.out() << FormatStructured(inv.format, names);
      }
      return 0;
    }
    std::vector<Row> rows;
    if (detailed_) {
      rows.push_back({"Name", "Type", "Version", "Deprecation Status"});
    } else {
      rows.push_back({"Name", "Type", "Version"});
    }
    for (const Json& p : plugins) {
      Row row{p.value("name", ""), p.value("type", ""), p.value("version", "")};
      if (detailed_) row.push_back(p.value("deprecation_status", ""));
      rows.push_back(std::move(row));
    }
    inv.out() << FormatTable(rows);
    return 0;
  }

 private:
  std::vector<std::string> args_;
  bool detailed_ = false;
};

class PluginInfoCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override {
    app.add_option("args", args_, "arguments");
    AddFieldFlag(app, field_);
  }

  int Run(Invocation& inv) override {
    if (!ArityOk(inv, args_.size(), 2, 2)) return kExitLocal;
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    const std::string path =
        "/v1/sys/plugins/catalog/" + QueryEscape(args_[0]) + "/" + QueryEscape(args_[1]);
    Result<ApiResponse> r = client->Send("GET", path);
    if (r && r->status == 404) {
      inv.err() << "Error: no " << args_[0] << " plugin named " << args_[1] << "\n";
      return kExitServer;
    }
    if (!r || r->status < 200 || r->status >= 300) {
      inv.err() << "Error reading plugin named " << args_[1] << ": "
                << DescribeFailure(*client, "GET", path, r) << "\n";
      return kExitServer;
    }
    if (!field_.empty()) return PrintRawField(inv, RawField(r->body, field_), field_);
    return OutputSecret(inv, r->body);
  }

 private:
  std::vector<std::string> args_;
  std::string field_;
};

class PrintTokenCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override { app.add_option("args", args_, "arguments"); }

  int Run(Invocation& inv) override {
    if (!ArityOk(inv, args_.size(), 0, 0)) return kExitLocal;
    // The token as the client would send it (COFFER_TOKEN, VAULT_TOKEN, the
    // token files); printing it is what the user asked for.
    SecretBytes token = inv.Token();
    inv.out().write(reinterpret_cast<const char*>(token.data()),
                    static_cast<std::streamsize>(token.size()));
    inv.out() << "\n";
    return 0;
  }

 private:
  std::vector<std::string> args_;
};

}  // namespace

void RegisterServerInfoCommands(Registry& registry) {
  registry.Add({"version-history", "Prints the version history of the target server",
                "Usage: coffer version-history [options]\n\n"
                "  Prints every version of Coffer that has run on the server's store, with\n"
                "  when it first unsealed it. Needs \"list\" on sys/version-history.\n\n"
                "      $ coffer version-history",
                [] { return std::make_unique<VersionHistoryCommand>(); }});
  registry.Add({"plugin", "Interact with the plugin catalog",
                "Usage: coffer plugin <subcommand>\n\n"
                "  Coffer's plugins are built in; the catalog lists them.",
                nullptr});
  registry.Add({"plugin list", "Lists the plugins in the catalog",
                "Usage: coffer plugin list [options] [TYPE]\n\n"
                "  Lists the built-in plugins, of one TYPE (auth, database, secret) or all.\n"
                "  Needs \"read\" on sys/plugins/catalog.\n\n"
                "      $ coffer plugin list\n"
                "      $ coffer plugin list -detailed secret",
                [] { return std::make_unique<PluginListCommand>(); }});
  registry.Add({"plugin info", "Reads one plugin from the catalog",
                "Usage: coffer plugin info [options] TYPE NAME\n\n"
                "  Shows a plugin's catalog entry. Needs \"read\" on\n"
                "  sys/plugins/catalog/TYPE/NAME.\n\n"
                "      $ coffer plugin info secret kv",
                [] { return std::make_unique<PluginInfoCommand>(); }});
  registry.Add(
      {"print", "Prints runtime configuration", "Usage: coffer print <subcommand>", nullptr});
  registry.Add({"print token", "Prints the token the CLI would use",
                "Usage: coffer print token\n\n"
                "  Prints the token that commands send: COFFER_TOKEN, VAULT_TOKEN, else\n"
                "  the token file ~/.coffer-token, else ~/.vault-token. Nothing is sent to\n"
                "  a server.\n\n"
                "      $ COFFER_TOKEN=$(coffer print token) ./script",
                [] { return std::make_unique<PrintTokenCommand>(); }});
}

}  // namespace coffer::cli
