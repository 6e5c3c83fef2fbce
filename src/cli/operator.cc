// `coffer operator ...`: init, unseal, seal, rotate, key-status, rekey
// (operator_rekey.cc), generate-root (operator_generate_root.cc).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/command_util.h"
#include "cli/operator_generate_root.h"
#include "cli/operator_rekey.h"
#include "cli/status.h"
#include "common/encoding.h"

namespace coffer::cli {
namespace {

// Vault's /sys answers carry their fields at the top level and, in newer
// versions, again under "data"; accept either.
const Json& Fields(const Json& body) {
  if (body.is_object() && !body.contains("term") && body.contains("data") &&
      body["data"].is_object()) {
    return body["data"];
  }
  return body;
}

std::string KeyStatusTable(const Json& body) {
  const Json& f = Fields(body);
  std::vector<Row> rows;
  rows.push_back({"Key Term", std::to_string(JsonInt(f, "term"))});
  rows.push_back({"Install Time", FormatRfc822(JsonString(f, "install_time"))});
  if (f.is_object() && f.contains("encryptions")) {
    rows.push_back({"Encryption Count", std::to_string(JsonInt(f, "encryptions"))});
  }
  return FormatColumns(rows);
}

Json KeyStatusJson(const Json& body) {
  const Json& f = Fields(body);
  Json out = Json::object();
  out["term"] = JsonInt(f, "term");
  out["install_time"] = JsonString(f, "install_time");
  if (f.is_object() && f.contains("encryptions")) out["encryptions"] = JsonInt(f, "encryptions");
  return out;
}

Json StringArray(const Json& body, const char* key) {
  if (body.is_object() && body.contains(key) && body[key].is_array()) return body[key];
  return Json::array();
}

class InitCommand : public Command {
 public:
  void AddFlags(CLI::App& app) override {
    app.add_option("-n,--key-shares", shares_,
                   "Number of key shares (unseal keys) to split the root key into");
    app.add_option("-t,--key-threshold", threshold_,
                   "Number of key shares required to reconstruct the root key");
    app.add_flag("--status", status_,
                 "Print the initialization status: exit 0 initialized, 2 not, 1 error");
  }

  int Run(Invocation& inv) override {
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    if (status_) return Status(inv, *client);

    Json req = Json::object();
    req["secret_shares"] = shares_;
    req["secret_threshold"] = threshold_;
    Result<Json> resp = client->Request("PUT", "/v1/sys/init", req.dump());
    if (!resp) {
      inv.err() << "Error initializing: " << resp.error().message() << "\n";
      return kExitServer;
    }
    Json hex = StringArray(*resp, "keys");
    Json b64 = StringArray(*resp, "keys_base64");
    std::string root_token = JsonString(*resp, "root_token");

    if (IsStructured(inv.format)) {
      Json out = Json::object();
      out["unseal_keys_b64"] = b64;
      out["unseal_keys_hex"] = hex;
      out["unseal_shares"] = hex.empty() ? 0 : shares_;
      out["unseal_threshold"] = hex.empty() ? 0 : threshold_;
      out["recovery_keys_b64"] = StringArray(*resp, "recovery_keys_base64");
      out["recovery_keys_hex"] = StringArray(*resp, "recovery_keys");
      out["recovery_keys_shares"] = 0;
      out["recovery_keys_threshold"] = 0;
      out["root_token"] = root_token;
      inv.out() << FormatStructured(inv.format, out);
      return 0;
    }

    std::ostream& out = inv.out();
    for (std::size_t i = 0; i < hex.size(); ++i) {
      const Json& key = (b64.size() == hex.size()) ? b64[i] : hex[i];
      out << "Unseal Key " << i + 1 << ": " << ScalarText(key) << "\n";
    }
    out << "\nInitial Root Token: " << root_token << "\n";
    if (!hex.empty()) {
      const std::string n = std::to_string(shares_), t = std::to_string(threshold_);
      out << "\n"
          << WrapAtLength("Coffer initialized with " + n + " key shares and a key threshold of " +
                          t +
                          ". Please securely distribute the key shares printed above. When "
                          "Coffer is re-sealed, restarted, or stopped, you must supply at least " +
                          t + " of these keys to unseal it before it can start servicing requests.")
          << "\n\n"
          << WrapAtLength("Coffer does not store the generated root key. Without at least " + t +
                          " keys to reconstruct the root key, Coffer will remain permanently "
                          "sealed!")
          << "\n\n"
          << WrapAtLength(
                 "It is possible to generate new unseal keys, provided you have a quorum of "
                 "existing unseal keys shares. See \"coffer operator rekey\" for more "
                 "information.")
          << "\n";
    } else {
      out << "\nSuccess! Coffer is initialized\n";
    }
    return 0;
  }

 private:
  int Status(Invocation& inv, ApiClient& client) {
    Result<Json> resp = client.Request("GET", "/v1/sys/init");
    if (!resp) {
      inv.err() << "Error checking init status: " << resp.error().message() << "\n";
      return kExitLocal;  // 2 means "not initialized" here
    }
    const bool inited = JsonBool(*resp, "initialized");
    if (IsStructured(inv.format)) {
      Json out = Json::object();
      out["initialized"] = inited;
      inv.out() << FormatStructured(inv.format, out);
    } else {
      inv.out() << (inited ? "Coffer is initialized\n" : "Coffer is not initialized\n");
    }
    return inited ? 0 : 2;
  }

  int shares_ = 5;
  int threshold_ = 3;
  bool status_ = false;
};

class UnsealCommand : public Command {
 public:
  ~UnsealCommand() override { WipeString(key_arg_); }

  void AddFlags(CLI::App& app) override {
    app.add_option("KEY", key_arg_,
                   "Unseal key. Better left out: it is then read without echo (or from "
                   "stdin), and stays out of the process list and shell history");
    app.add_flag("--reset", reset_, "Discard any previously entered keys to the unseal process");
  }

  int Run(Invocation& inv) override {
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    if (reset_) {
      Result<Json> resp = client->Request("PUT", "/v1/sys/unseal", R"({"reset":true})");
      if (!resp) {
        inv.err() << "Error resetting unseal process: " << resp.error().message() << "\n";
        return kExitServer;
      }
      return PrintSealStatus(inv, *client, *resp);
    }

    SecretBytes key;
    if (!key_arg_.empty()) {
      std::string_view v = key_arg_;
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\n')) {
        v.remove_suffix(1);
      }
      key = SecretBytes::FromString(v);
      WipeString(key_arg_);
    } else {
      Result<SecretBytes> read = inv.ReadSecret("Unseal Key (will be hidden): ");
      if (!read) {
        inv.err() << "Error reading the unseal key: " << read.error().message() << "\n";
        return kExitLocal;
      }
      key = std::move(*read);
    }

    std::string body;
    body.reserve(key.size() * 6 + 16);
    body += "{\"key\":";
    AppendJsonString(body, key.view());
    body += '}';
    Result<Json> resp = client->Request("PUT", "/v1/sys/unseal", body);
    WipeString(body);
    if (!resp) {
      inv.err() << "Error unsealing: " << Redact(resp.error().message(), key.view()) << "\n";
      return kExitServer;
    }
    key.Clear();
    return PrintSealStatus(inv, *client, *resp);
  }

 private:
  std::string key_arg_;
  bool reset_ = false;
};

class SealCommand : public Command {
 public:
  int Run(Invocation& inv) override {
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    Result<Json> resp = client->Request("PUT", "/v1/sys/seal");
    if (!resp) {
      inv.err() << "Error sealing: " << resp.error().message() << "\n";
      return kExitServer;
    }
    inv.out() << "Success! Coffer is sealed.\n";
    return 0;
  }
};

class KeyStatusCommand : public Command {
 public:
  explicit KeyStatusCommand(bool rotate_first) : rotate_first_(rotate_first) {}

  int Run(Invocation& inv) override {
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    if (rotate_first_) {
      Result<Json> rotated = client->Request("PUT", "/v1/sys/rotate");
      if (!rotated) {
        inv.err() << "Error rotating key: " << rotated.error().message() << "\n";
        return kExitServer;
      }
    }
    Result<Json> status = client->Request("GET", "/v1/sys/key-status");
    if (!status) {
      inv.err() << "Error reading key status: " << status.error().message() << "\n";
      return kExitServer;
    }
    if (IsStructured(inv.format)) {
      inv.out() << FormatStructured(inv.format, KeyStatusJson(*status));
      return 0;
    }
    if (rotate_first_) inv.out() << "Success! Rotated key\n\n";
    inv.out() << KeyStatusTable(*status);
    return 0;
  }

 private:
  bool rotate_first_;
};

}  // namespace

void RegisterOperatorCommands(Registry& registry) {
  registry.Add({"operator", "Perform operator-specific tasks",
                "Usage: coffer operator <subcommand> [options] [args]\n\n"
                "  This command groups subcommands for operators interacting with Coffer.\n"
                "  Most users will not need to interact with these commands.",
                nullptr});
  registry.Add({"operator init", "Initializes a server",
                "Usage: coffer operator init [options]\n\n"
                "  Initializes a Coffer server: generates the root key, splits it into\n"
                "  -key-shares unseal keys of which -key-threshold are needed to unseal, and\n"
                "  prints them with the initial root token. Run it once per storage backend.\n\n"
                "      $ coffer operator init -key-shares=5 -key-threshold=3",
                [] { return std::make_unique<InitCommand>(); }});
  registry.Add({"operator unseal", "Unseals the server",
                "Usage: coffer operator unseal [options] [KEY]\n\n"
                "  Provides one unseal key. Run it once per key holder until the threshold is\n"
                "  reached. Leave KEY out: the command then asks for it without echo (or reads\n"
                "  one line of stdin when it is not a terminal). A key given as an argument is\n"
                "  visible to other users in the process list and stays in shell history.\n\n"
                "      $ coffer operator unseal\n"
                "      Unseal Key (will be hidden):",
                [] { return std::make_unique<UnsealCommand>(); }});
  registry.Add({"operator seal", "Seals the server",
                "Usage: coffer operator seal [options]\n\n"
                "  Seals the server: it throws away its root key and refuses requests until\n"
                "  it is unsealed again. Requires a token with sudo on sys/seal.",
                [] { return std::make_unique<SealCommand>(); }});
  registry.Add({"operator rotate", "Rotates the underlying encryption key",
                "Usage: coffer operator rotate [options]\n\n"
                "  Adds a new term to the keyring: new data is encrypted with the new key,\n"
                "  old data stays readable. Then prints the key status.",
                [] { return std::make_unique<KeyStatusCommand>(true); }});
  registry.Add({"operator key-status", "Provides information about the active encryption key",
                "Usage: coffer operator key-status [options]\n\n"
                "  Prints the current key term, its install time and how many encryptions\n"
                "  it has done.",
                [] { return std::make_unique<KeyStatusCommand>(false); }});
  registry.Add({"operator rekey", "Generates new unseal keys", kRekeyHelp, NewRekeyCommand});
  registry.Add({"operator generate-root", "Generates a new root token", kGenerateRootHelp,
                NewGenerateRootCommand});
}

}  // namespace coffer::cli
