#include "server/server_command.h"

#include <openssl/crypto.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"
#include "common/encoding.h"
#include "common/log.h"
#include "common/secret_bytes.h"
#include "config/config.h"
#include "config/sanitized.h"
#include "core/builtins.h"
#include "core/core.h"
#include "core/system_backend.h"
#include "http/in_flight.h"
#include "http/server.h"
#include "storage/cache/cache_backend.h"
#include "storage/registry.h"

namespace coffer::server {
namespace {

struct Flags {
  std::string config_path;
  bool dev = false;
  std::string dev_root_token_id;
  std::string dev_listen_address = "127.0.0.1:8200";
  std::string log_level;
  std::string log_format;
};

std::string EnvOr(const char* a, const char* b) {
  if (const char* v = std::getenv(a); v != nullptr && *v != '\0') return v;
  if (const char* v = std::getenv(b); v != nullptr && *v != '\0') return v;
  return {};
}

config::ServerConfig DevConfig(const Flags& flags) {
  config::ServerConfig c;
  c.storage.type = "inmem";
  config::ServerConfig::Listener l;
  l.address = flags.dev_listen_address;
  l.tls_disable = true;
  c.listeners.push_back(l);
  c.disable_mlock = true;
  return c;
}

// log_requests_level (already validated by the config parser).
void ApplyLogRequestsLevel(const config::ServerConfig& cfg) {
  auto level = ParseLogLevel(cfg.log_requests_level);
  http::SetCompletedRequestLogLevel(level ? *level : spdlog::level::off);
}

// SIGHUP with a config file: the settings that can change while the server
// runs are read again (log_requests_level, as in Vault). A file that no
// longer parses changes nothing. `running` is the configuration in effect:
// its log level and format (perhaps from flags) stay what
// sys/config/state/sanitized shows.
void ReloadConfig(const std::string& path, const config::ServerConfig& running, core::Core& core) {
  auto loaded = config::LoadConfigFile(path);
  if (!loaded) {
    Log(LogModule::kConfig)
        .error("reloading the configuration failed, keeping the current one: {}",
               loaded.error().message());
    return;
  }
  ApplyLogRequestsLevel(*loaded);
  // sys/config/state/sanitized shows what is in effect: the running
  // configuration with the one key a reload applies. (Showing the file as
  // read would report, say, a listener's new tls_min_version that the
  // listener does not use until a restart.)
  config::ServerConfig shown = running;
  shown.log_requests_level = loaded->log_requests_level;
  core.SetSanitizedConfig(config::Sanitized(shown));
  Log(LogModule::kConfig)
      .info("configuration reloaded: log_requests_level={}", loaded->log_requests_level);
}

// Dev mode: initialise 1-of-1, stay unsealed, mount KV v2 at secret/.
Result<core::InitResult> SetUpDev(core::Core& core, const Flags& flags) {
  std::string requested = flags.dev_root_token_id;
  if (requested.empty()) requested = EnvOr("COFFER_DEV_ROOT_TOKEN_ID", "VAULT_DEV_ROOT_TOKEN_ID");
  // The token is read: wiped from the environment block too, which
  // /proc/<pid>/environ shows for the life of the process (unsetenv alone
  // only drops the pointer).
  for (const char* name : {"COFFER_DEV_ROOT_TOKEN_ID", "VAULT_DEV_ROOT_TOKEN_ID"}) {
    if (char* value = std::getenv(name)) {
      OPENSSL_cleanse(value, std::strlen(value));
      unsetenv(name);
    }
  }
  ASSIGN_OR_RETURN(core::InitResult init, core.Initialize(1, 1, /*stay_unsealed=*/true, requested));
  WipeString(requested);
  router::MountEntry kv;
  kv.path = "secret/";
  kv.type = "kv";
  kv.description = "key/value secret storage";
  kv.options = logical::Json{{"version", "2"}};
  TRY(core.router().Mount(std::move(kv)));
  return init;
}

void PrintBanner(const config::ServerConfig& cfg,
                 const std::vector<std::unique_ptr<http::Server>>& servers,
                 const std::vector<std::string>& schemes) {
  std::printf("==> Coffer server configuration:\n\n");
  for (std::size_t i = 0; i < servers.size(); ++i) {
    std::string host = cfg.listeners[i].address.substr(0, cfg.listeners[i].address.rfind(':'));
    std::printf("%24s: %s://%s:%u\n", "Api Address", schemes[i].c_str(), host.c_str(),
                static_cast<unsigned>(servers[i]->port()));
  }
  std::printf("%24s: %s\n", "Storage", cfg.storage.type.c_str());
  std::printf("%24s: Coffer v%s\n\n", "Version", std::string(core::CofferVersion()).c_str());
}

// Freed heap memory keeps request and response bodies (secret values, unseal
// shares) until it is reused. C++ code wipes each block it frees
// (wiping_new_delete.cc, builds without sanitizers); glibc wipes the chunks
// freed by C libraries (malloc.perturb), except those it parks in its cache
// (at most 7 chunks of each size up to 1 KiB per thread: OpenSSL and
// libsodium clear their own secrets before freeing them). Tunables are read
// only at exec: re-exec once with them. COFFER_MALLOC_WIPE=0 opts out of
// both.
void WipeFreedMemoryOrReexec(char** argv) {
  constexpr std::string_view kTunables = "glibc.malloc.perturb=165";
  const char* opt = std::getenv("COFFER_MALLOC_WIPE");
  if (opt != nullptr && std::string_view(opt) == "0") return;
  const char* current = std::getenv("GLIBC_TUNABLES");
  if (current != nullptr && std::string_view(current).find(kTunables) != std::string_view::npos) {
    return;  // already in effect (or ignored by glibc: either way, no loop)
  }
  std::string value(kTunables);
  if (current != nullptr && *current != '\0') value = std::string(current) + ":" + value;
  if (setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
  std::fprintf(stderr, "Warning: could not re-exec to wipe freed memory; continuing\n");
}

// Keys of Vault's configuration that are read but change nothing here: one
// node, no web UI, no sys/raw. Each is logged at start, so that a
// setting without effect is not taken for one in effect.
void WarnIneffectiveKeys(const config::ServerConfig& cfg) {
  if (cfg.ui) Log(LogModule::kConfig).warn("ui = true has no effect: Coffer has no web UI");
  if (cfg.raw_storage_endpoint) {
    Log(LogModule::kConfig).warn("raw_storage_endpoint has no effect: sys/raw is not available");
  }
  if (!cfg.cluster_addr.empty()) {
    Log(LogModule::kConfig)
        .warn("cluster_addr has no effect: a single node has no cluster traffic");
  }
  for (const auto& l : cfg.listeners) {
    if (!l.cluster_address.empty()) {
      Log(LogModule::kConfig)
          .warn(
              "{}: cluster_address has no effect: a single node opens no cluster "
              "listener",
              l.source);
    }
    if (l.max_request_duration != config::ServerConfig::Listener().max_request_duration) {
      Log(LogModule::kConfig)
          .warn(
              "{}: max_request_duration has no effect: a request is not cut off "
              "by time",
              l.source);
    }
  }
}

// Vault's pid_file: the server's PID and a newline, written at start and
// removed at a clean shutdown.
bool WritePidFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const bool written = std::fprintf(f, "%d\n", static_cast<int>(getpid())) > 0;
  return std::fclose(f) == 0 && written;
}

}  // namespace

http::ServerOptions ListenerOptions(const config::ServerConfig::Listener& l) {
  http::ServerOptions o;
  o.address = l.address;
  o.tls = !l.tls_disable;
  o.tls_cert_file = l.tls_cert_file;
  o.tls_key_file = l.tls_key_file;
  o.tls_min_version = l.tls_min_version;
  o.tls_client_ca_file = l.tls_client_ca_file;
  o.tls_require_and_verify_client_cert = l.tls_require_and_verify_client_cert;
  o.tls_disable_client_certs = l.tls_disable_client_certs;
  // The config stores "no limit" (a negative value in the file) as 0.
  o.max_request_size = l.max_request_size > 0 ? static_cast<std::size_t>(l.max_request_size)
                                              : std::numeric_limits<std::size_t>::max();
  o.json_limits.max_depth = static_cast<std::size_t>(l.max_json_depth);
  o.json_limits.max_string_length = static_cast<std::size_t>(l.max_json_string_value_length);
  o.json_limits.max_object_entries = static_cast<std::size_t>(l.max_json_object_entry_count);
  o.json_limits.max_array_elements = static_cast<std::size_t>(l.max_json_array_element_count);
  o.json_limits.max_tokens = static_cast<std::size_t>(l.max_json_token);
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  auto at_least_1s = [](std::chrono::milliseconds ms) {
    return std::max(seconds(1), duration_cast<seconds>(ms));
  };
  o.header_read_timeout = at_least_1s(l.http_read_header_timeout);
  o.body_read_timeout = at_least_1s(l.http_read_timeout);
  o.idle_timeout = at_least_1s(l.http_idle_timeout);
  if (l.http_write_timeout.count() > 0) o.write_timeout = at_least_1s(l.http_write_timeout);
  o.unauthenticated_metrics_access = l.unauthenticated_metrics_access;
  o.unauthenticated_in_flight_requests_access = l.unauthenticated_in_flight_requests_access;
  o.disable_unauthed_rekey_endpoints = l.disable_unauthed_rekey_endpoints;
  o.disable_unauthed_generate_root_endpoints = l.disable_unauthed_generate_root_endpoints;
  o.io_threads = static_cast<int>(l.io_threads);
  o.pin_io_threads = l.pin_io_threads;
  return o;
}

int RunServer(int argc, char** argv) {
  WipeFreedMemoryOrReexec(argv);
  std::vector<std::string> raw(argv + 2, argv + argc);
  std::vector<std::string> args = cli::NormalizeArgs(raw);
  Flags flags;
  CLI::App app{"Start a Coffer server", "coffer server"};
  app.add_option("--config", flags.config_path, "Path to the HCL or JSON configuration file");
  app.add_flag("--dev", flags.dev, "In-memory, initialised and unsealed; for trying things out");
  app.add_option("--dev-root-token-id", flags.dev_root_token_id,
                 "Root token id in dev mode (prefer COFFER_DEV_ROOT_TOKEN_ID: argv is visible)");
  app.add_option("--dev-listen-address", flags.dev_listen_address, "Dev mode listen address");
  app.add_option("--log-level", flags.log_level,
                 "trace, debug, info, warn or error (or COFFER_LOG_LEVEL, VAULT_LOG_LEVEL)");
  app.add_option("--log-format", flags.log_format,
                 "standard or json (or COFFER_LOG_FORMAT, VAULT_LOG_FORMAT)");
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  config::ServerConfig cfg;
  if (flags.dev) {
    cfg = DevConfig(flags);
  } else if (flags.config_path.empty()) {
    std::fprintf(stderr,
                 "Error: a configuration file must be given with -config=FILE, or use -dev\n");
    return 1;
  } else {
    auto loaded = config::LoadConfigFile(flags.config_path);
    if (!loaded) {
      std::fprintf(stderr, "Error loading configuration: %s\n", loaded.error().message().c_str());
      return 1;
    }
    cfg = std::move(*loaded);
  }
  // As Vault: the flag, then the environment, then the config file.
  std::string level = flags.log_level;
  if (level.empty()) level = EnvOr("COFFER_LOG_LEVEL", "VAULT_LOG_LEVEL");
  if (level.empty()) level = cfg.log_level;
  if (!level.empty() && !SetLogLevel(level)) {
    std::fprintf(stderr, "Error: unknown log level \"%s\"\n", level.c_str());
    return 1;
  }
  std::string format = flags.log_format;
  if (format.empty()) format = EnvOr("COFFER_LOG_FORMAT", "VAULT_LOG_FORMAT");
  if (format.empty()) format = cfg.log_format;
  if (!SetLogFormat(format)) {
    std::fprintf(stderr, "Error: unknown log format \"%s\" (standard or json)\n", format.c_str());
    return 1;
  }
  InstallLogTap();  // sys/monitor; before the server starts its threads
  ApplyLogRequestsLevel(cfg);
  if (cfg.seal) {
    // Refused rather than ignored: starting on Shamir keys while the config
    // asks for an auto-unseal device would leave the operator believing the
    // server unseals itself.
    std::fprintf(stderr,
                 "Error: seal \"%s\" (%s): auto-unseal devices are not available in this "
                 "version; remove the seal block to protect the root key with Shamir unseal "
                 "keys (coffer operator init)\n",
                 cfg.seal->type.c_str(), cfg.seal->source.c_str());
    return 1;
  }
  WarnIneffectiveKeys(cfg);

  // Key material must not reach a core dump or swap (disable_core_dumps =
  // false in the config is the one way to allow dumps).
  if (cfg.disable_core_dumps) DisableCoreDumps();
  if (!InitSecureMemory() && !cfg.disable_mlock) {
    std::fprintf(stderr,
                 "Error: failed to lock memory (mlock). Give the process CAP_IPC_LOCK or raise "
                 "RLIMIT_MEMLOCK, or set disable_mlock = true in the config.\n");
    return 1;
  }

  // Signals are taken by sigwait in this thread; every thread started from
  // here on inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  core::RegisterBuiltins();
  auto backend = storage::CreateBackend(cfg.storage.type, cfg.storage.params);
  if (!backend) {
    std::fprintf(stderr, "Error opening storage \"%s\": %s\n", cfg.storage.type.c_str(),
                 backend.error().message().c_str());
    return 1;
  }
  core::CoreOptions options;
  options.physical = std::move(*backend);
  // The embedded store has one writer (this process), so reads can be
  // cached below the barrier (ciphertext only); see storage/cache.
  if (cfg.storage.type == "local" && !cfg.disable_cache) {
    storage::CacheOptions cache;
    cache.max_entries = static_cast<std::size_t>(cfg.cache_size);
    cache.max_bytes = static_cast<std::size_t>(cfg.cache_max_bytes);
    options.physical = std::make_unique<storage::CacheBackend>(std::move(options.physical), cache);
  }
  options.default_lease_ttl =
      std::chrono::duration_cast<std::chrono::seconds>(cfg.default_lease_ttl);
  options.max_lease_ttl = std::chrono::duration_cast<std::chrono::seconds>(cfg.max_lease_ttl);
  options.prometheus_metrics = cfg.telemetry.prometheus_retention_time.count() > 0;
  options.cluster_name = cfg.cluster_name;
  // The levels in effect (flags and the environment override the file).
  if (!level.empty()) cfg.log_level = level;
  if (!format.empty()) cfg.log_format = format;
  options.sanitized_config = config::Sanitized(cfg);
  auto core = core::Core::Create(std::move(options));
  if (!core) {
    std::fprintf(stderr, "Error starting core: %s\n", core.error().ToString().c_str());
    return 1;
  }

  std::optional<core::InitResult> dev_init;
  if (flags.dev) {
    auto init = SetUpDev(**core, flags);
    if (!init) {
      std::fprintf(stderr, "Error setting up dev mode: %s\n", init.error().ToString().c_str());
      return 1;
    }
    dev_init = std::move(*init);
  }

  std::vector<std::unique_ptr<http::Server>> servers;
  std::vector<std::string> schemes;
  for (const auto& l : cfg.listeners) {
    auto server = http::Server::Create(ListenerOptions(l), **core);
    if (!server) {
      std::fprintf(stderr, "Error starting listener %s: %s\n", l.address.c_str(),
                   server.error().message().c_str());
      return 1;
    }
    schemes.push_back(l.tls_disable ? "http" : "https");
    servers.push_back(std::move(*server));
  }
  if (!cfg.pid_file.empty() && !WritePidFile(cfg.pid_file)) {
    std::fprintf(stderr, "Error storing PID in %s: %s\n", cfg.pid_file.c_str(),
                 std::strerror(errno));
    return 1;
  }
  PrintBanner(cfg, servers, schemes);
  if (dev_init) {
    std::string addr = schemes[0] + "://" +
                       cfg.listeners[0].address.substr(0, cfg.listeners[0].address.rfind(':')) +
                       ":" + std::to_string(servers[0]->port());
    // As Vault's dev server: api_addr is the address clients reach (the
    // port bound, when asked for port 0), which identity tokens name as
    // their issuer.
    if (cfg.api_addr.empty()) {
      cfg.api_addr = addr;
      (*core)->SetSanitizedConfig(config::Sanitized(cfg));
    }
    std::printf(
        "WARNING! dev mode is enabled! In this mode, Coffer runs entirely in-memory\n"
        "and starts unsealed with a single unseal key.\n\n"
        "You may need to set the following environment variables:\n\n"
        "    $ export COFFER_ADDR='%s'\n"
        "    $ export COFFER_TOKEN=\"<the root token below>\"\n\n"
        "The unseal key and root token are displayed below in case you want to\n"
        "seal/unseal the server or re-authenticate.\n\n"
        "Unseal Key: %s\nRoot Token: %.*s\n\n"
        "Development mode should NOT be used in production installations!\n\n",
        addr.c_str(), Base64Encode(dev_init->keys.at(0).view()).c_str(),
        static_cast<int>(dev_init->root_token.size()),
        reinterpret_cast<const char*>(dev_init->root_token.data()));
    dev_init.reset();
  }
  std::printf("==> Coffer server started! Log data will stream in below:\n\n");
  std::fflush(stdout);
  for (auto& s : servers) s->Start();

  int sig = 0;
  while (true) {
    sigwait(&signals, &sig);
    if (sig != SIGHUP) break;
    // SIGHUP: log rotation. Audit devices write a signed "rotate" checkpoint
    // and reopen their files; the chain continues in the new file.
    Log(LogModule::kCore).info("received SIGHUP, reopening audit devices");
    (*core)->ReopenAuditDevices();
    if (!flags.dev) ReloadConfig(flags.config_path, cfg, **core);
  }
  Log(LogModule::kCore).info("received signal {}, shutting down", sig);
  for (auto& s : servers) s->Stop();
  (*core)->Shutdown();
  core->reset();  // closes storage after the last write is durable
  if (!cfg.pid_file.empty()) std::remove(cfg.pid_file.c_str());
  Log(LogModule::kCore).info("shutdown complete");
  return 0;
}

}  // namespace coffer::server
