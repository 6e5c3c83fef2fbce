#include "agent/config.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace coffer::agent {
namespace {

TEST(ConfigTest, FullVaultAgentShape) {
  Result<AgentConfig> c = ParseConfig(R"(
pid_file = "/tmp/agent.pid"
exit_after_auth = false
vault {
  address = "http://127.0.0.1:8200"
  tls_skip_verify = true
  tls_server_name = "coffer.internal"
}
auto_auth {
  method "approle" {
    mount_path = "auth/my-approle/"
    config = {
      role_id_file_path = "/etc/role_id"
      secret_id_file_path = "/etc/secret_id"
      remove_secret_id_file_after_reading = false
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
  sink "file" {
    wrap_ttl = "5m"
    config = { path = "/tmp/wrapped", mode = 0640 }
  }
}
template_config { static_secret_render_interval = "10s" }
template {
  contents = "{{ with secret \"secret/data/app\" }}{{ .Data.data.password }}{{ end }}"
  destination = "/tmp/out"
  perms = "0640"
  command = "echo changed"
  error_on_missing_key = true
}
template {
  contents = "x"
  destination = "/tmp/out2"
}
)");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->pid_file, "/tmp/agent.pid");
  EXPECT_EQ(c->vault.address, "http://127.0.0.1:8200");
  EXPECT_TRUE(c->vault.tls_skip_verify);
  EXPECT_EQ(c->vault.tls_server_name, "coffer.internal");
  ASSERT_TRUE(c->method);
  EXPECT_EQ(c->method->type, "approle");
  EXPECT_EQ(c->method->mount_path, "auth/my-approle");
  EXPECT_EQ(c->method->role_id_file_path, "/etc/role_id");
  EXPECT_FALSE(c->method->remove_secret_id_file_after_reading);
  ASSERT_EQ(c->sinks.size(), 2u);
  EXPECT_EQ(c->sinks[0].mode, 0600u);
  EXPECT_EQ(c->sinks[0].wrap_ttl.count(), 0);
  EXPECT_EQ(c->sinks[1].mode, 0640u);
  EXPECT_EQ(c->sinks[1].wrap_ttl.count(), 300);
  EXPECT_EQ(c->static_secret_render_interval.count(), 10);
  ASSERT_EQ(c->templates.size(), 2u);
  EXPECT_EQ(c->templates[0].perms, 0640u);
  EXPECT_EQ(c->templates[0].command, "echo changed");
  EXPECT_TRUE(c->templates[0].error_on_missing_key);
  EXPECT_EQ(c->templates[1].perms, 0644u);
}

TEST(ConfigTest, MethodWithTypeAttributeAndDefaults) {
  Result<AgentConfig> c = ParseConfig(R"(
auto_auth {
  method {
    type = "jwt"
    config = { path = "/var/run/jwt", role = "ci" }
  }
}
)");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->method->type, "jwt");
  EXPECT_EQ(c->method->mount_path, "auth/jwt");
  EXPECT_EQ(c->method->jwt_path, "/var/run/jwt");
  EXPECT_EQ(c->method->role, "ci");
  EXPECT_TRUE(c->method->remove_jwt_after_reading);
  EXPECT_EQ(c->static_secret_render_interval.count(), 300);
}

TEST(ConfigTest, ExecWithEnvTemplates) {
  Result<AgentConfig> c = ParseConfig(R"(
auto_auth { method "approle" { config = { role_id_file_path = "r" } } }
exec {
  command = ["/bin/app", "--flag"]
  restart_on_secret_changes = "never"
  restart_stop_signal = "SIGHUP"
}
env_template "DB_PASSWORD" {
  contents = "{{ with secret \"secret/data/db\" }}{{ .Data.data.password }}{{ end }}"
  error_on_missing_key = true
}
env_template "DB_USER" { contents = "app" }
)");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  ASSERT_TRUE(c->exec);
  EXPECT_EQ(c->exec->command, (std::vector<std::string>{"/bin/app", "--flag"}));
  EXPECT_FALSE(c->exec->restart_on_secret_changes);
  EXPECT_EQ(c->exec->restart_stop_signal, SIGHUP);
  ASSERT_EQ(c->env_templates.size(), 2u);
  EXPECT_TRUE(c->env_templates["DB_PASSWORD"].error_on_missing_key);
  EXPECT_EQ(c->env_templates["DB_USER"].contents, "app");
}

TEST(ConfigTest, CertMethodWithItsOwnCertificate) {
  Result<AgentConfig> c = ParseConfig(R"(
auto_auth {
  method "cert" {
    config = { name = "web"  client_cert = "c.pem"  client_key = "k.pem"  ca_cert = "ca.pem"
               reload = true }
  }
}
)");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  ASSERT_TRUE(c->method);
  EXPECT_EQ(c->method->type, "cert");
  EXPECT_EQ(c->method->mount_path, "auth/cert");
  EXPECT_EQ(c->method->cert_name, "web");
  EXPECT_EQ(c->method->client_cert, "c.pem");
  EXPECT_EQ(c->method->client_key, "k.pem");
  EXPECT_EQ(c->method->ca_cert, "ca.pem");
}

TEST(ConfigTest, CertMethodWithTheVaultStanzaCertificate) {
  Result<AgentConfig> c = ParseConfig(R"(
vault { address = "https://127.0.0.1:8200"  client_cert = "c.pem"  client_key = "k.pem" }
auto_auth { method { type = "cert"  mount_path = "auth/mtls" } }
)");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->method->mount_path, "auth/mtls");
  EXPECT_EQ(c->method->cert_name, "");
  EXPECT_EQ(c->vault.client_cert, "c.pem");
  EXPECT_EQ(c->vault.client_key, "k.pem");
}

TEST(ConfigTest, CertMethodNeedsACertificate) {
  Result<AgentConfig> c = ParseConfig(R"(auto_auth { method "cert" { config = {} } })");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), Code::kInvalidArgument);
  EXPECT_NE(c.error().message().find("client certificate is required"), std::string::npos);
}

TEST(ConfigTest, Refusals) {
  struct Case {
    const char* text;
    const char* needle;
  } cases[] = {
      {R"(auto_auth { method "ldap" {} })", "unknown method"},
      {R"(auto_auth { method "cert" { config = { client_cert = "c.pem" } } })", "go together"},
      {R"(auto_auth { method "cert" { config = { role = "x" } } })", "unknown setting"},
      {R"(vault { client_key = "k.pem" })", "go together"},
      {R"(auto_auth { method "approle" { config = {} } })", "role_id_file_path"},
      {R"(auto_auth { method "jwt" { config = { path = "x" } } })", "role"},
      {R"(auto_auth { method "approle" { config = { role_id_file_path = "r" } }
          sink "file" { config = {} } })",
       "path is required"},
      {R"(auto_auth { method "approle" { config = { role_id_file_path = "r" } }
          sink "file" { config = { path = "p", mode = "rw" } } })",
       "octal"},
      {R"(auto_auth { method "approle" { config = { role_id_file_path = "r" } } }
          template { destination = "x" })",
       "source and contents"},
      {R"(auto_auth { method "approle" { config = { role_id_file_path = "r" } } }
          template { contents = "x" })",
       "destination"},
      {R"(auto_auth { method "approle" { config = { role_id_file_path = "r" } } }
          exec { command = [] })",
       "command"},
      {R"(auto_auth { method "approle" { config = { role_id_file_path = "r" } } }
          exec { command = ["a"] restart_on_secret_changes = "sometimes" })",
       "always"},
      {R"(auto_auth { method "approle" { config = { role_id_file_path = "r" } } }
          exec { command = ["a"] restart_stop_signal = "SIGNOPE" })",
       "signal"},
      {R"(auto_auth { method "approle" { config = { role_id_file_path = "r" } } }
          env_template "X" { contents = "x" })",
       "exec"},
      {R"(bogus = 1)", "unknown setting"},
      {R"(cache { use_auto_auth_token = true })", "not supported"},
      {R"(template_config { static_secret_render_interval = "soon" })", "static_secret"},
      {R"(template_config { lease_renewal_threshold = 0 })", "lease_renewal_threshold"},
      {R"(template_config { lease_renewal_threshold = 1.5 })", "lease_renewal_threshold"},
      {R"(template_config { lease_renewal_threshold = "most" })", "lease_renewal_threshold"},
      {R"(template_config { exit_on_retry_failure = true })", "exit_on_retry_failure"},
      {R"(log_format = "xml")", "log_format"},
      {R"(auto_auth {
            method "approle" { config = { role_id_file_path = "r" } }
            enable_reauth_on_new_credentials = true
          })",
       "enable_reauth_on_new_credentials"},
      {R"(auto_auth {
            method "approle" { config = { role_id_file_path = "r" } }
            sink "file" {
              aad = "x"
              config = { path = "/tmp/t" }
            }
          })",
       "aad"},
      {R"(auto_auth {
            method "approle" { config = { role_id_file_path = "r" } }
            sink "file" {
              derive_key = true
              config = { path = "/tmp/t" }
            }
          })",
       "derive_key"},
      {R"(auto_auth { method "approle" {
            wrap_ttl = "5m"
            config = { role_id_file_path = "r" }
          } })",
       "wrap_ttl"},
      {R"(auto_auth { method "approle" {
            exit_on_err = true
            config = { role_id_file_path = "r" }
          } })",
       "exit_on_err"},
      {R"(template { contents = "x" destination = "y" })", "auto_auth is required"},
  };
  for (const Case& c : cases) {
    Result<AgentConfig> r = ParseConfig(c.text);
    ASSERT_FALSE(r.has_value()) << c.text;
    EXPECT_NE(r.error().message().find(c.needle), std::string::npos)
        << c.text << " -> " << r.error().message();
  }
}

TEST(ConfigTest, LoggingAndTemplateEngineSettings) {
  Result<AgentConfig> c = ParseConfig(R"(
auto_auth { method "approle" { config = { role_id_file_path = "r" } } }
log_level  = "debug"
log_format = "json"
log_file   = "/var/log/coffer/"
template_config {
  lease_renewal_threshold  = 0.9
  exit_on_retry_failure    = false
  max_connections_per_host = 4
}
)");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_EQ(c->log_format, "json");
  EXPECT_EQ(c->log_file, "/var/log/coffer/");
  EXPECT_DOUBLE_EQ(c->lease_renewal_threshold, 0.9);
  ASSERT_EQ(c->ineffective.size(), 1U);
  EXPECT_NE(c->ineffective[0].find("max_connections_per_host"), std::string::npos);

  Result<AgentConfig> m = ParseConfig(R"(
vault { retry { num_retries = 3 } }
auto_auth {
  method "approle" {
    namespace   = "team"
    min_backoff = "2s"
    exit_on_err = false
    wrap_ttl    = "0s"
    config = { role_id_file_path = "r" }
  }
}
)");
  ASSERT_TRUE(m.has_value()) << m.error().message();
  ASSERT_EQ(m->ineffective.size(), 3U);
  EXPECT_NE(m->ineffective[0].find("vault: retry"), std::string::npos) << m->ineffective[0];
  EXPECT_NE(m->ineffective[1].find("namespace"), std::string::npos) << m->ineffective[1];
  EXPECT_NE(m->ineffective[2].find("min_backoff"), std::string::npos) << m->ineffective[2];

  Result<AgentConfig> d = ParseConfig(R"(
auto_auth { method "approle" { config = { role_id_file_path = "r" } } }
)");
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->log_level, "");
  EXPECT_EQ(d->log_file, "");
  EXPECT_DOUBLE_EQ(d->lease_renewal_threshold, 2.0 / 3.0);
  EXPECT_TRUE(d->ineffective.empty());
}

TEST(ConfigTest, DestinationDirectoriesAndChildOutputFiles) {
  Result<AgentConfig> c = ParseConfig(R"(
auto_auth {
  method "approle" { config = { role_id_file_path = "r" } }
  enable_reauth_on_new_credentials = false
}
template {
  contents    = "x"
  destination = "/tmp/a/b"
}
template {
  contents         = "x"
  destination      = "/tmp/c"
  create_dest_dirs = false
}
exec {
  command              = ["/bin/app"]
  child_process_stdout = "/var/log/app.out"
  child_process_stderr = "/var/log/app.err"
}
)");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  ASSERT_EQ(c->templates.size(), 2U);
  EXPECT_TRUE(c->templates[0].create_dest_dirs);
  EXPECT_FALSE(c->templates[1].create_dest_dirs);
  ASSERT_TRUE(c->exec.has_value());
  EXPECT_EQ(c->exec->child_process_stdout, "/var/log/app.out");
  EXPECT_EQ(c->exec->child_process_stderr, "/var/log/app.err");
}

TEST(ConfigTest, SyntaxErrorNamesPosition) {
  Result<AgentConfig> r = ParseConfig("vault {\n  address = \n}", "agent.hcl");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("agent.hcl:"), std::string::npos) << r.error().message();
}

TEST(ConfigTest, Signals) {
  EXPECT_EQ(*ParseSignal("SIGTERM"), SIGTERM);
  EXPECT_EQ(*ParseSignal("HUP"), SIGHUP);
  EXPECT_EQ(*ParseSignal("10"), 10);
  EXPECT_FALSE(ParseSignal("SIGWHAT").has_value());
}

}  // namespace
}  // namespace coffer::agent
