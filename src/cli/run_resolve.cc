#include "cli/run_resolve.h"

#include <openssl/evp.h>

#include <algorithm>
#include <set>

#include "cli/command_util.h"
#include "cli/output.h"
#include "cli/secret_output.h"
#include "common/encoding.h"
#include "common/json_numbers.h"

namespace coffer::cli {
namespace {

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

std::string StringOr(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it == obj.end() ? "" : ScalarText(*it);
}

// "3|live" or "3|gone" (deleted or destroyed), from either a data read's
// metadata or the metadata endpoint's entry for the current version; only
// what both spell the same way is compared.
std::string V2Fingerprint(const std::string& version, const Json& version_meta) {
  std::string deleted = StringOr(version_meta, "deletion_time");
  bool gone =
      (!deleted.empty() && deleted != "null") || StringOr(version_meta, "destroyed") == "true";
  return version + (gone ? "|gone" : "|live");
}

// One read secret: its data fields (wiped on destruction) and lease.
struct ReadSecret {
  Json fields;  // object of field -> value; null when missing
  bool missing = false;
  std::string fingerprint;
  Lease lease;
  ~ReadSecret() { WipeJson(fields); }
};

}  // namespace

Result<SecretResolver::Located> SecretResolver::Locate(const std::string& path) {
  auto it = located_.find(path);
  if (it != located_.end()) return it->second;
  Located loc;
  Result<KvTarget> kv = ResolveKvTarget(client_, path, "");
  if (kv) {
    loc.kv = std::move(*kv);
  } else if (kv.error().code() == Code::kPermissionDenied || kv.error().code() == Code::kInternal) {
    // A narrow CI token may read its secret but not describe mounts:
    // "mount/data/rest" is then taken as KV v2.
    std::size_t slash = path.find('/');
    if (slash != std::string::npos && path.compare(slash + 1, 5, "data/") == 0) {
      loc.kv.version = 2;
      loc.kv.mount = path.substr(0, slash + 1);
      loc.kv.secret = path.substr(slash + 1);
    } else {
      loc.kv.version = 1;
      loc.kv.secret = path;
    }
  } else {
    return Err(kv.error());
  }
  if (loc.kv.version == 2) {
    // "secret/data/app" and "secret/app" name the same secret.
    if (loc.kv.secret.starts_with("data/")) loc.kv.secret.erase(0, 5);
    loc.data_path = loc.kv.Path("data");
    loc.metadata_path = loc.kv.Path("metadata");
  } else {
    loc.data_path = loc.kv.Path("");
  }
  located_.emplace(path, loc);
  return loc;
}

Result<ResolvedSecrets> SecretResolver::Resolve(const RunSpec& spec) {
  // Every distinct path once, in first-use order.
  std::vector<std::string> order;
  std::set<std::string> seen;
  for (const EnvMapping& m : spec.secrets) {
    if (seen.insert(m.ref.path).second) order.push_back(m.ref.path);
  }
  for (const PathMapping& p : spec.paths) {
    if (seen.insert(p.path).second) order.push_back(p.path);
  }

  ResolvedSecrets out;
  std::map<std::string, ReadSecret> reads;
  for (const std::string& path : order) {
    ASSIGN_OR_RETURN(Located loc, Locate(path));
    ReadSecret& read = reads[path];
    ASSIGN_OR_RETURN(ApiResponse resp, client_.Send("GET", "/v1/" + loc.data_path));
    if (resp.status == 404) {
      read.missing = true;
      WipeJson(resp.body);
      continue;
    }
    if (resp.status < 200 || resp.status >= 300) {
      std::string url = client_.address();
      while (!url.empty() && url.back() == '/') url.pop_back();
      // Error bodies carry messages, not secret values.
      Status s(resp.status == 403 ? Code::kPermissionDenied : Code::kInternal,
               "cannot read " + path + ":\n" +
                   FormatApiError("GET", url + "/v1/" + loc.data_path, resp.status, resp.body));
      return Err(s);
    }
    Json& data =
        resp.body.is_object() && resp.body.contains("data") ? resp.body["data"] : resp.body;
    read.lease.lease_id = StringOr(resp.body, "lease_id");
    if (resp.body.contains("lease_duration") && resp.body["lease_duration"].is_number_integer()) {
      read.lease.duration_seconds = resp.body["lease_duration"].get<long long>();
    }
    read.lease.renewable = resp.body.value("renewable", false);
    if (loc.kv.version == 2) {
      const Json& meta = data.is_object() && data.contains("metadata") ? data["metadata"] : Json();
      read.fingerprint = V2Fingerprint(StringOr(meta, "version"), meta);
      if (data.is_object() && data.contains("data") && data["data"].is_object()) {
        read.fields = std::move(data["data"]);
      } else {
        read.missing = true;  // a deleted version reads as data: null
      }
    } else if (data.is_object()) {
      read.fingerprint = Sha256Hex(DumpJsonWithNumberText(data));
      read.fields = std::move(data);
    } else {
      read.missing = true;
    }
    WipeJson(resp.body);
    if (!read.lease.lease_id.empty()) {
      out.leases.push_back(read.lease);
    } else if (std::none_of(out.targets.begin(), out.targets.end(),
                            [&](const WatchTarget& t) { return t.data_path == loc.data_path; })) {
      // "secret/app" and "secret/data/app" are one secret, watched once.
      out.targets.push_back({path, loc.data_path, loc.metadata_path, read.fingerprint});
    }
  }

  std::vector<std::string> missing;
  std::map<std::string, std::string> origin;  // variable -> what defined it
  for (const PathMapping& p : spec.paths) {
    ReadSecret& read = reads[p.path];
    if (read.missing) {
      missing.push_back(p.path + " (all fields)");
      continue;
    }
    for (auto it = read.fields.begin(); it != read.fields.end(); ++it) {
      std::string name = EnvNameForField(p.prefix, it.key());
      std::string from = p.path + "#" + it.key();
      auto [pos, fresh] = origin.emplace(name, from);
      if (!fresh) {
        return Err(InvalidArgument("both " + pos->second + " and " + from +
                                   " map to the variable " + name + "; use a --prefix"));
      }
      if (ReservedForFieldNames(name)) {
        return Err(InvalidArgument(
            from + " maps to " + name +
            ", which coffer run does not set from a field name (it changes how programs load "
            "or run); name the variable yourself with --secret NAME=" +
            from));
      }
      std::string text = ScalarText(*it);
      Status checked = CheckEnvEntry(name, text, from);
      if (!checked.ok()) {
        WipeString(text);
        return Err(std::move(checked));
      }
      out.env.emplace_back(name, SecretBytes::FromString(text));
      WipeString(text);
    }
  }
  for (const EnvMapping& m : spec.secrets) {
    ReadSecret& read = reads[m.ref.path];
    if (read.missing) {
      missing.push_back(m.ref.Text() + " (no secret at " + m.ref.path + ")");
      continue;
    }
    if (!read.fields.is_object() || !read.fields.contains(m.ref.field)) {
      missing.push_back(m.ref.Text() + " (no field \"" + m.ref.field + "\")");
      continue;
    }
    std::string text = ScalarText(read.fields[m.ref.field]);
    Status checked = CheckEnvEntry(m.name, text, m.ref.Text());
    if (!checked.ok()) {
      WipeString(text);
      return Err(std::move(checked));
    }
    std::erase_if(out.env, [&](const auto& e) { return e.first == m.name; });
    out.env.emplace_back(m.name, SecretBytes::FromString(text));
    WipeString(text);
  }
  if (!missing.empty()) {
    std::string msg = "missing secret";
    msg += missing.size() > 1 ? "s: " : ": ";
    for (std::size_t i = 0; i < missing.size(); ++i) {
      if (i > 0) msg += ", ";
      msg += missing[i];
    }
    return Err(NotFound(msg));
  }
  return out;
}

Result<std::string> SecretResolver::Fingerprint(const WatchTarget& target) {
  const bool v2 = !target.metadata_path.empty();
  ASSIGN_OR_RETURN(ApiResponse resp,
                   client_.Send("GET", "/v1/" + (v2 ? target.metadata_path : target.data_path)));
  if (resp.status == 404) {
    WipeJson(resp.body);
    return std::string("missing");
  }
  if (resp.status < 200 || resp.status >= 300) {
    return Err(Unavailable("cannot check " + target.ref_path + " for changes (HTTP " +
                           std::to_string(resp.status) + ")"));
  }
  const Json& data = DataOf(resp.body);
  std::string fp;
  if (v2) {
    std::string current = StringOr(data, "current_version");
    Json meta;
    if (data.is_object() && data.contains("versions") && data["versions"].is_object() &&
        data["versions"].contains(current)) {
      meta = data["versions"][current];
    }
    fp = V2Fingerprint(current, meta);
  } else {
    fp = Sha256Hex(DumpJsonWithNumberText(data));
  }
  WipeJson(resp.body);
  return fp;
}

Status SecretResolver::RenewLease(const Lease& lease) {
  std::string body = "{\"lease_id\":";
  AppendJsonString(body, lease.lease_id);
  body += "}";
  Result<Json> resp = client_.Request("PUT", "/v1/sys/leases/renew", body);
  if (!resp) return resp.error();
  return Status::Ok();
}

}  // namespace coffer::cli
