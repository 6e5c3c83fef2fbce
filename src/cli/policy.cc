// `coffer policy write|read|list|delete|fmt` against sys/policies/acl.
#include "policy/policy.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>

#include "cli/command_util.h"
#include "cli/policy_fmt.h"
#include "cli/secret_output.h"
#include "common/text.h"

namespace coffer::cli {
namespace {

class PolicyCommand : public Command {
 public:
  enum class Kind { kWrite, kRead, kList, kDelete, kFmt };
  explicit PolicyCommand(Kind kind) : kind_(kind) {}

  void AddFlags(CLI::App& app) override {
    if (kind_ == Kind::kWrite) {
      app.add_option("--cas", cas_,
                     "Write only if the policy is at this version (-1: only if it does not "
                     "exist)");
      app.add_flag("--cas-required", cas_required_,
                   "Require check-and-set on this and the next write of the policy");
    }
    app.add_option("args", args_, "arguments");
  }

  int Run(Invocation& inv) override {
    const std::size_t want = kind_ == Kind::kWrite ? 2 : kind_ == Kind::kList ? 0 : 1;
    if (!ArityOk(inv, args_.size(), want, want)) return kExitLocal;
    if (kind_ == Kind::kFmt) return Fmt(inv);
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    const std::string name = args_.empty() ? "" : AsciiLower(SanitizePath(args_[0]));
    const std::string path = "/v1/sys/policies/acl/" + name;
    switch (kind_) {
      case Kind::kWrite: {
        std::string text;
        if (args_[1] == "-") {
          text = ReadAll(*inv.env.in);
        } else {
          std::ifstream f(args_[1], std::ios::binary);
          if (!f) {
            inv.err() << "Error opening policy file: cannot read \"" << args_[1] << "\"\n";
            return kExitServer;  // Vault's exit status for it
          }
          text = ReadAll(f);
        }
        Json body{{"policy", text}};
        if (cas_) body["cas"] = *cas_;
        if (cas_required_) body["cas_required"] = true;
        Result<Json> r = client->Request("PUT", path, body.dump());
        if (!r) {
          inv.err() << "Error uploading policy: " << r.error().message() << "\n";
          return kExitServer;
        }
        // Vault's wording; the name as given goes to stderr only.
        if (const std::string given(Trim(args_[0])); given != name) {
          inv.err() << "Policy name was converted from \"" << given << "\" to \"" << name << "\"\n";
        }
        inv.out() << "Success! Uploaded policy: " << name << "\n";
        return 0;
      }
      case Kind::kRead: {
        Result<ApiResponse> r = client->Send("GET", path);
        if (r && r->status == 404) {
          inv.err() << "No policy named: " << name << "\n";
          return kExitServer;
        }
        if (!r || r->status >= 300) {
          inv.err() << "Error reading policy named " << name << ": "
                    << DescribeFailure(*client, "GET", path, r) << "\n";
          return kExitServer;
        }
        const Json& d = DataOf(r->body).is_object() ? DataOf(r->body) : r->body;
        std::string rules = d.contains("policy") ? ScalarText(d["policy"]) : "";
        if (IsStructured(inv.format)) return OutputData(inv, Json{{"policy", rules}});
        std::string_view t = rules;
        while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
        while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) {
          t.remove_prefix(1);
        }
        inv.out() << t << "\n";
        return 0;
      }
      case Kind::kList: {
        Result<Json> r = client->Request("LIST", "/v1/sys/policies/acl");
        if (!r) {
          inv.err() << "Error listing policies: " << r.error().message() << "\n";
          return kExitServer;
        }
        const Json& keys = DataOf(*r).is_object() && DataOf(*r).contains("keys")
                               ? DataOf(*r)["keys"]
                               : Json::array();
        if (IsStructured(inv.format)) {
          inv.out() << FormatStructured(inv.format, keys);
        } else {
          for (const Json& k : keys) inv.out() << ScalarText(k) << "\n";
        }
        return 0;
      }
      case Kind::kDelete: {
        Result<Json> r = client->Request("DELETE", path);
        if (!r) {
          inv.err() << "Error deleting " << name << ": " << r.error().message() << "\n";
          return kExitServer;
        }
        inv.out() << "Success! Deleted policy: " << name << "\n";
        return 0;
      }
      case Kind::kFmt:
        break;
    }
    return kExitLocal;
  }

 private:
  int Fmt(Invocation& inv) {
    const std::string& file = args_[0];
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      inv.err() << "Error opening policy file: cannot read \"" << file << "\"\n";
      return kExitLocal;
    }
    std::string text = ReadAll(in);
    Result<std::string> out = FormatPolicy(text);
    if (!out) {
      inv.err() << "Error parsing policy: " << out.error().message() << "\n";
      return kExitLocal;
    }
    // As Vault's `policy fmt`, only a policy the server would accept is
    // rewritten: capabilities, parameters, globs, templates.
    std::string name = policy::CanonicalPolicyName(std::filesystem::path(file).stem().string());
    if (!policy::ValidatePolicyName(name).ok() || name == "root") name = "policy";
    if (Result<policy::Policy> parsed = policy::ParsePolicy(name, text); !parsed) {
      inv.err() << "Error parsing policy: " << parsed.error().message() << "\n";
      return kExitLocal;
    }
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    f << *out;
    f.close();
    if (!f) {
      inv.err() << "Error writing policy file \"" << file << "\"\n";
      return kExitLocal;
    }
    inv.out() << "Success! Formatted policy: " << file << "\n";
    return 0;
  }

  Kind kind_;
  std::optional<long long> cas_;
  bool cas_required_ = false;
  std::vector<std::string> args_;
};

}  // namespace

void RegisterPolicyCommands(Registry& registry) {
  using Kind = PolicyCommand::Kind;
  registry.Add({"policy", "Interact with policies",
                "Usage: coffer policy <subcommand> [options] [args]\n\n"
                "  Manages ACL policies (sys/policies/acl).",
                nullptr});
  registry.Add({"policy write", "Uploads a named policy from a file",
                "Usage: coffer policy write [options] NAME PATH\n\n"
                "  Uploads the HCL or JSON policy in PATH (- for stdin) as NAME.\n\n"
                "  -cas=N          write only if the policy is at version N (-1: only if\n"
                "                  it does not exist)\n"
                "  -cas-required   require check-and-set on this and the next write",
                [] { return std::make_unique<PolicyCommand>(Kind::kWrite); }});
  registry.Add({"policy read", "Prints the contents of a policy",
                "Usage: coffer policy read [options] NAME",
                [] { return std::make_unique<PolicyCommand>(Kind::kRead); }});
  registry.Add({"policy list", "Lists the installed policies", "Usage: coffer policy list",
                [] { return std::make_unique<PolicyCommand>(Kind::kList); }});
  registry.Add({"policy delete", "Deletes a policy by name",
                "Usage: coffer policy delete [options] NAME",
                [] { return std::make_unique<PolicyCommand>(Kind::kDelete); }});
  registry.Add({"policy fmt", "Formats a policy on disk",
                "Usage: coffer policy fmt [options] PATH\n\n"
                "  Rewrites the policy file in Vault's HCL layout, keeping the order of\n"
                "  its blocks and attributes and its comments. A policy the server would\n"
                "  refuse is reported and the file left as it is.",
                [] { return std::make_unique<PolicyCommand>(Kind::kFmt); }});
}

}  // namespace coffer::cli
