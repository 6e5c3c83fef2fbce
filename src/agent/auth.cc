#include "agent/auth.h"

#include <unistd.h>

#include "agent/files.h"
#include "common/encoding.h"
#include "common/json_numbers.h"
#include "common/log.h"

namespace coffer::agent {
namespace {

// Reads a credential file into `cache` if present (removing it when asked);
// falls back to the cached value when the file is gone.
Status Refresh(const std::string& path, bool remove, SecretBytes& cache, const char* what) {
  Result<SecretBytes> v = ReadCredentialFile(path);
  if (v) {
    cache = std::move(*v);
    if (remove && ::unlink(path.c_str()) != 0) {
      Log(LogModule::kAgent).warn("could not remove {} file {}", what, path);
    }
    return Status::Ok();
  }
  if (!cache.empty()) return Status::Ok();
  return v.error();
}

}  // namespace

Result<LoginResult> ParseAuth(const nlohmann::json& answer) {
  if (!answer.is_object() || !answer.contains("auth") || !answer["auth"].is_object()) {
    return Err(Internal("the answer has no auth block"));
  }
  const nlohmann::json& a = answer["auth"];
  auto it = a.find("client_token");
  if (it == a.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return Err(Internal("the answer has no client_token"));
  }
  LoginResult r;
  r.token = SecretBytes::FromString(it->get_ref<const std::string&>());
  if (a.contains("lease_duration") && a["lease_duration"].is_number()) {
    r.ttl = std::chrono::seconds(a["lease_duration"].get<long long>());
  }
  r.renewable = a.value("renewable", false);
  r.accessor = a.value("accessor", "");
  return r;
}

Result<std::string> AutoAuth::LoginBody() {
  std::string body = "{";
  if (method_.type == "approle") {
    TRY(Refresh(method_.role_id_file_path, false, cached_role_id_, "role ID"));
    body += "\"role_id\":";
    AppendJsonString(body, cached_role_id_.view());
    if (!method_.secret_id_file_path.empty()) {
      TRY(Refresh(method_.secret_id_file_path, method_.remove_secret_id_file_after_reading,
                  cached_secret_, "secret ID"));
      body += ",\"secret_id\":";
      AppendJsonString(body, cached_secret_.view());
    }
  } else if (method_.type == "cert") {
    // The credential is the TLS client certificate the transport presents;
    // the body only names the role, when one is configured.
    if (!method_.cert_name.empty()) {
      body += "\"name\":";
      AppendJsonString(body, method_.cert_name);
    }
  } else {
    TRY(Refresh(method_.jwt_path, method_.remove_jwt_after_reading, cached_secret_, "JWT"));
    body += "\"role\":";
    AppendJsonString(body, method_.role);
    body += ",\"jwt\":";
    AppendJsonString(body, cached_secret_.view());
  }
  body += "}";
  return body;
}

Result<LoginResult> AutoAuth::Login() {
  Result<std::string> body = LoginBody();
  if (!body) return Err(body.error());
  Result<nlohmann::json> called =
      client_.Call("POST", method_.mount_path + "/login", std::move(*body), SecretBytes());
  if (!called && method_.type == "cert" &&
      (called.error().code() == Code::kInvalidArgument ||
       called.error().code() == Code::kPermissionDenied)) {
    return Err(Status(called.error().code(),
                      called.error().message() +
                          " (the server did not accept the client certificate: it must be "
                          "issued by the CA of a cert role, unexpired, and allowed by that "
                          "role's constraints)"));
  }
  if (!called) return Err(called.error());
  nlohmann::json answer = std::move(*called);
  Result<LoginResult> r = ParseAuth(answer);
  WipeJson(answer);  // the token, and whatever else the answer held
  return r;
}

Status AutoAuth::WriteSinks(const SecretBytes& token) {
  Status first;
  for (const SinkConfig& s : sinks_) {
    Status st;
    if (s.wrap_ttl.count() > 0) {
      std::string body = "{\"token\":";
      AppendJsonString(body, token.view());
      body += "}";
      Result<nlohmann::json> w = client_.Call("POST", "sys/wrapping/wrap", std::move(body), token,
                                              std::to_string(s.wrap_ttl.count()) + "s");
      if (!w) {
        st = w.error();
      } else if (!w->is_object() || !w->contains("wrap_info")) {
        st = Internal("sys/wrapping/wrap answered without wrap_info");
      } else {
        std::string text = (*w)["wrap_info"].dump();
        st = AtomicWriteFile(s.path, text, s.mode);
        WipeString(text);
      }
    } else {
      st = AtomicWriteFile(s.path, token.view(), s.mode);
    }
    if (!st.ok()) {
      Log(LogModule::kAgent).error("sink {}: {}", s.path, st.message());
      if (first.ok()) first = st;
    } else {
      Log(LogModule::kAgent).info("token written to sink {}", s.path);
    }
  }
  return first;
}

}  // namespace coffer::agent
