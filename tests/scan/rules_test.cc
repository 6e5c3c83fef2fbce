// One test per rule: a real-looking secret is found with the right rule id,
// its look-alikes are not.
#include <gtest/gtest.h>

#include <string>

#include "scan/entropy.h"
#include "scan/matcher.h"
#include "scan/scanner.h"

namespace coffer::scan {
namespace {

std::vector<RawMatch> Find(std::string_view text) {
  std::vector<RawMatch> out;
  FindSecrets(text, out);
  return out;
}

// The one match in `text`, which must cover exactly `secret`.
void ExpectOne(std::string_view text, RuleId rule, std::string_view secret) {
  std::vector<RawMatch> m = Find(text);
  ASSERT_EQ(m.size(), 1u) << text;
  EXPECT_EQ(InfoOf(m[0].rule).id, InfoOf(rule).id) << text;
  EXPECT_EQ(text.substr(m[0].begin, m[0].end - m[0].begin), secret) << text;
}

void ExpectNone(std::string_view text) {
  std::vector<RawMatch> m = Find(text);
  EXPECT_TRUE(m.empty()) << text << " -> " << (m.empty() ? "" : InfoOf(m[0].rule).id);
}

TEST(Rules, AwsAccessKeyId) {
  ExpectOne("aws_access_key_id = AKIAQ7XB2M4KZ9PL3RTW\n", RuleId::kAwsAccessKeyId,
            "AKIAQ7XB2M4KZ9PL3RTW");
  ExpectOne("key: ASIAZ3M8QK2LX7VN4BPD", RuleId::kAwsAccessKeyId, "ASIAZ3M8QK2LX7VN4BPD");
  ExpectNone("aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n");
  ExpectNone("XAKIAQ7XB2M4KZ9PL3RTW");        // inside a word
  ExpectNone("AKIAQ7XB2M4KZ9PL3RTWQ");        // 17 characters
  ExpectNone("id = AKIAXXXXXXXXXXXXXXXX\n");  // placeholder
}

TEST(Rules, AwsSecretAccessKey) {
  ExpectOne("aws_secret_access_key = Zq8vK2mN4pR7sT1uW3xY5zA6bC9dE0fG2hJ4kL7m\n",
            RuleId::kAwsSecretAccessKey, "Zq8vK2mN4pR7sT1uW3xY5zA6bC9dE0fG2hJ4kL7m");
  ExpectNone("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
}

TEST(Rules, Github) {
  ExpectOne("GITHUB_TOKEN=ghp_8fK2mQ9xL4vN7bR1tY6wZ3cH5jP0sD2gA9eU\n", RuleId::kGithubToken,
            "ghp_8fK2mQ9xL4vN7bR1tY6wZ3cH5jP0sD2gA9eU");
  ExpectOne("t = 'ghs_Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8'", RuleId::kGithubToken,
            "ghs_Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8");
  ExpectNone("ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  ExpectNone("ghp_8fK2mQ9xL4vN7bR1tY6wZ3cH5jP0sD2g");  // too short
  std::string pat =
      "github_pat_11AQ3ZK7Y0" +
      std::string(
          "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5kL7nP9rS1uV3xZ5aC7eG9iK1mO3qS5uW7yA9cE1gI3kM5oQ7sU");
  ExpectOne("pat: " + pat + "\n", RuleId::kGithubFineGrainedPat, pat);
}

TEST(Rules, Gitlab) {
  ExpectOne("token: glpat-Xy7Kq2Lm9Np4Rs6Tv8Wz\n", RuleId::kGitlabToken,
            "glpat-Xy7Kq2Lm9Np4Rs6Tv8Wz");
  ExpectNone("glpat-xxxxxxxxxxxxxxxxxxxx");
}

TEST(Rules, Slack) {
  ExpectOne("SLACK=xoxb-2736451829-3847562910-aB3dE5gH7jK9mN1pQ3sT5vW7\n", RuleId::kSlackToken,
            "xoxb-2736451829-3847562910-aB3dE5gH7jK9mN1pQ3sT5vW7");
  ExpectNone("xoxb-your-token-here");
  ExpectOne(
      "url = \"https://hooks.slack.com/services/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\"",
      RuleId::kSlackWebhook,
      "https://hooks.slack.com/services/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");
  ExpectNone("https://hooks.slack.com/services/TXXXXXXXX/BXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXXXX");
}

TEST(Rules, Stripe) {
  ExpectOne("STRIPE_KEY=sk_live_51HqL2mK8vN3pR7tX9zB4cD6f\n", RuleId::kStripeLiveKey,
            "sk_live_51HqL2mK8vN3pR7tX9zB4cD6f");
  ExpectOne("k = rk_live_51HqL2mK8vN3pR7tX9zB4cD6f", RuleId::kStripeLiveKey,
            "rk_live_51HqL2mK8vN3pR7tX9zB4cD6f");
  ExpectOne("k = sk_test_51HqL2mK8vN3pR7tX9zB4cD6f", RuleId::kStripeTestKey,
            "sk_test_51HqL2mK8vN3pR7tX9zB4cD6f");
  ExpectNone("sk_live_xxxxxxxxxxxxxxxxxxxxxxxx");
}

TEST(Rules, GoogleApiKey) {
  ExpectOne("key=AIzaSyB3kL9mN2pQ7rT4vX8zC1dF6gH0jK5lM3n&", RuleId::kGoogleApiKey,
            "AIzaSyB3kL9mN2pQ7rT4vX8zC1dF6gH0jK5lM3n");
  ExpectNone("AIzaSyB3kL9mN2pQ7rT4vX8zC1dF6gH0jK5lM3nX");  // 36 after AIza
}

TEST(Rules, PrivateKey) {
  std::string body;
  for (int i = 0; i < 5; ++i)
    body += "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n";
  std::string key = "-----BEGIN RSA PRIVATE KEY-----\n" + body + "-----END RSA PRIVATE KEY-----";
  ExpectOne("x\n" + key + "\ny\n", RuleId::kPrivateKey, key);
  std::string ssh =
      "-----BEGIN OPENSSH PRIVATE KEY-----\n" + body + "-----END OPENSSH PRIVATE KEY-----";
  ExpectOne(ssh, RuleId::kPrivateKey, ssh);
  // Inside a JSON string with \n escapes (a GCP service account file).
  std::string json = "-----BEGIN PRIVATE KEY-----\\n" + body.substr(0, 64) + "\\n" +
                     body.substr(65, 64) + "\\n-----END PRIVATE KEY-----";
  ExpectOne("{\"private_key\": \"" + json + "\\n\"}", RuleId::kPrivateKey, json);
  // Code that only names the header is not a key; nor is a public key.
  ExpectNone("if (line == \"-----BEGIN RSA PRIVATE KEY-----\") { parse(); }\n");
  ExpectNone("-----BEGIN PUBLIC KEY-----\n" + body + "-----END PUBLIC KEY-----\n");
}

TEST(Rules, Jwt) {
  // {"alg":"HS256","typ":"JWT"} . {"sub":"42","name":"svc"} . signature
  std::string jwt =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJzdmMifQ."
      "k3Jd9sQm2Lx7Vb4Np1Rt8Wy6Zc0Fh5Gj2Hk9Lm3Qn7P";
  ExpectOne("Authorization: Bearer " + jwt + "\n", RuleId::kJwt, jwt);
  // jwt.io's documented sample.
  ExpectNone(
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
      "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
  // A header without "alg".
  ExpectNone("eyJmb28iOiJiYXIiLCJiYXoiOjF9.eyJzdWIiOiI0MiJ9.k3Jd9sQm2Lx7Vb4Np1Rt8Wy6Zc0Fh5Gj");
}

TEST(Rules, GenericAssignments) {
  ExpectOne("DB_PASSWORD=S3cr3t!Pa55w0rd\n", RuleId::kGenericAssignment, "S3cr3t!Pa55w0rd");
  ExpectOne("  \"api_key\": \"q8Zr2Lk9Vm4Xn7Bp1Tw3\",\n", RuleId::kGenericAssignment,
            "q8Zr2Lk9Vm4Xn7Bp1Tw3");
  ExpectOne("secret: Hq7$kP2@zL9#mV4w\n", RuleId::kGenericAssignment, "Hq7$kP2@zL9#mV4w");
  ExpectOne("passwd := \"Tr0ub4dor&3xyz\"\n", RuleId::kGenericAssignment, "Tr0ub4dor&3xyz");
  ExpectOne("'auth_token' => 'k2J8mQ4vX9nL3pR7',\n", RuleId::kGenericAssignment,
            "k2J8mQ4vX9nL3pR7");
  std::vector<RawMatch> m = Find("client_secret = \"aZ9kQ2mL7vX4nB8p\"");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].key, "client_secret");
}

TEST(Rules, GenericLookAlikes) {
  ExpectNone("password = \"changeme\"\n");
  ExpectNone("api_key = \"<your-api-key>\"\n");
  ExpectNone("token: ${GITHUB_TOKEN}\n");
  ExpectNone("password: \"{{ .Values.password }}\"\n");
  ExpectNone("secret = \"550e8400-e29b-41d4-a716-446655440000\"\n");     // UUID
  ExpectNone("token = \"da39a3ee5e6b4b0d3255bfef95601890afd80709\"\n");  // SHA-1
  ExpectNone("secret_sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n");
  ExpectNone("password = get_password()\n");
  ExpectNone("password = config.database.password\n");
  ExpectNone("if password == \"Xk8#mQ2vL9pR\":\n");
  ExpectNone("password_length = 123456789\n");
  ExpectNone("token = \"dummy-token-for-tests\"\n");
  ExpectNone("password = \"aaaaaaaaaaaa\"\n");
  ExpectNone("secret: /run/secrets/db_password\n");
  ExpectNone("Enter your password: please type it\n");
  ExpectNone("compass = Nq2Lk9Vm4Xn7\n");  // "pass" inside another word
}

TEST(Rules, SpecificBeatsGeneric) {
  ExpectOne("token = \"ghp_8fK2mQ9xL4vN7bR1tY6wZ3cH5jP0sD2gA9eU\"", RuleId::kGithubToken,
            "ghp_8fK2mQ9xL4vN7bR1tY6wZ3cH5jP0sD2gA9eU");
}

TEST(Entropy, Values) {
  EXPECT_DOUBLE_EQ(ShannonEntropy("aaaa"), 0.0);
  EXPECT_DOUBLE_EQ(ShannonEntropy("abcd"), 2.0);
  EXPECT_TRUE(IsUuid("550e8400-e29b-41d4-a716-446655440000"));
  EXPECT_FALSE(IsUuid("550e8400-e29b-41d4-a716-44665544000g"));
  EXPECT_TRUE(IsHexDigest(std::string(40, 'a')));
  EXPECT_FALSE(IsHexDigest(std::string(41, 'a')));
  EXPECT_TRUE(LooksLikePlaceholder("<YOUR_KEY>"));
  EXPECT_FALSE(LooksLikePlaceholder("q8Zr2Lk9Vm4Xn7Bp1Tw3"));
}

}  // namespace
}  // namespace coffer::scan
