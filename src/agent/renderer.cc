#include "agent/renderer.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "agent/files.h"
#include "common/child_fds.h"
#include "common/log.h"
#include "common/secret_bytes.h"

extern char** environ;

namespace coffer::agent {
namespace {

// The object a template sees for `secret "path"`, in consul-template's
// field names.
Json SecretView(const Json& answer) {
  Json v = Json::object();
  auto get = [&](const char* k, Json def) {
    return answer.is_object() && answer.contains(k) && !answer[k].is_null() ? answer[k] : def;
  };
  v["Data"] = get("data", Json::object());
  v["LeaseID"] = get("lease_id", "");
  v["LeaseDuration"] = get("lease_duration", 0);
  v["Renewable"] = get("renewable", false);
  v["Warnings"] = get("warnings", Json());
  v["RequestID"] = get("request_id", "");
  return v;
}

void WipeJsonStrings(Json& j) {
  if (j.is_string()) {
    WipeString(j.get_ref<std::string&>());
  } else if (j.is_structured()) {
    for (auto& e : j) WipeJsonStrings(e);
  }
}

}  // namespace

Renderer::~Renderer() {
  for (auto& [k, v] : env_) WipeString(v);
}

Result<std::unique_ptr<Renderer>> Renderer::Create(const AgentConfig& config) {
  std::vector<Entry> files;
  for (const TemplateConfig& tc : config.templates) {
    std::string name = tc.source.empty() ? tc.destination : tc.source;
    ASSIGN_OR_RETURN(Template t, Template::Parse(tc.contents, name));
    files.push_back(Entry{tc, std::move(t)});
  }
  std::map<std::string, Entry> env;
  for (const auto& [var, tc] : config.env_templates) {
    ASSIGN_OR_RETURN(Template t, Template::Parse(tc.contents, "env_template " + var));
    env.emplace(var, Entry{tc, std::move(t)});
  }
  return std::unique_ptr<Renderer>(new Renderer(config.static_secret_render_interval,
                                                config.lease_renewal_threshold, std::move(files),
                                                std::move(env)));
}

PassResult Renderer::RenderAll(const RawFetcher& fetch) {
  PassResult result;
  result.next = interval_;
  std::map<std::string, Json> cache;  // per pass: path (+ write data) -> view
  SecretFetcher fetcher = [&](const std::string& path, const Json& data) -> Result<Json> {
    std::string key = path + (data.is_null() ? "" : "\n" + data.dump());
    result.paths.insert(path);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
    Result<Json> answer = fetch(path, data);
    if (!answer) {
      if (answer.error().code() == Code::kPermissionDenied) result.permission_denied = true;
      return Err(answer.error());
    }
    if (answer->is_null()) return Err(NotFound("no secret exists at " + path));
    Json view = SecretView(*answer);
    WipeJsonStrings(*answer);
    long long lease =
        view["LeaseDuration"].is_number() ? view["LeaseDuration"].get<long long>() : 0;
    if (!view["LeaseID"].get<std::string>().empty() && lease > 0) {
      auto due = static_cast<long long>(static_cast<double>(lease) * lease_threshold_);
      result.next = std::min(result.next, std::chrono::seconds(std::max(1LL, due)));
    }
    cache.emplace(key, view);
    return view;
  };

  for (Entry& e : files_) {
    RenderOptions opts{e.config.error_on_missing_key};
    Result<std::string> out = e.tmpl.Render(fetcher, opts);
    if (!out) {
      result.errors.push_back(out.error());
      continue;
    }
    std::optional<std::string> current = ReadFileIfExists(e.config.destination);
    std::optional<unsigned> mode = FileMode(e.config.destination);
    bool same = current && *current == *out && mode && *mode == e.config.perms;
    if (current) WipeString(*current);
    if (same) {
      WipeString(*out);
      continue;
    }
    if (e.config.create_dest_dirs) {
      // Vault Agent's create_dest_dirs (on by default): missing parent
      // directories are made, with the umask's modes.
      std::error_code ec;
      std::filesystem::path parent = std::filesystem::path(e.config.destination).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
      if (ec) {
        WipeString(*out);
        result.errors.push_back(Internal("template " + e.config.destination +
                                         ": cannot create its directory: " + ec.message()));
        continue;
      }
    }
    Status st = AtomicWriteFile(e.config.destination, *out, e.config.perms);
    WipeString(*out);
    if (!st.ok()) {
      result.errors.push_back(st);
      continue;
    }
    ++result.files_written;
    Log(LogModule::kAgent).info("rendered {}", e.config.destination);
    if (!e.config.command.empty()) {
      Result<int> rc = RunShellCommand(e.config.command, std::chrono::seconds(30));
      if (!rc) {
        result.errors.push_back(rc.error());
      } else if (*rc != 0) {
        Log(LogModule::kAgent).warn("command for {} exited with {}", e.config.destination, *rc);
      }
    }
  }

  std::map<std::string, std::string> env;
  bool ready = true;
  for (auto& [var, e] : env_templates_) {
    RenderOptions opts{e.config.error_on_missing_key};
    Result<std::string> out = e.tmpl.Render(fetcher, opts);
    if (!out) {
      result.errors.push_back(out.error());
      ready = false;
      continue;
    }
    env[var] = std::move(*out);
  }
  for (auto& [k, v] : cache) WipeJsonStrings(v);
  result.env_ready = ready;
  if (ready) {
    result.env_changed = env != env_;
    for (auto& [k, v] : env_) WipeString(v);
    env_ = std::move(env);
  } else {
    for (auto& [k, v] : env) WipeString(v);
  }
  return result;
}

Result<int> RunShellCommand(const std::string& command, std::chrono::seconds timeout) {
  pid_t pid = ::fork();
  if (pid < 0) return Err(Internal("fork failed for a template command"));
  if (pid == 0) {
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    ::signal(SIGPIPE, SIG_DFL);  // ignored by the agent; not for the command
    CloseInheritedFds();
    ::execve("/bin/sh", const_cast<char* const*>(argv), environ);
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return Err(Internal("waitpid failed for a template command"));
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      Log(LogModule::kAgent).warn("template command timed out and was killed");
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace coffer::agent
