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

}  // namespace
}  // namespace coffer::core
