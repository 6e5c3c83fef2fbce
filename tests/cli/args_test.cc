#include "cli/args.h"

#include <gtest/gtest.h>

namespace coffer::cli {
namespace {

struct Case {
  std::vector<std::string> in;
  std::vector<std::string> want;
};

TEST(NormalizeArgsTest, Table) {
  const std::vector<Case> cases = {
      {{"-key-shares=5"}, {"--key-shares=5"}},
      {{"-format", "json"}, {"--format", "json"}},
      {{"--key-shares", "5"}, {"--key-shares", "5"}},
      {{"--format=json"}, {"--format=json"}},
      {{"-tls-skip-verify"}, {"--tls-skip-verify"}},
      {{"-address=http://127.0.0.1:8200/-x"}, {"--address=http://127.0.0.1:8200/-x"}},
      {{"-ca-cert=-odd-name.pem"}, {"--ca-cert=-odd-name.pem"}},
      {{"-"}, {"-"}},    // stdin
      {{"-h"}, {"-h"}},  // one-letter flags stay short
      {{"-n", "3"}, {"-n", "3"}},
      {{"-x=1"}, {"-x=1"}},
      {{"-5"}, {"-5"}},  // negative numbers
      {{"-10"}, {"-10"}},
      {{"-1abc"}, {"-1abc"}},
      {{"-a.b"}, {"-a.b"}},  // not a flag name
      {{"-help"}, {"--help"}},
      {{"status", "-format=json"}, {"status", "--format=json"}},
      {{"operator", "unseal", "abc="}, {"operator", "unseal", "abc="}},
      {{"-format=json", "--", "-format=json", "-"}, {"--format=json", "--", "-format=json", "-"}},
      {{"--", "--"}, {"--", "--"}},
      {{""}, {""}},
      {{}, {}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(NormalizeArgs(c.in), c.want) << (c.in.empty() ? "<empty>" : c.in[0]);
  }
}

}  // namespace
}  // namespace coffer::cli
