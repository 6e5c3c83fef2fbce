#include "cli/operator_rekey.h"

#include <CLI/CLI.hpp>

#include "cli/command_util.h"
#include "cli/status.h"
#include "common/encoding.h"

namespace coffer::cli {

const char* const kRekeyHelp =
    "Usage: coffer operator rekey [options] [-]\n\n"
    "  Generates new unseal key shares from a threshold of the current ones: start\n"
    "  an attempt with -init, then each holder of a current share runs the command\n"
    "  with the attempt's -nonce and enters the share when asked (without echo on a\n"
    "  terminal, or one line of stdin). The last one gets the new shares. With\n"
    "  -init -verify the new shares only become active once a threshold of them\n"
    "  has been given back with -verify. Shares are never taken on the command\n"
    "  line (they would show in the process list and shell history).\n\n"
    "      $ coffer operator rekey -init -key-shares=5 -key-threshold=3\n"
    "      $ coffer operator rekey -nonce=<nonce>\n"
    "      Rekey operation nonce: ...\n"
    "      Unseal Key (will be hidden):\n"
    "      $ coffer operator rekey -status\n"
    "      $ coffer operator rekey -cancel\n"
    "      $ coffer operator rekey -verify -nonce=<verification nonce>";

namespace {

class RekeyCommand : public Command {
 public:
  ~RekeyCommand() override { WipeString(key_arg_); }

  void AddFlags(CLI::App& app) override {
    app.add_flag("--init", init_, "Start a rekey attempt");
    app.add_flag("--cancel", cancel_,
                 "Cancel the attempt (with -verify: only its verification progress)");
    app.add_flag("--status", status_, "Print the attempt's progress");
    app.add_option("-n,--key-shares", shares_, "Number of new key shares (with -init)");
    app.add_option("-t,--key-threshold", threshold_,
                   "Number of new key shares required to unseal (with -init)");
    app.add_option("--nonce", nonce_,
                   "The attempt's nonce (or, with -verify, the verification nonce); read from "
                   "the server when left out");
    app.add_flag("--verify", verify_,
                 "With -init: require verification of the new shares. Otherwise: provide a NEW "
                 "share to the verification (or, with -status/-cancel, act on it)");
    app.add_option("--pgp-keys", pgp_keys_, "Not supported")->allow_extra_args(false);
    app.add_flag("--backup", backup_, "Not supported");
    app.add_option("KEY", key_arg_,
                   "Only '-' (read the share from stdin); a share itself is refused here");
  }

  int Run(Invocation& inv) override {
    if (!RefuseShareArgument(inv, key_arg_)) return kExitLocal;
    if (!pgp_keys_.empty() || backup_) {
      inv.err() << "Error: -pgp-keys and -backup are not supported: the new shares are "
                   "printed in clear\n";
      return kExitLocal;
    }
    if (static_cast<int>(init_) + static_cast<int>(cancel_) + static_cast<int>(status_) > 1) {
      inv.err() << "Error: -init, -cancel and -status are exclusive\n";
      return kExitLocal;
    }
    client_ = ClientOrReport(inv);
    if (!client_) return kExitServer;
    if (init_) return Init(inv);
    if (cancel_) return Cancel(inv);
    if (status_) return verify_ ? PrintVerifyStatus(inv) : PrintStatus(inv);
    return verify_ ? VerifyUpdate(inv) : Update(inv);
  }

 private:
  int Fail(Invocation& inv, std::string_view what, const Status& error,
           std::string_view secret = {}) {
    inv.err() << "Error " << what << ": " << Redact(error.message(), secret) << "\n";
    return kExitServer;
  }

  int Init(Invocation& inv) {
    Json req{{"secret_shares", shares_},
             {"secret_threshold", threshold_},
             {"require_verification", verify_}};
    Result<Json> resp = client_->Request("PUT", "/v1/sys/rekey/init", req.dump());
    if (!resp) return Fail(inv, "initializing rekey", resp.error());
    return ShowStatus(inv, *resp);
  }

  int Cancel(Invocation& inv) {
    const char* path = verify_ ? "/v1/sys/rekey/verify" : "/v1/sys/rekey/init";
    Result<Json> resp = client_->Request("DELETE", path);
    if (!resp) return Fail(inv, "canceling rekey", resp.error());
    inv.out() << (verify_ ? "Success! Canceled rekey verification (if it was started)\n"
                          : "Success! Canceled rekeying (if it was started)\n");
    return 0;
  }

  int PrintStatus(Invocation& inv) {
    Result<Json> resp = client_->Request("GET", "/v1/sys/rekey/init");
    if (!resp) return Fail(inv, "reading rekey status", resp.error());
    return ShowStatus(inv, *resp);
  }

  int PrintVerifyStatus(Invocation& inv) {
    Result<Json> resp = client_->Request("GET", "/v1/sys/rekey/verify");
    if (!resp) return Fail(inv, "reading rekey verification status", resp.error());
    return ShowVerifyStatus(inv, *resp);
  }

  static int ShowStatus(Invocation& inv, const Json& s) {
    if (IsStructured(inv.format)) {
      inv.out() << FormatStructured(inv.format, s);
      return 0;
    }
    std::vector<Row> rows{
        {"Key", "Value"},
        {"Nonce", JsonString(s, "nonce")},
        {"Started", Bool(JsonBool(s, "started"))},
        {"Rekey Progress", Text(JsonInt(s, "progress")) + "/" + Text(JsonInt(s, "required"))},
        {"New Shares", Text(JsonInt(s, "n"))},
        {"New Threshold", Text(JsonInt(s, "t"))},
        {"Verification Required", Bool(JsonBool(s, "verification_required"))}};
    std::string vnonce = JsonString(s, "verification_nonce");
    if (!vnonce.empty()) rows.push_back({"Verification Nonce", vnonce});
    inv.out() << FormatColumns(rows);
    return 0;
  }

  static int ShowVerifyStatus(Invocation& inv, const Json& s) {
    if (IsStructured(inv.format)) {
      inv.out() << FormatStructured(inv.format, s);
      return 0;
    }
    inv.out() << FormatColumns(
        {{"Key", "Value"},
         {"Started", Bool(JsonBool(s, "started"))},
         {"New Shares", Text(JsonInt(s, "n"))},
         {"New Threshold", Text(JsonInt(s, "t"))},
         {"Verification Nonce", JsonString(s, "nonce")},
         {"Verification Progress", Text(JsonInt(s, "progress")) + "/" + Text(JsonInt(s, "t"))}});
    return 0;
  }

  // The nonce to send: -nonce, else the server's (the attempt's, or with
  // -verify the verification's).
  Result<std::string> Nonce(Invocation& inv) {
    if (!nonce_.empty()) return nonce_;
    Result<Json> s = client_->Request("GET", "/v1/sys/rekey/init");
    if (!s) return Err(s.error());
    if (!JsonBool(*s, "started")) return Err(InvalidArgument("no rekey is in progress"));
    std::string nonce = JsonString(*s, verify_ ? "verification_nonce" : "nonce");
    if (nonce.empty()) return Err(InvalidArgument("no rekey verification is in progress"));
    inv.err() << (verify_ ? "Rekey verification nonce: " : "Rekey operation nonce: ") << nonce
              << "\n";
    return nonce;
  }

  // Sends {"key": <share>, "nonce": ...} to `path`, the share read without echo.
  Result<Json> SendShare(Invocation& inv, const char* path, std::string_view prompt) {
    ASSIGN_OR_RETURN(std::string nonce, Nonce(inv));
    WipeString(key_arg_);
    return PostShare(*client_, inv, path, nonce, prompt);
  }

  int Update(Invocation& inv) {
    Result<Json> resp = SendShare(inv, "/v1/sys/rekey/update", "Unseal Key (will be hidden): ");
    if (!resp) return Fail(inv, "posting unseal key", resp.error());
    if (!JsonBool(*resp, "complete")) return ShowStatus(inv, *resp);
    if (IsStructured(inv.format)) {
      inv.out() << FormatStructured(inv.format, *resp);
      return 0;
    }
    const Json& b64 = (*resp)["keys_base64"];
    std::ostream& out = inv.out();
    for (std::size_t i = 0; b64.is_array() && i < b64.size(); ++i) {
      out << "Key " << i + 1 << ": " << ScalarText(b64[i]) << "\n";
    }
    const std::string n = Text(JsonInt(*resp, "n")), t = Text(JsonInt(*resp, "t"));
    out << "\nOperation nonce: " << JsonString(*resp, "nonce") << "\n\n";
    if (JsonBool(*resp, "verification_required")) {
      out << WrapAtLength("Coffer has generated " + n + " new key shares with a threshold of " + t +
                          ". They are NOT active yet: the current shares stay in force until " + t +
                          " of the new ones are given back with \"coffer operator rekey "
                          "-verify -nonce=" +
                          JsonString(*resp, "verification_nonce") + "\".")
          << "\n";
      return 0;
    }
    out << WrapAtLength("Coffer unseal key rekeyed with " + n +
                        " key shares and a key threshold of " + t +
                        ". Please securely distribute the key shares printed above. When Coffer "
                        "is re-sealed, restarted, or stopped, you must supply at least " +
                        t + " of these keys to unseal it; the previous shares no longer work.")
        << "\n";
    return 0;
  }

  int VerifyUpdate(Invocation& inv) {
    Result<Json> resp = SendShare(inv, "/v1/sys/rekey/verify", "New Unseal Key (will be hidden): ");
    if (!resp) return Fail(inv, "posting unseal key for verification", resp.error());
    if (!JsonBool(*resp, "complete")) return ShowVerifyStatus(inv, *resp);
    if (IsStructured(inv.format)) {
      inv.out() << FormatStructured(inv.format, *resp);
      return 0;
    }
    inv.out() << "Success! Rekey verified: the new key shares are now the active ones.\n";
    return 0;
  }

  std::unique_ptr<ApiClient> client_;
  bool init_ = false;
  bool cancel_ = false;
  bool status_ = false;
  bool verify_ = false;
  bool backup_ = false;
  int shares_ = 5;
  int threshold_ = 3;
  std::string nonce_;
  std::string pgp_keys_;
  std::string key_arg_;
};

}  // namespace

std::unique_ptr<Command> NewRekeyCommand() { return std::make_unique<RekeyCommand>(); }

}  // namespace coffer::cli
