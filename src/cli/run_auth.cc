#include "cli/run_auth.h"

#include <fstream>
#include <iterator>

#include "cli/command_util.h"
#include "cli/token_file.h"
#include "common/encoding.h"
#include "common/text.h"

namespace coffer::cli {
namespace {

std::optional<std::string> Get(const Env& env, const char* name) {
  if (!env.getenv) return std::nullopt;
  std::optional<std::string> v = env.getenv(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

}  // namespace

Result<SecretBytes> ReadCredentialFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Err(InvalidArgument("cannot read the " + std::string(what) + " file \"" + path + "\""));
  }
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  SecretBytes value = SecretBytes::FromString(Trim(content, kLineSpace));
  WipeString(content);
  if (value.empty()) {
    return Err(InvalidArgument("the " + std::string(what) + " file \"" + path + "\" is empty"));
  }
  return value;
}

Result<RunLogin> PrepareLogin(const Env& env, const RunAuthOptions& options) {
  // The request body is built in a string (AppendJsonString writes into one)
  // and moved into SecretBytes, the string wiped.
  auto login = [](std::string mount, std::string& body, SecretBytes credential,
                  std::string source) {
    RunLogin out;
    out.mount = std::move(mount);
    out.body = SecretBytes::FromString(body);
    WipeString(body);
    out.credential = std::move(credential);
    out.source = std::move(source);
    return out;
  };
  if (!options.role_id_file.empty()) {
    ASSIGN_OR_RETURN(SecretBytes role_id, ReadCredentialFile(options.role_id_file, "role ID"));
    SecretBytes secret_id;
    if (!options.secret_id_file.empty()) {
      ASSIGN_OR_RETURN(secret_id, ReadCredentialFile(options.secret_id_file, "secret ID"));
    }
    std::string body = "{\"role_id\":";
    AppendJsonString(body, role_id.view());
    if (!secret_id.empty()) {
      body += ",\"secret_id\":";
      AppendJsonString(body, secret_id.view());
    }
    body += "}";
    return login(options.approle_mount, body, std::move(secret_id), "approle");
  }
  if (!options.secret_id_file.empty()) {
    return Err(InvalidArgument("--secret-id-file needs --role-id-file"));
  }
  if (!options.jwt_file.empty()) {
    ASSIGN_OR_RETURN(SecretBytes jwt, ReadCredentialFile(options.jwt_file, "JWT"));
    std::string body = "{";
    if (!options.jwt_role.empty()) {
      body += "\"role\":";
      AppendJsonString(body, options.jwt_role);
      body += ",";
    }
    body += "\"jwt\":";
    AppendJsonString(body, jwt.view());
    body += "}";
    return login(options.jwt_mount, body, std::move(jwt), "jwt");
  }

  RunLogin plan;
  RunToken& out = plan.ready;
  for (const char* name : {"COFFER_TOKEN", "VAULT_TOKEN"}) {
    if (auto t = Get(env, name)) {
      out.token = SecretBytes::FromString(Trim(*t, kLineSpace));
      WipeString(*t);
      out.source = name;
      break;
    }
  }
  if (out.token.empty()) {
    if (auto home = Get(env, "HOME")) out.token = ReadTokenFile(*home, &out.source);
  }
  if (out.token.empty()) {
    return Err(InvalidArgument(
        "no token: set COFFER_TOKEN, run \"coffer login\", or use --role-id-file or --jwt-file"));
  }
  return plan;
}

Result<RunToken> Authenticate(RunLogin login, ApiClient& client) {
  if (login.mount.empty()) {
    client.SetToken(login.ready.token.Clone());
    return std::move(login.ready);
  }
  // The login needs no token; do not send an ambient one along with it.
  client.SetToken(SecretBytes());
  std::string path = "/v1/auth/" + SanitizePath(login.mount) + "/login";
  Result<Json> resp = client.Request("POST", path, login.body.view());
  if (!resp) {
    return Err(
        Status(resp.error().code(), login.source + " login failed: " +
                                        Redact(resp.error().message(), login.credential.view())));
  }
  Json answer = std::move(*resp);
  RunToken out;
  out.source = login.source;
  if (answer.is_object() && answer.contains("auth") && answer["auth"].is_object()) {
    Json& auth = answer["auth"];
    if (auth.contains("client_token") && auth["client_token"].is_string()) {
      out.token = SecretBytes::FromString(auth["client_token"].get_ref<const std::string&>());
    }
    if (auth.contains("lease_duration") && auth["lease_duration"].is_number_integer()) {
      out.ttl_seconds = auth["lease_duration"].get<long long>();
    }
    if (auth.contains("renewable") && auth["renewable"].is_boolean()) {
      out.renewable = auth["renewable"].get<bool>();
    }
  }
  WipeJson(answer);
  if (out.token.empty()) {
    return Err(Internal(out.source + " login: the server answered without a token"));
  }
  client.SetToken(out.token.Clone());
  return out;
}

}  // namespace coffer::cli
