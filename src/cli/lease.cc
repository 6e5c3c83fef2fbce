// `coffer lease renew|revoke|lookup` (sys/leases).
#include <CLI/CLI.hpp>

#include "cli/command_util.h"
#include "cli/secret_output.h"

namespace coffer::cli {
namespace {

class LeaseCommand : public Command {
 public:
  enum class Kind { kRenew, kRevoke, kLookup };
  explicit LeaseCommand(Kind kind) : kind_(kind) {}

  void AddFlags(CLI::App& app) override {
    app.add_option("args", args_, "ID");
    if (kind_ == Kind::kRenew) app.add_option("--increment,-i", increment_, "Requested TTL");
    if (kind_ == Kind::kRevoke) {
      app.add_flag("--prefix", prefix_, "Revoke every lease under the ID as a prefix");
      app.add_flag("--force,-f", force_, "With -prefix: drop the leases even if the backend fails");
      app.add_flag("--sync", sync_, "Revoke before answering instead of queuing the revocations");
    }
    if (kind_ != Kind::kRevoke) AddFieldFlag(app, field_);
  }

  int Run(Invocation& inv) override {
    if (!ArityOk(inv, args_.size(), 1, 1)) return kExitLocal;
    if (force_ && !prefix_) {
      inv.err() << "Specifying -force requires also specifying -prefix\n";
      return kExitLocal;
    }
    const std::string id = SanitizePath(args_[0]);
    Json body = {{"lease_id", id}};
    if (kind_ == Kind::kRenew && !increment_.empty()) {
      Result<long long> secs = DurationSeconds(increment_);
      if (!secs) {
        inv.err() << "Invalid -increment \"" << increment_ << "\": not a duration\n";
        return kExitLocal;
      }
      body["increment"] = *secs;
    }
    std::unique_ptr<ApiClient> client = ClientOrReport(inv);
    if (!client) return kExitServer;
    if (kind_ == Kind::kRevoke) {
      // As Vault's command: queued (sync=false, 202) unless -sync.
      if (force_) {
        inv.err() << "Warning! Force-removing leases can cause Coffer to become out of sync "
                     "with secret engines!\n";
      }
      body["sync"] = sync_;
      Result<Json> r = force_    ? client->Request("PUT", "/v1/sys/leases/revoke-force/" + id)
                       : prefix_ ? client->Request("PUT", "/v1/sys/leases/revoke-prefix/" + id,
                                                   Json{{"sync", sync_}}.dump())
                                 : client->Request("PUT", "/v1/sys/leases/revoke", body.dump());
      if (!r) {
        inv.err() << "Error " << (force_ ? "force " : "") << "revoking lease"
                  << (prefix_ ? "s with prefix " : " ") << id << ": " << r.error().message()
                  << "\n";
        return kExitServer;
      }
      if (force_) {
        inv.out() << "Success! Force revoked any leases with prefix: " << id << "\n";
      } else if (!sync_) {
        inv.out() << "All revocation operations queued successfully!\n";
      } else if (prefix_) {
        inv.out() << "Success! Revoked any leases with prefix: " << id << "\n";
      } else {
        inv.out() << "Success! Revoked lease: " << id << "\n";
      }
      return 0;
    }
    const char* path = kind_ == Kind::kRenew ? "/v1/sys/leases/renew" : "/v1/sys/leases/lookup";
    Result<Json> r = client->Request("PUT", path, body.dump());
    if (!r) {
      inv.err() << (kind_ == Kind::kRenew ? "Error renewing " : "Error looking up lease id ") << id
                << ": " << r.error().message() << "\n";
      return kExitServer;
    }
    if (!field_.empty()) return PrintSecretField(inv, *r, field_);
    return OutputSecret(inv, *r);
  }

 private:
  Kind kind_;
  std::vector<std::string> args_;
  std::string increment_, field_;
  bool prefix_ = false, force_ = false, sync_ = false;
};

}  // namespace

void RegisterLeaseCommands(Registry& registry) {
  using Kind = LeaseCommand::Kind;
  registry.Add({"lease", "Interact with leases",
                "Usage: coffer lease <subcommand> [options] [args]", nullptr});
  registry.Add({"lease renew", "Renews the lease of a secret",
                "Usage: coffer lease renew [options] ID",
                [] { return std::make_unique<LeaseCommand>(Kind::kRenew); }});
  registry.Add({"lease revoke", "Revokes leases and secrets",
                "Usage: coffer lease revoke [options] ID\n\n"
                "  -prefix revokes every lease under ID; -force (with -prefix) also drops\n"
                "  leases whose backend cannot revoke them. Without -sync the revocations\n"
                "  are queued: the server answers at once and revokes in the background.",
                [] { return std::make_unique<LeaseCommand>(Kind::kRevoke); }});
  registry.Add({"lease lookup", "Lookup the lease of a secret",
                "Usage: coffer lease lookup [options] ID",
                [] { return std::make_unique<LeaseCommand>(Kind::kLookup); }});
}

}  // namespace coffer::cli
