// `coffer login [TOKEN]`: the token method. Verifies the token with
// GET auth/token/lookup-self and stores it in ~/.coffer-token (0600).
#include <CLI/CLI.hpp>

#include "cli/command_util.h"
#include "cli/secret_output.h"
#include "cli/status.h"
#include "cli/token_file.h"

namespace coffer::cli {
namespace {

class LoginCommand : public Command {
 public:
  ~LoginCommand() override { WipeString(token_arg_); }

  void AddFlags(CLI::App& app) override {
    app.add_option("TOKEN", token_arg_,
                   "The token; better left out (then read without echo, or from stdin), or - "
                   "to read it from stdin");
    app.add_option("--method", method_, "Only \"token\" is supported");
    app.add_flag("--no-store", no_store_, "Do not store the token in ~/.coffer-token");
    AddFieldFlag(app, field_);
  }

  int Run(Invocation& inv) override {
    if (method_ != "token") {
      inv.err() << "Unknown auth method: " << method_ << ". Only \"token\" is supported.\n";
      return kExitLocal;
    }
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    Result<SecretBytes> token = ReadTokenArgument(inv, token_arg_, "Token (will be hidden): ");
    if (!token) {
      inv.err() << "Error authenticating: " << token.error().message() << "\n";
      return kExitLocal;
    }
    client->SetToken(token->Clone());
    Result<Json> lookup = client->Request("GET", "/v1/auth/token/lookup-self");
    if (!lookup) {
      inv.err() << "Error authenticating: " << Redact(lookup.error().message(), token->view())
                << "\n";
      return kExitServer;
    }
    const Json& d = DataOf(*lookup);
    Json auth = Json::object();
    auth["client_token"] = token->view();
    auth["accessor"] = JsonString(d, "accessor");
    auth["policies"] = d.contains("policies") ? d["policies"] : Json::array();
    auth["token_policies"] = auth["policies"];
    auth["identity_policies"] = d.contains("identity_policies") ? d["identity_policies"] : Json();
    auth["metadata"] = d.contains("meta") ? d["meta"] : Json();
    auth["lease_duration"] = JsonInt(d, "ttl");
    auth["renewable"] = JsonBool(d, "renewable");
    Json secret = {{"request_id", JsonString(*lookup, "request_id")},
                   {"lease_id", ""},
                   {"lease_duration", 0},
                   {"renewable", false},
                   {"data", nullptr},
                   {"warnings", nullptr},
                   {"auth", std::move(auth)}};

    if (!no_store_) {
      std::optional<std::string> home = inv.env.getenv ? inv.env.getenv("HOME") : std::nullopt;
      if (!home || home->empty()) {
        inv.err() << "Error storing token: HOME is not set\n";
        return kExitServer;
      }
      Status stored = StoreTokenFile(*home + "/.coffer-token", token->view());
      if (!stored.ok()) {
        inv.err() << "Error storing token: " << stored.message() << "\n";
        return kExitServer;
      }
    }
    int code;
    if (!field_.empty()) {
      code = PrintRawField(inv, RawField(secret, field_), field_);
    } else if (inv.format == OutputFormat::kJson) {
      code = OutputSecret(inv, secret);
    } else {
      for (const char* name : {"COFFER_TOKEN", "VAULT_TOKEN"}) {
        if (inv.env.getenv && inv.env.getenv(name).value_or("") != "") {
          inv.err() << WrapAtLength(std::string("WARNING! The ") + name +
                                    " environment variable is set! The value of this variable "
                                    "will take precedence; if this is unwanted please unset " +
                                    name + " or update its value accordingly.")
                    << "\n\n";
          break;
        }
      }
      if (no_store_) {
        inv.out() << WrapAtLength(
                         "Success! You are now authenticated. The token information displayed "
                         "below is not stored in the token helper. Set the COFFER_TOKEN "
                         "environment variable or pass the token below with each request.")
                  << "\n\n";
      } else {
        inv.out() << WrapAtLength(
                         "Success! You are now authenticated. The token information displayed "
                         "below is already stored in the token helper. You do NOT need to run "
                         "\"coffer login\" again. Future requests will automatically use this "
                         "token.")
                  << "\n\n";
      }
      code = OutputSecret(inv, secret);
    }
    WipeJson(secret);
    return code;
  }

 private:
  std::string token_arg_;
  std::string method_ = "token";
  std::string field_;
  bool no_store_ = false;
};

}  // namespace

void RegisterLoginCommand(Registry& registry) {
  registry.Add({"login", "Authenticate locally",
                "Usage: coffer login [options] [TOKEN | -]\n\n"
                "  Checks a token (GET auth/token/lookup-self) and stores it in\n"
                "  ~/.coffer-token (mode 0600) for later commands. Leave TOKEN out to type it\n"
                "  without echo, or pass - to read it from stdin; a token on the command line\n"
                "  is visible in the process list and shell history.\n\n"
                "      $ coffer login\n"
                "      Token (will be hidden):",
                [] { return std::make_unique<LoginCommand>(); }});
}

}  // namespace coffer::cli
