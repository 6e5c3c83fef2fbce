// `coffer login [TOKEN]`: the token method. Verifies the token with
// GET auth/token/lookup-self and stores it in ~/.coffer-token (0600).
// `coffer login -method=userpass username=U [password=P]` and
// `coffer login -method=approle role_id=R [secret_id=S]` log in through an
// auth method (POST auth/<path>/login...) and store the token it returns.
// `coffer login -method=oidc [role=R]` logs in through the identity provider
// in a browser: it asks for an auth_url, listens on a loopback port for the
// provider's redirect (oidc_callback.h) and completes the login with it.
// Secrets left out are read without echo (or from stdin); `password=-` and
// `secret_id=-` read them from stdin.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <map>
#include <vector>

#include "cli/command_util.h"
#include "cli/oidc_callback.h"
#include "cli/secret_output.h"
#include "cli/status.h"
#include "cli/token_file.h"
#include "common/encoding.h"
#include "common/url.h"
#include "crypto/random.h"

namespace coffer::cli {
namespace {

class LoginCommand : public Command {
 public:
  ~LoginCommand() override {
    WipeString(token_arg_);
    for (auto& a : args_) WipeString(a);
  }

  void AddFlags(CLI::App& app) override {
    app.add_option("ARGS", args_,
                   "token method: the token (better left out: then read without echo, or "
                   "from stdin; - reads stdin). Other methods: key=value pairs");
    app.add_option("--method", method_,
                   "token (default), userpass, ldap, approle, jwt, oidc, github or cert");
    app.add_option("--path", path_, "Where the auth method is mounted (default: its type)");
    app.add_flag("--no-store", no_store_, "Do not store the token in ~/.coffer-token");
    app.add_flag("--no-print", no_print_, "Store the token but print nothing");
    app.add_flag("--token-only", token_only_,
                 "Print only the token, without storing it (-field=token -no-store)");
    app.add_option("--mfa", mfa_,
                   "Login MFA: method_id:passcode (otherwise the passcode is prompted for)");
    AddFieldFlag(app, field_);
  }

  int Run(Invocation& inv) override {
    if (token_only_) {
      no_store_ = true;
      field_ = "token";
    }
    if (no_store_ && no_print_) {
      inv.err() << "-no-store and -no-print cannot be used together\n";
      return kExitLocal;
    }
    static constexpr std::string_view kMethods[] = {"token", "userpass", "ldap",   "approle",
                                                    "jwt",   "oidc",     "github", "cert"};
    if (std::find(std::begin(kMethods), std::end(kMethods), method_) == std::end(kMethods)) {
      inv.err() << "Unknown auth method: " << method_
                << ". Use \"token\", \"userpass\", \"ldap\", \"approle\", \"jwt\", \"oidc\", "
                   "\"github\" or \"cert\".\n";
      return kExitLocal;
    }
    bool lookup = true;
    if (method_ == "token") {
      // As in Vault: a bare first argument is the token, and arguments with
      // '=' are the method's configuration: token=TOKEN and lookup=BOOL
      // (lookup=false trusts the token without asking the server).
      for (std::size_t i = 0; i < args_.size(); ++i) {
        std::string& arg = args_[i];
        const std::size_t eq = arg.find('=');
        if (eq == std::string::npos) {
          if (i != 0) {
            inv.err() << ArityError(args_.size(), 0, 1) << "\n";
            return kExitLocal;
          }
          token_arg_ = arg;
        } else if (arg.compare(0, eq, "token") == 0) {
          token_arg_ = arg.substr(eq + 1);
        } else if (arg.compare(0, eq, "lookup") == 0) {
          std::optional<bool> b = ParseGoBool(std::string_view(arg).substr(eq + 1));
          if (!b) {
            inv.err() << "Error parsing configuration: lookup must be true or false\n";
            return kExitLocal;
          }
          lookup = *b;
        } else {
          inv.err() << "Error parsing configuration: the token method takes token=TOKEN and "
                       "lookup=BOOL\n";
          return kExitLocal;
        }
      }
    }
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    if (method_ != "token") return MethodLogin(inv, *client);
    Result<SecretBytes> token = ReadTokenArgument(inv, token_arg_, "Token (will be hidden): ");
    if (!token) {
      inv.err() << "Error authenticating: " << token.error().message() << "\n";
      return kExitLocal;
    }
    if (!lookup) {  // Vault's answer then: the token alone
      Json secret = {{"auth", {{"client_token", token->view()}}}};
      return Finish(inv, secret, token->view());
    }
    client->SetToken(token->Clone());
    Result<Json> looked = client->Request("GET", "/v1/auth/token/lookup-self");
    if (!looked) {
      inv.err() << "Error authenticating: " << Redact(looked.error().message(), token->view())
                << "\n";
      return kExitServer;
    }
    const Json& d = DataOf(*looked);
    Json auth = Json::object();
    auth["client_token"] = token->view();
    auth["accessor"] = JsonString(d, "accessor");
    auth["policies"] = d.contains("policies") ? d["policies"] : Json::array();
    auth["token_policies"] = auth["policies"];
    auth["identity_policies"] = d.contains("identity_policies") ? d["identity_policies"] : Json();
    auth["metadata"] = d.contains("meta") ? d["meta"] : Json();
    auth["lease_duration"] = JsonInt(d, "ttl");
    auth["renewable"] = JsonBool(d, "renewable");
    Json secret = {{"request_id", JsonString(*looked, "request_id")},
                   {"lease_id", ""},
                   {"lease_duration", 0},
                   {"renewable", false},
                   {"data", nullptr},
                   {"warnings", nullptr},
                   {"auth", std::move(auth)}};
    return Finish(inv, secret, token->view());
  }

 private:
  // cert: the TLS client certificate (-client-cert/-client-key) is the
  // credential; name=ENTRY tries one trusted entry only.
  int CertLogin(Invocation& inv, ApiClient& client, std::map<std::string, std::string>& kv) {
    std::string body = "{";
    if (!kv["name"].empty()) {
      body += "\"name\":";
      AppendJsonString(body, kv["name"]);
    }
    body += "}";
    std::string mount = SanitizePath(path_.empty() ? method_ : path_);
    return FinishMethodLogin(inv, client,
                             client.Request("POST", "/v1/auth/" + mount + "/login", body), "");
  }

  // oidc: Vault's browser login. role=R (else the mount's default_role),
  // port=8250 (0: any free port), listenaddress=localhost,
  // callbackhost=localhost, callbackmethod=http, callbackport=<port> (when a
  // proxy forwards another port), skip_browser=false.
  int OidcLogin(Invocation& inv, ApiClient& client, std::map<std::string, std::string>& kv) {
    auto get = [&](const char* key, const char* fallback) {
      auto it = kv.find(key);
      return it == kv.end() || it->second.empty() ? std::string(fallback) : it->second;
    };
    int port = 0;
    const std::string port_text = get("port", "8250");
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 ||
        port > 65535) {
      inv.err() << "Error parsing configuration: port must be a number from 0 to 65535\n";
      return kExitLocal;
    }
    std::optional<bool> skip_browser = ParseGoBool(get("skip_browser", "false"));
    if (!skip_browser) {
      inv.err() << "Error parsing configuration: skip_browser must be true or false\n";
      return kExitLocal;
    }
    OidcCallbackListener listener;
    if (Status s = listener.Listen(get("listenaddress", "localhost"), port); !s.ok()) {
      inv.err() << "Error authenticating: " << s.message() << "\n";
      return kExitLocal;
    }
    const std::string mount = SanitizePath(path_.empty() ? method_ : path_);
    const std::string redirect_uri =
        get("callbackmethod", "http") + "://" + get("callbackhost", "localhost") + ":" +
        get("callbackport", std::to_string(listener.port()).c_str()) + "/oidc/callback";
    auto client_nonce = crypto::RandomBase62(20);
    if (!client_nonce) {
      inv.err() << "Error authenticating: " << client_nonce.error().message() << "\n";
      return kExitLocal;
    }
    Json request = {{"redirect_uri", redirect_uri}, {"client_nonce", *client_nonce}};
    if (!kv["role"].empty()) request["role"] = kv["role"];
    auto started = client.Request("POST", "/v1/auth/" + mount + "/oidc/auth_url", request.dump());
    if (!started) {
      inv.err() << "Error authenticating: " << started.error().message() << "\n";
      return kExitServer;
    }
    const std::string auth_url = JsonString(DataOf(*started), "auth_url");
    if (auth_url.empty()) {
      inv.err() << "Error authenticating: Unable to authorize role \"" << kv["role"]
                << "\" with redirect_uri \"" << redirect_uri
                << "\". Check the server's log for more information.\n";
      return kExitServer;
    }
    auto env = [&](const char* name) {
      return inv.env.getenv ? inv.env.getenv(name).value_or("") : std::string();
    };
    // A browser is launched only where there is a display to show it on.
    const bool launch =
        !*skip_browser && (!env("DISPLAY").empty() || !env("WAYLAND_DISPLAY").empty());
    inv.err() << (launch ? "Complete the login via your OIDC provider. Launching browser to:"
                         : "Complete the login via your OIDC provider. Open this URL in a browser:")
              << "\n\n    " << auth_url << "\n\n";
    if (launch) OpenBrowser(auth_url);
    inv.err() << "Waiting for OIDC authentication to complete...\n";
    inv.err().flush();

    // The state the server put in the URL: the callback must carry it.
    std::string expected_state;
    if (auto q = auth_url.find('?'); q != std::string::npos) {
      if (auto pairs = ParseQueryPairs(std::string_view(auth_url).substr(q + 1))) {
        expected_state = (*pairs)["state"];
      }
    }
    if (expected_state.empty()) {
      inv.err() << "Error authenticating: the server's authorization URL has no state\n";
      return kExitServer;
    }
    auto callback =
        listener.Wait(std::chrono::steady_clock::now() + std::chrono::minutes(2), expected_state);
    if (!callback) {
      inv.err() << "Error authenticating: " << callback.error().message() << "\n";
      return kExitServer;
    }
    const std::string callback_path = "/v1/auth/" + mount + "/oidc/callback";
    if (callback->post) {
      // form_post: the code (or ID token) goes to the server first, and the
      // GET below completes the login, as Vault's CLI does it.
      Json posted = {{"state", callback->state},
                     {"code", callback->code},
                     {"id_token", callback->id_token},
                     {"client_nonce", *client_nonce}};
      std::string body = posted.dump();
      WipeJson(posted);
      auto sent = SendWiped(client, "POST", callback_path, body);
      if (!sent) {
        listener.Answer(false, "the server refused the provider's answer");
        inv.err() << "Error authenticating: " << sent.error().message() << "\n";
        return kExitServer;
      }
    }
    std::string query =
        "?state=" + QueryEscape(callback->state) + "&client_nonce=" + QueryEscape(*client_nonce);
    if (!callback->code.empty()) query += "&code=" + QueryEscape(callback->code);
    if (!callback->error.empty()) query += "&error=" + QueryEscape(callback->error);
    Result<Json> done = client.Request("GET", callback_path + query);
    WipeString(query);
    if (!done) {
      // The request's URL in the message holds the code and the state:
      // neither goes to the browser or the terminal.
      std::string why = Redact(Redact(done.error().message(), QueryEscape(callback->code)),
                               QueryEscape(callback->state));
      listener.Answer(false, why);
      inv.err() << "Error authenticating: " << why << "\n";
      return kExitServer;
    }
    listener.Answer(true, "");
    return FinishMethodLogin(inv, client, std::move(done), "");
  }

  // github: the personal access token from token= (- reads stdin), else
  // COFFER_AUTH_GITHUB_TOKEN or VAULT_AUTH_GITHUB_TOKEN, else prompted.
  int GithubLogin(Invocation& inv, ApiClient& client, std::map<std::string, std::string>& kv) {
    std::string arg = kv["token"];
    for (const char* name : {"COFFER_AUTH_GITHUB_TOKEN", "VAULT_AUTH_GITHUB_TOKEN"}) {
      if (arg.empty() && inv.env.getenv) arg = inv.env.getenv(name).value_or("");
    }
    Result<SecretBytes> token =
        ReadTokenArgument(inv, arg, "GitHub personal access token (will be hidden): ");
    WipeString(arg);
    if (!token) {
      inv.err() << "Error authenticating: " << token.error().message() << "\n";
      return kExitLocal;
    }
    std::string body = "{\"token\":";
    AppendJsonString(body, token->view());
    body += "}";
    const std::string mount = SanitizePath(path_.empty() ? method_ : path_);
    return FinishMethodLogin(inv, client,
                             SendWiped(client, "POST", "/v1/auth/" + mount + "/login", body),
                             token->view());
  }

  // userpass and approle: key=value arguments, secrets prompted when absent.
  int MethodLogin(Invocation& inv, ApiClient& client) {
    std::map<std::string, std::string> kv;
    for (auto& a : args_) {
      auto eq = a.find('=');
      if (eq == std::string::npos || eq == 0) {
        // Not quoted: a password typed without its "password=" is common.
        inv.err() << "Error parsing configuration: format must be key=value\n";
        return kExitLocal;
      }
      kv[a.substr(0, eq)] = a.substr(eq + 1);
    }
    struct Wipe {
      std::map<std::string, std::string>& m;
      ~Wipe() {
        for (auto& [k, v] : m) WipeString(v);
      }
    } wipe{kv};
    if (method_ == "cert") return CertLogin(inv, client, kv);
    if (method_ == "oidc") return OidcLogin(inv, client, kv);
    if (method_ == "github") return GithubLogin(inv, client, kv);
    // ldap logs in as userpass does: login/<username> with a password.
    const bool userpass = method_ == "userpass" || method_ == "ldap";
    const bool jwt = method_ == "jwt";
    const char* secret_key = userpass ? "password" : jwt ? "jwt" : "secret_id";
    const char* id_key = userpass ? "username" : jwt ? "role" : "role_id";
    if (jwt && kv[secret_key].starts_with("@")) {
      // jwt=@FILE: the token a CI platform wrote to a file.
      std::ifstream in(kv[secret_key].substr(1), std::ios::binary);
      if (!in) {
        inv.err() << "Cannot read the JWT file " << kv[secret_key].substr(1) << "\n";
        return kExitLocal;
      }
      std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      WipeString(kv[secret_key]);
      kv[secret_key] = std::move(content);
      WipeString(content);
    }
    // A JWT login may leave the role to the mount's default_role.
    if (!jwt && kv[id_key].empty()) {
      inv.err() << "Missing " << id_key << "=... argument\n";
      return kExitLocal;
    }
    std::string secret_arg = kv[secret_key];
    Result<SecretBytes> secret = ReadTokenArgument(inv, secret_arg,
                                                   userpass ? "Password (will be hidden): "
                                                   : jwt    ? "JWT (will be hidden): "
                                                            : "SecretID (will be hidden): ");
    if (!secret) {
      inv.err() << "Error authenticating: " << secret.error().message() << "\n";
      return kExitLocal;
    }
    std::string mount = SanitizePath(path_.empty() ? method_ : path_);
    std::string path = "/v1/auth/" + mount + "/login";
    std::string body = "{";
    if (userpass) {
      path += "/" + kv[id_key];
    } else if (jwt) {
      if (!kv[id_key].empty()) {
        body += "\"role\":";
        AppendJsonString(body, kv[id_key]);
        body += ",";
      }
    } else {
      body += "\"role_id\":";
      AppendJsonString(body, kv[id_key]);
      body += ",";
    }
    body += "\"";
    body += secret_key;
    body += "\":";
    AppendJsonString(body, secret->view());
    body += "}";
    return FinishMethodLogin(inv, client, SendWiped(client, "POST", path, body), secret->view());
  }

  // A login's answer: MFA if asked for, then the token stored and shown.
  // `secret` is kept out of any error message.
  int FinishMethodLogin(Invocation& inv, ApiClient& client, Result<Json> resp,
                        std::string_view secret) {
    if (!resp) {
      inv.err() << "Error authenticating: "
                << (secret.empty() ? resp.error().message()
                                   : Redact(resp.error().message(), secret))
                << "\n";
      return kExitServer;
    }
    Json secret_json = std::move(*resp);
    if (int rc = CompleteMfa(inv, client, secret_json); rc != 0) return rc;
    const Json& auth = secret_json.contains("auth") ? secret_json["auth"] : Json();
    std::string token = JsonString(auth, "client_token");
    if (token.empty()) {
      inv.err() << "Error authenticating: the server answered without a token\n";
      WipeJson(secret_json);
      return kExitServer;
    }
    int code = Finish(inv, secret_json, token);
    WipeString(token);
    return code;
  }

  // Stores the token (unless -no-store) and prints the login answer (unless
  // -no-print).
  int Finish(Invocation& inv, Json& secret, std::string_view token) {
    if (!no_store_) {
      std::optional<std::string> home = inv.env.getenv ? inv.env.getenv("HOME") : std::nullopt;
      if (!home || home->empty()) {
        inv.err() << "Error storing token: HOME is not set\n";
        return kExitServer;
      }
      Status stored = StoreTokenFile(*home + "/.coffer-token", token);
      if (!stored.ok()) {
        inv.err() << "Error storing token: " << stored.message() << "\n";
        return kExitServer;
      }
    }
    int code;
    if (no_print_) {
      code = 0;
    } else if (!field_.empty()) {
      code = PrintSecretField(inv, secret, field_);
    } else if (IsStructured(inv.format)) {
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

  // Login MFA: when the answer carries auth.mfa_requirement, gets a TOTP
  // passcode for each enforcement (from -mfa=method_id:code, else prompted
  // without echo, or a line of stdin) and replaces `secret` with the answer
  // of sys/mfa/validate. 0 when done (or not needed), else an exit code.
  int CompleteMfa(Invocation& inv, ApiClient& client, Json& secret) {
    auto auth = secret.find("auth");
    if (auth == secret.end() || !auth->is_object()) return 0;
    auto req = auth->find("mfa_requirement");
    if (req == auth->end() || !req->is_object()) return 0;
    std::string request_id = JsonString(*req, "mfa_request_id");
    std::string flag_method, flag_code;
    if (!mfa_.empty()) {
      auto colon = mfa_.find(':');
      if (colon == std::string::npos || colon == 0) {
        inv.err() << "Invalid -mfa value: expected method_id:passcode\n";
        return kExitLocal;
      }
      flag_method = mfa_.substr(0, colon);
      flag_code = mfa_.substr(colon + 1);
    }
    Json payload = Json::object();
    auto constraints = req->find("mfa_constraints");
    if (constraints != req->end() && constraints->is_object()) {
      for (const auto& [name, c] : constraints->items()) {
        if (!c.is_object() || !c.contains("any") || !c["any"].is_array()) continue;
        // The -mfa method if this enforcement accepts it, else its first.
        std::string method;
        for (const auto& m : c["any"]) {
          std::string id = JsonString(m, "id");
          if (id == flag_method || JsonString(m, "name") == flag_method) method = id;
          if (payload.contains(id)) method = id;
        }
        if (method.empty() && !c["any"].empty()) method = JsonString(c["any"][0], "id");
        if (method.empty() || payload.contains(method)) continue;
        if (!flag_code.empty() && (method == flag_method || flag_method.empty())) {
          payload[method] = Json::array({flag_code});
          continue;
        }
        std::string empty;
        Result<SecretBytes> code = ReadTokenArgument(
            inv, empty, "TOTP passcode for MFA method " + method + " (" + name + "): ");
        if (!code) {
          inv.err() << "Error authenticating: " << code.error().message() << "\n";
          return kExitLocal;
        }
        payload[method] = Json::array({std::string(code->view())});
      }
    }
    WipeString(flag_code);
    if (payload.empty()) {
      inv.err() << "Error authenticating: the server asked for MFA without a usable method\n";
      return kExitServer;
    }
    Json body{{"mfa_request_id", request_id}, {"mfa_payload", std::move(payload)}};
    std::string text = body.dump();
    WipeJson(body);
    Result<Json> validated = SendWiped(client, "POST", "/v1/sys/mfa/validate", text);
    WipeString(text);
    if (!validated) {
      inv.err() << "Error authenticating: " << validated.error().message() << "\n";
      return kExitServer;
    }
    WipeJson(secret);
    secret = std::move(*validated);
    return 0;
  }

  std::vector<std::string> args_;
  std::string mfa_;
  std::string token_arg_;
  std::string path_;
  std::string method_ = "token";
  std::string field_;
  bool no_store_ = false, no_print_ = false, token_only_ = false;
};

}  // namespace

void RegisterLoginCommand(Registry& registry) {
  registry.Add(
      {"login", "Authenticate locally",
       "Usage: coffer login [options] [TOKEN | token=TOKEN | -] [lookup=false]\n"
       "       coffer login -method=userpass|ldap [-path=P] username=U [password=-]\n"
       "       coffer login -method=approle [-path=P] role_id=R [secret_id=-]\n"
       "       coffer login -method=jwt [-path=P] [role=R] jwt=@FILE|-\n"
       "       coffer login -method=oidc [-path=P] [role=R] [port=8250] [skip_browser=true]\n"
       "       coffer login -method=github [-path=P] [token=-]\n"
       "       coffer login -method=userpass [-mfa=METHOD_ID:CODE] username=U\n\n"
       "  Checks a token (GET auth/token/lookup-self), or logs in through the\n"
       "  userpass or approle auth method, and stores the token in\n"
       "  ~/.coffer-token (mode 0600) for later commands. Leave TOKEN, password or\n"
       "  secret_id out to type it without echo (or pipe it on stdin), or pass - to\n"
       "  read it from stdin. password=... and secret_id=... on the command line\n"
       "  work, as in Vault, but are visible in the process list and shell history.\n"
       "  When the login needs MFA (TOTP), the passcode is prompted for (or read\n"
       "  as the next line of stdin) unless -mfa=METHOD_ID:CODE gives it.\n\n"
       "      $ coffer login -method=userpass username=alice\n"
       "      Password (will be hidden):",
       [] { return std::make_unique<LoginCommand>(); }});
}

}  // namespace coffer::cli
