// Every engine answers every truncation of every route it documents (its
// path help, logical/help.h) with a client error or an answer, never with a
// 500 or an exception: a path cut short ("transit/export") or a route's
// section alone must not reach code that expects the whole route.

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core_fixture.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

class RoutePrefixTest : public CoreFixture {
 protected:
  // The routes `mount` documents, read back from its help overview
  // ("    ^keys/(?P<name>[^/]+)$"), as sample paths: a segment becomes "a",
  // a rest "a/b".
  std::vector<std::string> DocumentedSamples(const std::string& mount) {
    const logical::Response r = Call(Operation::kHelp, mount);
    EXPECT_EQ(r.http_status, 200) << mount;
    std::vector<std::string> samples;
    if (!r.raw) return samples;
    std::istringstream lines(r.raw->at("help").get<std::string>());
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with("    ^") || !line.ends_with('$')) continue;
      std::string regex = line.substr(5, line.size() - 6), sample;
      for (std::size_t i = 0; i < regex.size();) {
        if (regex.compare(i, 4, "(?P<") != 0) {
          sample.push_back(regex[i++]);
          continue;
        }
        const std::size_t close = regex.find(')', i);
        sample += regex.compare(close - 5, 5, "[^/]+") == 0 ? "a" : "a/b";
        i = close + 1;
      }
      samples.push_back(std::move(sample));
    }
    EXPECT_FALSE(samples.empty()) << mount;
    return samples;
  }

  // Sends every prefix of every documented route's sample path under
  // `mount` with each operation, but for the paths in `skip`; returns how
  // many requests were sent.
  int SendPrefixes(const std::string& mount, const std::set<std::string>& skip = {}) {
    std::set<std::string> paths;
    for (const std::string& sample : DocumentedSamples(mount)) {
      for (std::size_t n = 0; n <= sample.size(); ++n) paths.insert(sample.substr(0, n));
    }
    int sent = 0;
    for (const std::string& path : paths) {
      if (skip.contains(path)) continue;
      for (Operation op : {Operation::kRead, Operation::kList, Operation::kUpdate,
                           Operation::kPatch, Operation::kDelete}) {
        const std::string full = mount + path;
        logical::Response r;
        EXPECT_NO_THROW(r = Call(op, full)) << logical::OperationName(op) << " " << full;
        EXPECT_NE(r.http_status, 500) << logical::OperationName(op) << " " << full << ": "
                                      << (r.raw ? r.raw->dump() : r.data.dump());
        ++sent;
      }
    }
    return sent;
  }

  void Mount(const std::string& path, const Json& body) {
    ASSERT_EQ(Call(Operation::kUpdate, "sys/mounts/" + path, body).http_status, 204) << path;
  }
  void Enable(const std::string& path, const std::string& type) {
    ASSERT_EQ(Call(Operation::kUpdate, "sys/auth/" + path, Json{{"type", type}}).http_status, 204)
        << path;
  }
};

TEST_F(RoutePrefixTest, SecretsEngines) {
  Mount("kv1", Json{{"type", "kv"}});
  Mount("kv2", Json{{"type", "kv"}, {"options", {{"version", "2"}}}});
  Mount("transit", Json{{"type", "transit"}});
  Mount("database", Json{{"type", "database"}});
  int sent = 0;
  for (const char* mount : {"kv1/", "kv2/", "transit/", "database/"}) sent += SendPrefixes(mount);
  EXPECT_GT(sent, 1000);
}

TEST_F(RoutePrefixTest, AuthMethods) {
  Enable("userpass", "userpass");
  Enable("approle", "approle");
  Enable("cert", "cert");
  Enable("jwt", "jwt");
  int sent = 0;
  for (const char* mount : {"auth/userpass/", "auth/approle/", "auth/cert/", "auth/jwt/"}) {
    sent += SendPrefixes(mount);
  }
  EXPECT_GT(sent, 500);
}

TEST_F(RoutePrefixTest, CoreBackends) {
  int sent = 0;
  // Revoking the caller's token or sealing would leave nothing to test
  // after it.
  sent += SendPrefixes("auth/token/", {"revoke-self"});
  for (const char* mount : {"identity/", "cubbyhole/"}) sent += SendPrefixes(mount);
  sent += SendPrefixes("sys/", {"seal"});
  EXPECT_GT(sent, 1000);
  EXPECT_EQ(Call(Operation::kRead, "sys/mounts").http_status, 200);  // still unsealed
}

// Fields of the wrong JSON type: each documented route's sample path gets
// writes whose fields (the names the help tables use, and the common short
// ones) are all arrays, objects, huge or negative numbers, nulls, booleans
// or empty strings. Each is refused or answered, never a 500.
class WrongTypeTest : public RoutePrefixTest {
 protected:
  static Json FieldsSetTo(const Json& value) {
    static constexpr const char* kNames[] = {"name",
                                             "type",
                                             "policies",
                                             "policy",
                                             "rules",
                                             "ttl",
                                             "max_ttl",
                                             "data",
                                             "options",
                                             "cas",
                                             "versions",
                                             "version",
                                             "plaintext",
                                             "ciphertext",
                                             "input",
                                             "token",
                                             "accessor",
                                             "increment",
                                             "password",
                                             "username",
                                             "paths",
                                             "path",
                                             "period",
                                             "metadata",
                                             "meta",
                                             "config",
                                             "description",
                                             "bits",
                                             "format",
                                             "algorithm",
                                             "context",
                                             "backup",
                                             "force",
                                             "jwt",
                                             "role",
                                             "certificate",
                                             "key",
                                             "keys",
                                             "nonce",
                                             "signature",
                                             "hmac",
                                             "prehashed",
                                             "exportable",
                                             "derived",
                                             "renewable",
                                             "orphan",
                                             "disabled",
                                             "members",
                                             "bytes",
                                             "source",
                                             "sync",
                                             "prefix",
                                             "otp",
                                             "url",
                                             "id",
                                             "lease_id",
                                             "role_name",
                                             "role_id",
                                             "secret_id",
                                             "num_uses",
                                             "explicit_max_ttl",
                                             "no_parent",
                                             "no_default_policy",
                                             "display_name",
                                             "entity_id",
                                             "token_policies",
                                             "token_ttl",
                                             "token_max_ttl",
                                             "token_type",
                                             "token_bound_cidrs",
                                             "custom_metadata",
                                             "max_versions",
                                             "cas_required",
                                             "delete_version_after",
                                             "batch_input",
                                             "key_version",
                                             "hash_algorithm",
                                             "signature_algorithm",
                                             "marshaling_algorithm",
                                             "salt_length",
                                             "min_decryption_version",
                                             "min_encryption_version",
                                             "min_available_version",
                                             "deletion_allowed",
                                             "auto_rotate_period",
                                             "connection_url",
                                             "creation_statements",
                                             "revocation_statements",
                                             "default_ttl",
                                             "db_name",
                                             "plugin_name",
                                             "allowed_roles",
                                             "rotation_period",
                                             "secret_shares",
                                             "secret_threshold",
                                             "member_entity_ids",
                                             "member_group_ids",
                                             "canonical_id",
                                             "mount_accessor",
                                             "bound_audiences",
                                             "bound_claims",
                                             "user_claim",
                                             "groups_claim",
                                             "jwks_url",
                                             "jwt_validation_pubkeys",
                                             "oidc_discovery_url",
                                             "role_type",
                                             "bind_secret_id",
                                             "secret_id_num_uses",
                                             "secret_id_ttl",
                                             "cidr_list",
                                             "allowed_common_names",
                                             "allowed_policies",
                                             "disallowed_policies",
                                             "path_suffix",
                                             "method_id",
                                             "mfa_method_ids",
                                             "default_lease_ttl",
                                             "max_lease_ttl",
                                             "audit_non_hmac_request_keys",
                                             "convergent_encryption",
                                             "key_size",
                                             "associated_data",
                                             "local",
                                             "seal_wrap",
                                             "from",
                                             "to",
                                             "sys",
                                             "expiration"};
    Json body = Json::object();
    for (const char* name : kNames) body[name] = value;
    return body;
  }

  int SendWrongTypes(const std::string& mount, const std::set<std::string>& skip = {}) {
    const Json values[] = {Json::array({1}), Json{{"a", 1}}, Json(1e300), Json(-1),
                           Json(nullptr),    Json(true),     Json("")};
    int sent = 0;
    for (const std::string& path : DocumentedSamples(mount)) {
      if (skip.contains(path)) continue;
      for (const Json& value : values) {
        for (Operation op : {Operation::kUpdate, Operation::kPatch}) {
          const std::string full = mount + path;
          logical::Response r;
          EXPECT_NO_THROW(r = Call(op, full, FieldsSetTo(value)))
              << logical::OperationName(op) << " " << full << " " << value.dump();
          EXPECT_NE(r.http_status, 500)
              << logical::OperationName(op) << " " << full << " with " << value.dump() << ": "
              << (r.raw ? r.raw->dump() : r.data.dump());
          ++sent;
        }
      }
    }
    return sent;
  }
};

// Reads, lists and deletes whose query parameters (the request's data for
// those operations) are all odd strings: empty, negative, too large for any
// integer, not a number, a float beyond double's range, a NUL.
TEST_F(WrongTypeTest, OddQueryParameters) {
  Mount("kv1", Json{{"type", "kv"}});
  Mount("kv2", Json{{"type", "kv"}, {"options", {{"version", "2"}}}});
  Mount("transit", Json{{"type", "transit"}});
  ASSERT_EQ(Call(Operation::kUpdate, "kv2/data/a/b", Json{{"data", {{"k", "v"}}}}).http_status,
            200);
  static constexpr const char* kNames[] = {"version",  "versions",  "depth",  "limit", "after",
                                           "list",     "recursive", "format", "cas",   "token",
                                           "accessor", "lease_id",  "prefix", "type",  "name"};
  const std::string odd[] = {"",    "-1",    "99999999999999999999",
                             "abc", "1e309", std::string(1, '\0')};
  int sent = 0;
  for (const char* mount : {"kv1/", "kv2/", "transit/", "auth/token/", "sys/"}) {
    for (const std::string& path : DocumentedSamples(mount)) {
      for (const std::string& value : odd) {
        for (Operation op : {Operation::kRead, Operation::kList, Operation::kDelete}) {
          if (path == "seal" || path == "revoke-self") continue;
          logical::Request r;
          r.id = "req";
          r.operation = op;
          r.path = mount + path;
          if (op == Operation::kList && !r.path.ends_with('/')) r.path += '/';
          r.client_token = root_;
          r.remote_address = "127.0.0.1";
          for (const char* name : kNames) r.query[name] = value;
          logical::Response answer;
          EXPECT_NO_THROW(answer = core_->HandleRequest(r)) << r.path;
          EXPECT_NE(answer.http_status, 500)
              << logical::OperationName(op) << " " << r.path << " with \"" << value
              << "\": " << (answer.raw ? answer.raw->dump() : answer.data.dump());
          ++sent;
        }
      }
    }
  }
  EXPECT_GT(sent, 1000);
}

TEST_F(WrongTypeTest, EveryEngine) {
  Mount("kv1", Json{{"type", "kv"}});
  Mount("kv2", Json{{"type", "kv"}, {"options", {{"version", "2"}}}});
  Mount("transit", Json{{"type", "transit"}});
  Mount("database", Json{{"type", "database"}});
  Enable("userpass", "userpass");
  Enable("approle", "approle");
  Enable("cert", "cert");
  Enable("jwt", "jwt");
  int sent = 0;
  for (const char* mount :
       {"kv1/", "kv2/", "transit/", "database/", "auth/userpass/", "auth/approle/", "auth/cert/",
        "auth/jwt/", "identity/", "cubbyhole/"}) {
    sent += SendWrongTypes(mount);
  }
  sent += SendWrongTypes("auth/token/", {"revoke-self"});
  sent += SendWrongTypes("sys/", {"seal"});
  EXPECT_GT(sent, 2000);
  EXPECT_EQ(Call(Operation::kRead, "sys/mounts").http_status, 200);  // still unsealed
}

}  // namespace
}  // namespace coffer::core
