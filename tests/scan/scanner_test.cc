// Scanner, allow-list, inline ignores, report formats (SARIF shape,
// redaction), exit codes, the tree walk and the git diff parser.
#include "scan/scanner.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "scan/allowlist.h"
#include "scan/git.h"
#include "scan/report.h"
#include "scan/runner.h"
#include "scan/walker.h"

namespace coffer::scan {
namespace {

namespace fs = std::filesystem;

const std::string kGithub = "ghp_8fK2mQ9xL4vN7bR1tY6wZ3cH5jP0sD2gA9eU";
const std::string kAws = "AKIAQ7XB2M4KZ9PL3RTW";
const std::string kPassword = "S3cr3t!Pa55w0rdZq";

class TempTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("coffer-scan-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& content) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary) << content;
  }
  int Run(RunOptions o, std::string* out = nullptr, std::string* err = nullptr) {
    if (o.path == ".") o.path = root_.string();
    std::ostringstream os, es;
    int code = RunScan(o, os, es);
    if (out) *out = os.str();
    if (err) *err = es.str();
    return code;
  }
  fs::path root_;
};

TEST_F(TempTree, FindsWithLineAndColumn) {
  Write("app/config.py", "# settings\nDEBUG = True\ntoken = '" + kGithub + "'\n");
  Scanner scanner(ScanOptions{});
  Result<ScanReport> r = scanner.ScanPath(root_);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->findings.size(), 1u);
  const Finding& f = r->findings[0];
  EXPECT_EQ(f.path, "app/config.py");
  EXPECT_EQ(f.line, 3);
  EXPECT_EQ(f.column, 10);
  EXPECT_EQ(InfoOf(f.rule).id, "github-token");
  EXPECT_EQ(f.secret.view(), kGithub);
  EXPECT_EQ(f.fingerprint.size(), 32u);
}

TEST_F(TempTree, SkipsGitNodeModulesBinaryAndLargeFiles) {
  Write(".git/config", "token = '" + kGithub + "'\n");
  Write("node_modules/x/index.js", "token = '" + kGithub + "'\n");
  Write("image.bin", std::string("\x89PNG\0\0", 6) + kGithub);
  Write("big.txt", std::string(2048, 'a') + "\n" + kGithub + "\n");
  Write("ok.txt", kAws + "\n");
  ScanOptions o;
  o.max_file_size = 1024;
  Result<ScanReport> r = Scanner(std::move(o)).ScanPath(root_);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->findings.size(), 1u);
  EXPECT_EQ(r->findings[0].path, "ok.txt");
  EXPECT_EQ(r->stats.skipped_binary, 1u);
  EXPECT_EQ(r->stats.skipped_large, 1u);
}

// A file read after the walk listed it may have grown, or been replaced by
// a FIFO or a symbolic link: the read stops at the limit and neither blocks
// nor follows the link.
TEST_F(TempTree, ReadStopsAtTheLimitAndRefusesWhatIsNoLongerAFile) {
  std::string buf = "left over";
  Write("exact.txt", std::string(1000, 'a'));
  ASSERT_TRUE(ReadFileInto(root_ / "exact.txt", buf, 1000).ok());
  EXPECT_EQ(buf.size(), 1000u);

  Write("grown.txt", std::string(300 * 1024, 'b'));
  Status s = ReadFileInto(root_ / "grown.txt", buf, 1000);
  EXPECT_EQ(s.code(), Code::kTooLarge) << s.message();
  EXPECT_TRUE(buf.empty());
  s = ReadFileInto(root_ / "grown.txt", buf, 300 * 1024 - 1);
  EXPECT_EQ(s.code(), Code::kTooLarge) << s.message();

  ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
  s = ReadFileInto(root_ / "fifo", buf, 1000);  // would block without a writer
  EXPECT_EQ(s.code(), Code::kUnsupported) << s.message();

  // A file named as the scan's root may be a link: that one is followed.
  Write("real.py", "token = '" + kGithub + "'\n");
  fs::create_symlink(root_ / "real.py", root_ / "named-link.py");
  Scanner scanner(ScanOptions{});
  Result<ScanReport> r = scanner.ScanPath(root_ / "named-link.py");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->findings.size(), 1u);
  EXPECT_TRUE(r->warnings.empty());

  fs::create_symlink("/dev/zero", root_ / "link");
  s = ReadFileInto(root_ / "link", buf, 1000);
  EXPECT_EQ(s.code(), Code::kUnsupported) << s.message();
  EXPECT_EQ(s.message().find("aaa"), std::string::npos);
}

TEST_F(TempTree, InlineIgnore) {
  Write("a.env", "A=" + kAws + "  # coffer:ignore\nB=" + kGithub + "\n");
  Result<ScanReport> r = Scanner(ScanOptions{}).ScanPath(root_);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->findings.size(), 1u);
  EXPECT_EQ(InfoOf(r->findings[0].rule).id, "github-token");
}

TEST_F(TempTree, AllowlistPathsRulesFingerprints) {
  Write("src/a.py", "t = '" + kGithub + "'\n");
  Write("tests/fixtures/b.py", "t = '" + kGithub + "'\n");
  Write("c.txt", kAws + "\n");
  Write("d.env", "DB_PASSWORD=" + kPassword + "\n");
  Result<ScanReport> all = Scanner(ScanOptions{}).ScanPath(root_);
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->findings.size(), 4u);
  std::string fp_of_d;
  for (const Finding& f : all->findings) {
    if (f.path == "d.env") fp_of_d = f.fingerprint;
  }
  Result<Allowlist> list = Allowlist::Parse(
      "# fixtures are fake\ntests/fixtures/\nrule:aws-access-key-id\nfingerprint:" + fp_of_d +
      "\n");
  ASSERT_TRUE(list.has_value()) << list.error().message();
  ScanOptions o;
  o.allowlist = std::move(*list);
  Result<ScanReport> r = Scanner(std::move(o)).ScanPath(root_);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->findings.size(), 1u);
  EXPECT_EQ(r->findings[0].path, "src/a.py");

  // A .cofferignore at the root is picked up by RunScan.
  Write(".cofferignore", "*.py\nrule:aws-access-key-id\nfingerprint:" + fp_of_d + "\n");
  EXPECT_EQ(Run({}), kExitClean);
}

TEST(Allowlist, Errors) {
  EXPECT_FALSE(Allowlist::Parse("rule:no-such-rule\n").has_value());
  EXPECT_FALSE(Allowlist::Parse("bogus:thing\n").has_value());
  Result<Allowlist> ok = Allowlist::Parse("path:docs/*.md\n*.lock\nrule:jwt # trailing comment\n");
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(ok->PathAllowed("docs/x.md"));
  EXPECT_TRUE(ok->PathAllowed("a/b/yarn.lock"));
  EXPECT_FALSE(ok->PathAllowed("src/x.md"));
}

TEST_F(TempTree, ExitCodes) {
  EXPECT_EQ(Run({}), kExitClean);  // empty tree
  Write("a.txt", "nothing to see\n");
  EXPECT_EQ(Run({}), kExitClean);
  Write("b.txt", kAws + "\n");
  EXPECT_EQ(Run({}), kExitFindings);
  RunOptions missing;
  missing.path = (root_ / "nope").string();
  EXPECT_EQ(Run(missing), kExitError);
  RunOptions bad_format;
  bad_format.format = "xml";
  EXPECT_EQ(Run(bad_format), kExitError);
  RunOptions bad_size;
  bad_size.max_size = "lots";
  EXPECT_EQ(Run(bad_size), kExitError);
  Write(".cofferignore", "rule:nope\n");
  EXPECT_EQ(Run({}), kExitError);
  RunOptions not_git;
  not_git.git = true;
  fs::remove(root_ / ".cofferignore");
  EXPECT_EQ(Run(not_git), kExitError);  // not a repository
}

TEST_F(TempTree, RedactedInEveryFormat) {
  const std::string jwt =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJzdmMifQ."
      "k3Jd9sQm2Lx7Vb4Np1Rt8Wy6Zc0Fh5Gj2Hk9Lm3Qn7P";
  Write("a.env",
        "A=" + kAws + "\nT=" + kGithub + "\nDB_PASSWORD=" + kPassword + "\nJ=" + jwt + "\n");
  for (std::string format : {"text", "json", "sarif"}) {
    RunOptions o;
    o.format = format;
    std::string out, err;
    EXPECT_EQ(Run(o, &out, &err), kExitFindings);
    for (const std::string& secret : {kAws, kGithub, kPassword, jwt}) {
      EXPECT_EQ(out.find(secret), std::string::npos) << format;
      EXPECT_EQ(err.find(secret), std::string::npos) << format;
      // Not even a long part of it.
      EXPECT_EQ(out.find(secret.substr(4, 8)), std::string::npos) << format;
    }
    EXPECT_NE(out.find("ghp_\u2026"), std::string::npos) << format;
  }
  std::string out;
  Run({}, &out);
  EXPECT_NE(out.find("a.env:2:3: github-token (high) ghp_\u2026"), std::string::npos) << out;
}

TEST_F(TempTree, SarifShape) {
  Write("src/a.py", "t = '" + kGithub + "'\n");
  Write("b.env", "DB_PASSWORD=" + kPassword + "\n");
  RunOptions o;
  o.format = "sarif";
  std::string out;
  ASSERT_EQ(Run(o, &out), kExitFindings);
  nlohmann::json doc = nlohmann::json::parse(out);
  EXPECT_EQ(doc["version"], "2.1.0");
  EXPECT_TRUE(doc["$schema"].get<std::string>().find("sarif") != std::string::npos);
  ASSERT_EQ(doc["runs"].size(), 1u);
  const auto& run = doc["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "coffer-scan");
  const auto& rules = run["tool"]["driver"]["rules"];
  ASSERT_EQ(rules.size(), AllRules().size());
  for (const auto& r : rules) {
    EXPECT_TRUE(r["id"].is_string());
    EXPECT_TRUE(r["shortDescription"]["text"].is_string());
  }
  ASSERT_EQ(run["results"].size(), 2u);
  for (const auto& r : run["results"]) {
    std::string id = r["ruleId"];
    int index = r["ruleIndex"];
    EXPECT_EQ(rules[static_cast<std::size_t>(index)]["id"], id);
    EXPECT_TRUE(r["message"]["text"].is_string());
    EXPECT_TRUE(r["level"] == "error" || r["level"] == "warning" || r["level"] == "note");
    const auto& loc = r["locations"][0]["physicalLocation"];
    EXPECT_TRUE(loc["artifactLocation"]["uri"].is_string());
    EXPECT_GE(loc["region"]["startLine"].get<int>(), 1);
    EXPECT_GE(loc["region"]["startColumn"].get<int>(), 1);
    EXPECT_EQ(r["partialFingerprints"]["cofferFingerprint/v1"].get<std::string>().size(), 32u);
  }
  EXPECT_EQ(run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "b.env");
}

TEST_F(TempTree, JsonReport) {
  Write("b.env", "DB_PASSWORD=" + kPassword + "\n");
  RunOptions o;
  o.format = "json";
  std::string out;
  ASSERT_EQ(Run(o, &out), kExitFindings);
  nlohmann::json doc = nlohmann::json::parse(out);
  ASSERT_EQ(doc["findings"].size(), 1u);
  const auto& f = doc["findings"][0];
  EXPECT_EQ(f["rule_id"], "generic-secret");
  EXPECT_EQ(f["key"], "DB_PASSWORD");
  EXPECT_EQ(f["line"], 1);
  EXPECT_EQ(f["column"], 13);
  EXPECT_EQ(doc["stats"]["files_scanned"], 1);
}

TEST(DiffParser, AttributesAddedLines) {
  std::vector<std::tuple<std::string, std::string, std::string, std::vector<int>>> chunks;
  DiffParser parser(
      [&](const std::string& c, const std::string& p, std::string_view t,
          const std::vector<int>& l) { chunks.emplace_back(c, p, std::string(t), l); });
  const std::string sha(40, 'a');
  const std::vector<std::string> diff = {
      "commit " + sha,
      "diff --git a/x.py b/x.py",
      "--- a/x.py",
      "+++ b/x.py",
      "@@ -3,0 +4,2 @@ def f():",
      "+one",
      "+++ two (content that looks like a header)",
      "@@ -10 +12 @@",
      "-old",
      "+three",
      "diff --git a/gone b/gone",
      "--- a/gone",
      "+++ /dev/null",
      "@@ -1 +0,0 @@",
      "-x",
  };
  for (const std::string& line : diff) {
    parser.Line(line);
  }
  parser.Finish();
  ASSERT_EQ(chunks.size(), 1u);
  auto& [commit, path, text, lines] = chunks[0];
  EXPECT_EQ(commit, sha);
  EXPECT_EQ(path, "x.py");
  EXPECT_EQ(text, "one\n++ two (content that looks like a header)\n\nthree\n");
  EXPECT_EQ(lines, (std::vector<int>{4, 5, 5, 12}));
  EXPECT_EQ(parser.commits(), 1);
}

TEST(Size, Parse) {
  EXPECT_EQ(*ParseSize("10M"), 10u * 1024 * 1024);
  EXPECT_EQ(*ParseSize("512k"), 512u * 1024);
  EXPECT_EQ(*ParseSize("100"), 100u);
  EXPECT_FALSE(ParseSize("M").has_value());
  EXPECT_FALSE(ParseSize("-1").has_value());
}

}  // namespace
}  // namespace coffer::scan
