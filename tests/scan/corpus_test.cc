// The labelled corpus: a deterministic tree of source-like files with true
// secrets of every rule planted among look-alikes (UUIDs, SHA-1/SHA-256 hex,
// base64 image data, documented example keys, placeholders, lorem text, test
// fixtures, code that merely mentions secrets). The ground truth is recorded
// while writing; the scanner's findings are scored per rule.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "scan/scanner.h"

namespace coffer::scan {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kUpperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kHex = "0123456789abcdef";
constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kCorpusPassword =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#%^&*+=?";

std::string B64UrlEncode(std::string_view in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kBase64Url[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kBase64Url[(acc << (6 - bits)) & 63]);
  return out;
}

struct Planted {
  std::string rule;
  std::vector<std::string> lines;  // the secret is on lines[0]
};

class Corpus {
 public:
  explicit Corpus(std::uint64_t seed) : rng_(seed) {}

  std::string Rand(std::string_view alphabet, std::size_t n) {
    std::string s(n, ' ');
    for (char& c : s) c = alphabet[Pick(alphabet.size())];
    return s;
  }
  std::size_t Pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  template <typename T>
  const T& OneOf(const std::vector<T>& v) {
    return v[Pick(v.size())];
  }

  // A true secret of `rule` in a line of the syntax of `ext`.
  Planted Secret(const std::string& rule, const std::string& ext) {
    std::string v;
    std::string key = "value";
    if (rule == "aws-access-key-id") {
      v = OneOf<std::string>({"AKIA", "ASIA"}) + Rand(kUpperDigits, 16);
      key = "aws_access_key_id";
    } else if (rule == "aws-secret-access-key") {
      return {rule,
              {Assign(ext,
                      OneOf<std::string>(
                          {"aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "SecretAccessKey"}),
                      Rand(kBase64, 40))}};
    } else if (rule == "github-token") {
      v = OneOf<std::string>({"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}) + Rand(kAlnum, 36);
      key = "github";
    } else if (rule == "github-fine-grained-pat") {
      v = "github_pat_" + Rand(kAlnum, 22) + "_" + Rand(kAlnum, 59);
      key = "gh_pat";
    } else if (rule == "gitlab-token") {
      v = "glpat-" + Rand(kBase64Url, 20);
      key = "gitlab";
    } else if (rule == "slack-token") {
      v = Pick(2) == 0
              ? "xoxb-" + Rand(kDigits, 12) + "-" + Rand(kDigits, 13) + "-" + Rand(kAlnum, 24)
              : "xoxp-" + Rand(kDigits, 11) + "-" + Rand(kDigits, 12) + "-" + Rand(kDigits, 13) +
                    "-" + Rand(kHex, 32);
      key = "slack";
    } else if (rule == "slack-webhook") {
      v = "https://hooks.slack.com/services/T" + Rand(kUpperDigits, 8) + "/B" +
          Rand(kUpperDigits, 10) + "/" + Rand(kAlnum, 24);
      key = "webhook_url";
    } else if (rule == "stripe-live-key") {
      v = OneOf<std::string>({"sk_live_", "rk_live_"}) + Rand(kAlnum, 24 + Pick(76));
      key = "stripe";
    } else if (rule == "stripe-test-key") {
      v = "sk_test_" + Rand(kAlnum, 24 + Pick(76));
      key = "stripe";
    } else if (rule == "google-api-key") {
      v = "AIza" + Rand(kBase64Url, 35);
      key = "maps";
    } else if (rule == "jwt") {
      std::string header = OneOf<std::string>(
          {R"({"alg":"HS256","typ":"JWT"})", R"({"alg":"RS256","kid":")" + Rand(kAlnum, 8) + "\"}",
           R"({"typ":"JWT","alg":"ES256"})"});
      std::string payload =
          R"({"sub":")" + Rand(kAlnum, 10) + R"(","iat":)" + Rand(kDigits, 10) + "}";
      v = B64UrlEncode(header) + "." + B64UrlEncode(payload) + "." + Rand(kBase64Url, 43);
      key = "session";
    } else if (rule == "private-key") {
      std::string label = OneOf<std::string>({"RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY",
                                              "OPENSSH PRIVATE KEY", "PGP PRIVATE KEY BLOCK"});
      Planted p{rule, {"-----BEGIN " + label + "-----"}};
      for (std::size_t i = 0, n = 4 + Pick(20); i < n; ++i) p.lines.push_back(Rand(kBase64, 64));
      p.lines.push_back(Rand(kBase64, 20) + "==");
      p.lines.push_back("-----END " + label + "-----");
      return p;
    } else if (rule == "generic-secret") {
      static const std::vector<std::string> kKeys = {
          "password", "DB_PASSWORD", "api_key", "secret",       "client_secret", "auth_token",
          "passwd",   "SMTP_PASS",   "apiKey",  "access_token", "db.password"};
      return {rule, {Assign(ext, OneOf(kKeys), Rand(kCorpusPassword, 12 + Pick(20)))}};
    }
    // Vendor tokens: the bare value in an assignment of a neutral key.
    return {rule, {Assign(ext, key, v)}};
  }

  std::string Assign(const std::string& ext, const std::string& key, const std::string& value) {
    if (ext == ".env") return key + "=" + value;
    if (ext == ".yaml") return "  " + key + ": \"" + value + "\"";
    if (ext == ".json") return "  \"" + key + "\": \"" + value + "\",";
    if (ext == ".go") return "\t" + key + " := \"" + value + "\"";
    if (ext == ".js") return "const " + key + " = '" + value + "';";
    return key + " = \"" + value + "\"";  // .py, .toml, .txt
  }

  // A line (or block) that resembles a secret but is not one.
  std::vector<std::string> LookAlike(const std::string& ext) {
    std::string uuid = Rand(kHex, 8) + "-" + Rand(kHex, 4) + "-" + Rand(kHex, 4) + "-" +
                       Rand(kHex, 4) + "-" + Rand(kHex, 12);
    switch (Pick(22)) {
      case 0:
        return {Assign(ext, "request_id", uuid)};
      case 1:
        return {Assign(ext, "secret", uuid)};
      case 2:
        return {Assign(ext, "commit", Rand(kHex, 40))};
      case 3:
        return {Assign(ext, "token", Rand(kHex, 40))};
      case 4:
        return {Assign(ext, "sha256", Rand(kHex, 64))};
      case 5:
        return {Assign(ext, "api_key_checksum", Rand(kHex, 64))};
      case 6:
        return {Assign(ext, "icon",
                       "data:image/png;base64,iVBORw0KGgo" + Rand(kBase64, 300 + Pick(900)))};
      case 7:
        return {Rand(kBase64, 76), Rand(kBase64, 76), Rand(kBase64, 76)};
      case 8:
        return {Assign(ext, "aws_access_key_id", "AKIAIOSFODNN7EXAMPLE")};
      case 9:
        return {Assign(ext, "aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")};
      case 10:
        return {Assign(ext, "password",
                       OneOf<std::string>({"changeme", "<your-password>", "${DB_PASSWORD}",
                                           "{{ .Values.password }}", "xxxxxxxxxxxx", "password"}))};
      case 11:
        return {
            Assign(ext, "api_key",
                   OneOf<std::string>({"<your-api-key>", "YOUR_API_KEY_HERE",
                                       "replace-me-with-a-key", "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
                                       "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}))};
      case 12:
        return {Assign(ext, "token",
                       "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                       "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
                       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")};
      case 13:
        return {
            Assign(ext, OneOf<std::string>({"password", "token", "secret"}),
                   OneOf<std::string>({"test-password-123", "dummy-token-for-tests",
                                       "not-a-real-secret", "fake_secret_value", "testing123!"}))};
      case 14:
        return {"    if line.startswith(\"-----BEGIN RSA PRIVATE KEY-----\"):"};
      case 15: {
        std::vector<std::string> block = {"-----BEGIN PUBLIC KEY-----"};
        for (int i = 0; i < 6; ++i) block.push_back(Rand(kBase64, 64));
        block.push_back("-----END PUBLIC KEY-----");
        return block;
      }
      case 16:
        return {"    password = get_password(user)",
                "    token = request.headers.get(\"Authorization\")"};
      case 17:
        return {"    password_length = " + Rand(kDigits, 2), "    if token == expected_token:"};
      case 18:
        return {"    self.secret = secret", "    api_key = os.environ[\"API_KEY\"]"};
      case 19:
        return {Assign(ext, "slack", "xoxb-your-bot-token-here")};
      case 20:
        return {"# Set SECRET_KEY in the environment; never commit the real one."};
      default:
        return {"Version " + Rand(kDigits, 1) + "." + Rand(kDigits, 2) + " build " +
                Rand(kUpperDigits, 20)};
    }
  }

  std::string Lorem() {
    static const std::vector<std::string> kWords = {
        "lorem",  "ipsum",  "dolor",  "sit",     "amet",   "consectetur", "adipiscing",
        "elit",   "sed",    "do",     "eiusmod", "tempor", "incididunt",  "ut",
        "labore", "et",     "dolore", "magna",   "aliqua", "return",      "value",
        "config", "server", "client", "request", "handler"};
    std::string line = Pick(3) == 0 ? "# " : "    ";
    for (std::size_t i = 0, n = 3 + Pick(10); i < n; ++i) line += OneOf(kWords) + " ";
    return line;
  }

 private:
  std::mt19937_64 rng_;
};

using Key = std::tuple<std::string, int, std::string>;  // path, line, rule id

TEST(Corpus, PrecisionAndRecallPerRule) {
  fs::path root = fs::temp_directory_path() / ("coffer-scan-corpus-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  Corpus corpus(20261128);
  const std::vector<std::string> rules = {
      "aws-access-key-id", "aws-secret-access-key", "github-token",  "github-fine-grained-pat",
      "gitlab-token",      "slack-token",           "slack-webhook", "stripe-live-key",
      "stripe-test-key",   "google-api-key",        "private-key",   "jwt",
      "generic-secret"};
  const std::vector<std::string> exts = {".py",   ".js",   ".go",   ".env",
                                         ".yaml", ".json", ".toml", ".txt"};
  const std::vector<std::string> dirs = {"src",  "config", "deploy", "tests/fixtures",
                                         "docs", "scripts"};
  std::set<Key> truth;
  std::map<std::string, int> planted_per_rule;
  for (int f = 0; f < 120; ++f) {
    std::string ext = corpus.OneOf(exts);
    std::string rel = corpus.OneOf(dirs) + "/file" + std::to_string(f) + ext;
    fs::create_directories((root / rel).parent_path());
    std::ofstream out(root / rel);
    int line = 0;
    auto write = [&](const std::string& l) {
      out << l << "\n";
      ++line;
    };
    for (int block = 0; block < 40; ++block) {
      std::size_t kind = corpus.Pick(10);
      if (kind < 2) {
        std::string rule = corpus.OneOf(rules);
        Planted p = corpus.Secret(rule, ext);
        truth.insert({rel, line + 1, rule});
        ++planted_per_rule[rule];
        for (const std::string& l : p.lines) write(l);
      } else if (kind < 5) {
        for (const std::string& l : corpus.LookAlike(ext)) write(l);
      } else {
        write(corpus.Lorem());
      }
    }
  }

  Scanner scanner(ScanOptions{});
  Result<ScanReport> report = scanner.ScanPath(root);
  ASSERT_TRUE(report.has_value()) << report.error().message();

  std::map<std::string, int> tp, fp, fn;
  std::set<Key> found;
  for (const Finding& f : report->findings) {
    Key k{f.path, f.line, std::string(InfoOf(f.rule).id)};
    found.insert(k);
    if (truth.contains(k)) {
      ++tp[std::get<2>(k)];
    } else {
      ++fp[std::get<2>(k)];
      std::printf("false positive: %s:%d %s\n", f.path.c_str(), f.line, std::get<2>(k).c_str());
    }
  }
  for (const Key& k : truth) {
    if (!found.contains(k)) {
      ++fn[std::get<2>(k)];
      std::printf("missed: %s:%d %s\n", std::get<0>(k).c_str(), std::get<1>(k),
                  std::get<2>(k).c_str());
    }
  }
  int all_tp = 0, all_fp = 0, all_fn = 0;
  std::printf(
      "\n| rule | planted | found (TP) | false positives | missed | precision | recall |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const std::string& r : rules) {
    int t = tp[r], p = fp[r], n = fn[r];
    all_tp += t;
    all_fp += p;
    all_fn += n;
    double precision = t + p == 0 ? 1.0 : static_cast<double>(t) / (t + p);
    double recall = t + n == 0 ? 1.0 : static_cast<double>(t) / (t + n);
    std::printf("| %s | %d | %d | %d | %d | %.3f | %.3f |\n", r.c_str(), planted_per_rule[r], t, p,
                n, precision, recall);
  }
  double precision = static_cast<double>(all_tp) / std::max(1, all_tp + all_fp);
  double recall = static_cast<double>(all_tp) / std::max(1, all_tp + all_fn);
  std::printf("| **all** | %zu | %d | %d | %d | %.3f | %.3f |\n\n", truth.size(), all_tp, all_fp,
              all_fn, precision, recall);
  std::printf("%llu files, %llu bytes\n",
              static_cast<unsigned long long>(report->stats.files_scanned),
              static_cast<unsigned long long>(report->stats.bytes_scanned));
  EXPECT_GE(recall, 0.95);
  EXPECT_GE(precision, 0.90);
  for (const std::string& r : rules) EXPECT_GT(planted_per_rule[r], 5) << r;
  fs::remove_all(root);
}

}  // namespace
}  // namespace coffer::scan
