// `coffer token create|lookup|renew|revoke|capabilities` (auth/token/...).
#include <CLI/CLI.hpp>
#include <algorithm>

#include "cli/command_util.h"
#include "cli/secret_output.h"

namespace coffer::cli {
namespace {

// Runs one request and prints the answer as a secret (or -field).
int SendAndOutput(Invocation& inv, ApiClient& client, std::string_view method,
                  const std::string& path, std::string body, const std::string& field,
                  const char* what, const SecretBytes& token) {
  Result<Json> r = SendWiped(client, method, path, body);
  if (!r) {
    inv.err() << "Error " << what << ": " << Redact(r.error().message(), token.view()) << "\n";
    return kExitServer;
  }
  int code = field.empty() ? OutputSecret(inv, *r) : PrintSecretField(inv, *r, field);
  WipeJson(*r);
  return code;
}

class TokenCreateCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override {
    app.add_option("--policy", policies_, "A policy for the token; repeat or comma-separate")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
    app.add_option("--metadata", metadata_, "K=V metadata; repeat for more")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
    app.add_option("--ttl", ttl_, "Initial TTL");
    app.add_option("--explicit-max-ttl", explicit_max_ttl_, "Hard limit on the token's life");
    app.add_option("--period", period_, "Make a periodic token renewed by this much");
    app.add_option("--display-name", display_name_, "Name shown in audit logs");
    app.add_option("--use-limit", use_limit_, "Number of uses (0: unlimited)");
    app.add_option("--role", role_, "Create through auth/token/create/ROLE");
    app.add_option("--entity-alias", entity_alias_,
                   "With -role: tie the token to the entity of this alias (the role must allow "
                   "it)");
    app.add_option("--type", type_, "service or batch");
    app.add_option("--id", id_, "A chosen token value (root only; better left out)");
    AddBoolFlag(app, "--renewable", renewable_, "Whether the token can be renewed (default true)");
    app.add_flag("--orphan", orphan_, "Create a token without a parent");
    app.add_flag("--no-default-policy", no_default_policy_, "Leave out the default policy");
    AddFieldFlag(app, field_);
    AddWrapTtlFlag(app, wrap_ttl_);
  }

  int Run(Invocation& inv) override {
    if (!DurationFlagsValid(
            inv,
            {{"ttl", &ttl_}, {"explicit-max-ttl", &explicit_max_ttl_}, {"period", &period_}})) {
      return kExitLocal;
    }
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    if (!ApplyWrapTtl(inv, *client, wrap_ttl_)) return kExitLocal;
    Json body = Json::object();
    std::vector<std::string> policies = SplitCommaList(policies_);
    if (!policies.empty()) body["policies"] = policies;
    if (!metadata_.empty()) {
      Json meta = Json::object();
      for (const std::string& kv : metadata_) {
        std::size_t eq = kv.find('=');
        if (eq == std::string::npos) {
          inv.err() << "Invalid -metadata: expected K=V\n";
          return kExitLocal;
        }
        meta[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      body["meta"] = std::move(meta);
    }
    if (!ttl_.empty()) body["ttl"] = ttl_;
    if (!explicit_max_ttl_.empty()) body["explicit_max_ttl"] = explicit_max_ttl_;
    if (!period_.empty()) body["period"] = period_;
    if (!display_name_.empty()) body["display_name"] = display_name_;
    if (use_limit_ > 0) body["num_uses"] = use_limit_;
    if (no_default_policy_) body["no_default_policy"] = true;
    if (renewable_) body["renewable"] = *renewable_;
    if (!type_.empty()) body["type"] = type_;
    if (!entity_alias_.empty()) body["entity_alias"] = entity_alias_;
    SecretBytes id = SecretBytes::FromString(id_);
    WipeString(id_);
    if (!id.empty()) body["id"] = id.view();
    // As Vault's CLI: -orphan is no_parent on create (or create/ROLE), which
    // needs sudo on that path, not a request to create-orphan.
    if (orphan_) body["no_parent"] = true;
    std::string path = "/v1/auth/token/create";
    if (!role_.empty()) path += "/" + role_;
    std::string text = body.dump();
    WipeJson(body);
    return SendAndOutput(inv, *client, "POST", path, std::move(text), field_, "creating token", id);
  }

 private:
  std::vector<std::string> policies_, metadata_;
  std::string ttl_, explicit_max_ttl_, period_, display_name_, role_, type_, id_, field_, wrap_ttl_,
      entity_alias_;
  std::optional<bool> renewable_;
  long long use_limit_ = 0;
  bool orphan_ = false, no_default_policy_ = false;
};

// lookup, renew, revoke: an optional TOKEN argument ("-" reads stdin).
class TokenActionCommand : public Command {
 public:
  enum class Kind { kLookup, kRenew, kRevoke };
  explicit TokenActionCommand(Kind kind) : kind_(kind) {}
  ~TokenActionCommand() override {
    for (std::string& a : args_) WipeString(a);
  }

  void AddFlags(CLI::App& app) override {
    app.add_option("args", args_, "[TOKEN | ACCESSOR | -]");
    app.add_flag("--accessor", accessor_, "The argument is an accessor, not a token");
    if (kind_ == Kind::kRenew) app.add_option("--increment,-i", increment_, "Requested TTL");
    if (kind_ == Kind::kRevoke) {
      app.add_flag("--self", self_, "Revoke the token in use");
      app.add_option("--mode", mode_, "orphan (keep children) or path (revoke by prefix)");
    }
    if (kind_ != Kind::kRevoke) AddFieldFlag(app, field_);
  }

  int Run(Invocation& inv) override {
    if (!ArityOk(inv, args_.size(), 0, 1)) return kExitLocal;
    if (kind_ == Kind::kRevoke) {
      if (self_ && !args_.empty()) {
        inv.err() << "Tokens cannot be specified with -self\n";
        return kExitLocal;
      }
      if (!self_ && args_.empty()) {
        inv.err() << "Not enough arguments (expected 1, got 0)\n";
        return kExitLocal;
      }
      if (accessor_ && !mode_.empty()) {
        inv.err() << "Use of -mode is not supported with -accessor\n";
        return kExitLocal;
      }
      if (self_ && !mode_.empty()) {
        inv.err() << "Use of -mode is not supported with -self\n";
        return kExitLocal;
      }
      if (!mode_.empty() && mode_ != "orphan" && mode_ != "path") {
        inv.err() << "Invalid -mode \"" << mode_ << "\": expected orphan or path\n";
        return kExitLocal;
      }
    }
    if (accessor_ && args_.empty()) {
      inv.err() << "Not enough arguments (expected 1, got 0)\n";
      return kExitLocal;
    }
    long long increment = 0;
    if (!increment_.empty()) {
      Result<long long> secs = DurationSeconds(increment_);
      if (!secs) {
        inv.err() << "Invalid -increment \"" << increment_ << "\": not a duration\n";
        return kExitLocal;
      }
      increment = *secs;
    }
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    SecretBytes token;
    if (!args_.empty()) {
      Result<SecretBytes> t = ReadTokenArgument(inv, args_[0], "");
      if (!t) {
        inv.err() << "Error reading the token: " << t.error().message() << "\n";
        return kExitLocal;
      }
      token = std::move(*t);
    }
    const char* key = accessor_ ? "accessor" : "token";
    Json body = Json::object();
    if (!token.empty()) body[key] = token.view();
    std::string path;
    switch (kind_) {
      case Kind::kLookup:
        if (token.empty()) {
          return SendAndOutput(inv, *client, "GET", "/v1/auth/token/lookup-self", "", field_,
                               "looking up token", token);
        }
        path = accessor_ ? "/v1/auth/token/lookup-accessor" : "/v1/auth/token/lookup";
        break;
      case Kind::kRenew:
        if (increment > 0) body["increment"] = increment;
        path = token.empty() ? "/v1/auth/token/renew-self"
               : accessor_   ? "/v1/auth/token/renew-accessor"
                             : "/v1/auth/token/renew";
        break;
      case Kind::kRevoke:
        return Revoke(inv, *client, token, body);
    }
    std::string text = body.dump();
    WipeJson(body);
    return SendAndOutput(inv, *client, kind_ == Kind::kLookup ? "POST" : "PUT", path,
                         std::move(text), field_,
                         kind_ == Kind::kLookup ? "looking up token" : "renewing token", token);
  }

 private:
  int Revoke(Invocation& inv, ApiClient& client, const SecretBytes& token, Json& body) {
    std::string path;
    std::string text;
    if (self_) {
      path = "/v1/auth/token/revoke-self";
    } else if (accessor_) {
      path = "/v1/auth/token/revoke-accessor";
    } else if (mode_ == "orphan") {
      path = "/v1/auth/token/revoke-orphan";
    } else if (mode_ == "path") {
      path = "/v1/sys/leases/revoke-prefix/" + std::string(token.view());
    } else {
      path = "/v1/auth/token/revoke";
    }
    if (!self_ && mode_ != "path") text = body.dump();
    WipeJson(body);
    Result<Json> r = SendWiped(client, "PUT", path, text);
    if (!r) {
      inv.err() << "Error revoking token: " << Redact(r.error().message(), token.view()) << "\n";
      return kExitServer;
    }
    inv.out() << "Success! Revoked token (if it existed)\n";
    return 0;
  }

  Kind kind_;
  std::vector<std::string> args_;
  std::string increment_, mode_, field_;
  bool accessor_ = false, self_ = false;
};

class TokenCapabilitiesCommand : public Command {
 public:
  ~TokenCapabilitiesCommand() override {
    for (std::string& a : args_) WipeString(a);
  }
  void AddFlags(CLI::App& app) override { app.add_option("args", args_, "[TOKEN | -] PATH"); }

  int Run(Invocation& inv) override {
    if (!ArityOk(inv, args_.size(), 1, 2)) return kExitLocal;
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    const std::string path = args_.back();
    Json body = {{"paths", Json::array({path})}};
    SecretBytes token;
    if (args_.size() == 2) {
      Result<SecretBytes> t = ReadTokenArgument(inv, args_[0], "");
      if (!t) {
        inv.err() << "Error reading the token: " << t.error().message() << "\n";
        return kExitLocal;
      }
      token = std::move(*t);
      body["token"] = token.view();
    }
    std::string text = body.dump();
    WipeJson(body);
    Result<Json> r =
        SendWiped(*client, "POST",
                  token.empty() ? "/v1/sys/capabilities-self" : "/v1/sys/capabilities", text);
    if (!r) {
      inv.err() << "Error listing capabilities: " << Redact(r.error().message(), token.view())
                << "\n";
      return kExitServer;
    }
    const Json& d = DataOf(*r).is_object() ? DataOf(*r) : *r;
    Json caps = d.contains(path)             ? d[path]
                : d.contains("capabilities") ? d["capabilities"]
                                             : Json::array();
    if (!caps.is_array()) caps = Json::array();
    std::vector<std::string> list;
    for (const Json& c : caps) list.push_back(ScalarText(c));
    std::sort(list.begin(), list.end());
    if (IsStructured(inv.format)) {
      inv.out() << FormatStructured(inv.format, Json(list));
      return 0;
    }
    std::string joined;
    for (const std::string& c : list) joined += (joined.empty() ? "" : ", ") + c;
    inv.out() << joined << "\n";
    return 0;
  }

 private:
  std::vector<std::string> args_;
};

}  // namespace

void RegisterTokenCommands(Registry& registry) {
  using Kind = TokenActionCommand::Kind;
  registry.Add({"token", "Interact with tokens",
                "Usage: coffer token <subcommand> [options] [args]\n\n"
                "  Creates, inspects, renews and revokes tokens. Where a TOKEN argument is\n"
                "  accepted, - reads it from stdin, which keeps it out of the process list.",
                nullptr});
  registry.Add({"token create", "Create a new token",
                "Usage: coffer token create [options]\n\n"
                "      $ coffer token create -policy=app -ttl=1h",
                [] { return std::make_unique<TokenCreateCommand>(); }});
  registry.Add({"token lookup", "Display information about a token",
                "Usage: coffer token lookup [options] [TOKEN | ACCESSOR | -]\n\n"
                "  Without an argument, looks up the token in use.",
                [] { return std::make_unique<TokenActionCommand>(Kind::kLookup); }});
  registry.Add({"token renew", "Renew a token lease",
                "Usage: coffer token renew [options] [TOKEN | -]",
                [] { return std::make_unique<TokenActionCommand>(Kind::kRenew); }});
  registry.Add({"token revoke", "Revoke a token and its children",
                "Usage: coffer token revoke [options] [TOKEN | ACCESSOR | -]\n\n"
                "  -mode=orphan keeps the children; -mode=path revokes every token created\n"
                "  under that path prefix; -self revokes the token in use.",
                [] { return std::make_unique<TokenActionCommand>(Kind::kRevoke); }});
  registry.Add({"token capabilities", "Print capabilities of a token on a path",
                "Usage: coffer token capabilities [options] [TOKEN | -] PATH",
                [] { return std::make_unique<TokenCapabilitiesCommand>(); }});
}

}  // namespace coffer::cli
