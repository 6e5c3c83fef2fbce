#include "cli/operator_generate_root.h"

#include <CLI/CLI.hpp>

#include "cli/command_util.h"
#include "cli/status.h"
#include "common/encoding.h"

namespace coffer::cli {

const char* const kGenerateRootHelp =
    "Usage: coffer operator generate-root [options] [-]\n\n"
    "  Makes a new root token from a threshold of the unseal key shares, for when\n"
    "  the root token was revoked and a root-level change is needed. Start an\n"
    "  attempt with -init: it prints the attempt's nonce and a one-time pad (OTP)\n"
    "  that only you get; keep it. Each share holder then runs the command with\n"
    "  -nonce and enters the share when asked (without echo on a terminal, or one\n"
    "  line of stdin). The last one gets the encoded token, which only the OTP\n"
    "  turns back into the token: run -decode and enter the OTP when asked.\n"
    "  Shares and the OTP are never taken on the command line.\n\n"
    "      $ coffer operator generate-root -init\n"
    "      $ coffer operator generate-root -nonce=<nonce>\n"
    "      Unseal Key (will be hidden):\n"
    "      $ coffer operator generate-root -decode=<encoded token>\n"
    "      One-time pad (will be hidden):\n"
    "      $ coffer operator generate-root -status\n"
    "      $ coffer operator generate-root -cancel";

namespace {

class GenerateRootCommand : public Command {
 public:
  ~GenerateRootCommand() override {
    WipeString(key_arg_);
    WipeString(otp_arg_);
  }

  void AddFlags(CLI::App& app) override {
    app.add_flag("--init", init_, "Start a root token generation attempt");
    app.add_flag("--cancel", cancel_, "Cancel the attempt");
    app.add_flag("--status", status_, "Print the attempt's progress");
    app.add_option("--nonce", nonce_, "The attempt's nonce; read from the server when left out");
    app.add_option("--decode", decode_,
                   "Decode this encoded token with the one-time pad (asked for, or on stdin)");
    app.add_option("--otp", otp_arg_,
                   "Only '-' (read the one-time pad from stdin); the pad itself is refused here");
    app.add_option("--pgp-key", pgp_key_, "Not supported")->allow_extra_args(false);
    app.add_option("KEY", key_arg_,
                   "Only '-' (read the share from stdin); a share itself is refused here");
  }

  int Run(Invocation& inv) override {
    if (!RefuseShareArgument(inv, key_arg_)) return kExitLocal;
    if (!otp_arg_.empty() && otp_arg_ != "-") {
      WipeString(otp_arg_);
      inv.err() << "Error: the one-time pad is not taken on the command line. Leave -otp out "
                   "to be asked for it, or pipe it on stdin.\n";
      return kExitLocal;
    }
    if (!pgp_key_.empty()) {
      inv.err() << "Error: -pgp-key is not supported: the token is encoded with a one-time "
                   "pad\n";
      return kExitLocal;
    }
    if (static_cast<int>(init_) + static_cast<int>(cancel_) + static_cast<int>(status_) +
            static_cast<int>(!decode_.empty()) >
        1) {
      inv.err() << "Error: -init, -cancel, -status and -decode are exclusive\n";
      return kExitLocal;
    }
    if (!decode_.empty()) return Decode(inv);
    client_ = ClientOrReport(inv);
    if (!client_) return kExitServer;
    if (init_) return Init(inv);
    if (cancel_) return Cancel(inv);
    if (status_) return PrintStatus(inv);
    return Update(inv);
  }

 private:
  int Fail(Invocation& inv, std::string_view what, const Status& error,
           std::string_view secret = {}) {
    inv.err() << "Error " << what << ": " << Redact(error.message(), secret) << "\n";
    return kExitServer;
  }

  int Init(Invocation& inv) {
    Result<Json> resp = client_->Request("PUT", "/v1/sys/generate-root/attempt", "{}");
    if (!resp) return Fail(inv, "initializing root generation", resp.error());
    ShowStatus(inv, *resp);
    if (!IsStructured(inv.format)) {
      inv.out() << "\n"
                << WrapAtLength(
                       "A one-time pad (OTP) was drawn for this attempt and is shown "
                       "above. It is needed to decode the token at the end and is not "
                       "shown again: keep it safe.")
                << "\n";
    }
    return 0;
  }

  int Cancel(Invocation& inv) {
    Result<Json> resp = client_->Request("DELETE", "/v1/sys/generate-root/attempt");
    if (!resp) return Fail(inv, "canceling root generation", resp.error());
    inv.out() << "Success! Root token generation canceled (if it was started)\n";
    return 0;
  }

  int PrintStatus(Invocation& inv) {
    Result<Json> resp = client_->Request("GET", "/v1/sys/generate-root/attempt");
    if (!resp) return Fail(inv, "getting root generation status", resp.error());
    ShowStatus(inv, *resp);
    return 0;
  }

  static void ShowStatus(Invocation& inv, const Json& s) {
    if (IsStructured(inv.format)) {
      inv.out() << FormatStructured(inv.format, s);
      return;
    }
    std::vector<Row> rows{
        {"Key", "Value"},
        {"Nonce", JsonString(s, "nonce")},
        {"Started", Bool(JsonBool(s, "started"))},
        {"Progress", Text(JsonInt(s, "progress")) + "/" + Text(JsonInt(s, "required"))},
        {"Complete", Bool(JsonBool(s, "complete"))}};
    if (std::string enc = JsonString(s, "encoded_token"); !enc.empty()) {
      rows.push_back({"Encoded Token", enc});
    }
    if (std::string otp = JsonString(s, "otp"); !otp.empty()) rows.push_back({"OTP", otp});
    rows.push_back({"OTP Length", Text(JsonInt(s, "otp_length"))});
    inv.out() << FormatColumns(rows);
  }

  Result<std::string> Nonce(Invocation& inv) {
    if (!nonce_.empty()) return nonce_;
    Result<Json> s = client_->Request("GET", "/v1/sys/generate-root/attempt");
    if (!s) return Err(s.error());
    if (!JsonBool(*s, "started")) return Err(InvalidArgument("no root generation is in progress"));
    std::string nonce = JsonString(*s, "nonce");
    inv.err() << "Operation nonce: " << nonce << "\n";
    return nonce;
  }

  int Update(Invocation& inv) {
    Result<std::string> nonce = Nonce(inv);
    if (!nonce) return Fail(inv, "reading the attempt", nonce.error());
    WipeString(key_arg_);
    Result<Json> resp = PostShare(*client_, inv, "/v1/sys/generate-root/update", *nonce,
                                  "Unseal Key (will be hidden): ");
    if (!resp) return Fail(inv, "posting unseal key", resp.error());
    ShowStatus(inv, *resp);
    if (JsonBool(*resp, "complete") && !IsStructured(inv.format)) {
      inv.out() << "\n"
                << WrapAtLength(
                       "Root token generated. Decode it with \"coffer operator "
                       "generate-root -decode=<encoded token>\" and the attempt's "
                       "one-time pad.")
                << "\n";
    }
    return 0;
  }

  int Decode(Invocation& inv) {
    WipeString(otp_arg_);
    Result<SecretBytes> otp = inv.ReadSecret("One-time pad (will be hidden): ");
    if (!otp) return Fail(inv, "reading the one-time pad", otp.error());
    std::optional<SecretBytes> token = DecodeWithPad(decode_, otp->view());
    otp->Clear();
    if (!token) {
      inv.err() << "Error: the encoded token is not base64 of the one-time pad's length\n";
      return kExitLocal;
    }
    if (IsStructured(inv.format)) {
      std::string out = "{\"token\":";
      AppendJsonString(out, token->view());
      out += "}\n";
      inv.out() << out;
      WipeString(out);
    } else {
      inv.out() << token->view() << "\n";
    }
    token->Clear();
    return 0;
  }

  std::unique_ptr<ApiClient> client_;
  bool init_ = false;
  bool cancel_ = false;
  bool status_ = false;
  std::string nonce_;
  std::string decode_;
  std::string otp_arg_;
  std::string pgp_key_;
  std::string key_arg_;
};

}  // namespace

std::unique_ptr<Command> NewGenerateRootCommand() {
  return std::make_unique<GenerateRootCommand>();
}

}  // namespace coffer::cli
