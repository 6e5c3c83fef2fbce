#include "audit/entry.h"

#include "common/clock.h"
#include "common/duration.h"

namespace coffer::audit {
namespace {

using logical::Json;

Json AuthJson(const logical::Request& request) {
  Json auth = Json::object();
  if (!request.client_token.empty()) auth["client_token"] = request.client_token;
  if (!request.auth) return auth;
  const logical::Auth& a = *request.auth;
  auth["accessor"] = a.accessor;
  auth["display_name"] = a.display_name;
  auth["policies"] = a.policies;
  auth["token_policies"] = a.policies;
  auth["metadata"] = a.metadata.empty() ? Json(nullptr) : Json(a.metadata);
  auth["entity_id"] = a.entity_id;
  auth["token_type"] = "service";
  auth["token_ttl"] = a.ttl;
  return auth;
}

Json RequestJson(const logical::Request& request, const MountInfo& mount) {
  Json r{{"id", request.id},
         {"operation", std::string(logical::OperationName(request.operation))},
         {"path", request.path},
         {"namespace", {{"id", "root"}}},
         {"remote_address", request.remote_address}};
  if (!mount.type.empty()) r["mount_type"] = mount.type;
  if (!mount.path.empty()) r["mount_point"] = mount.path;
  if (!mount.accessor.empty()) r["mount_accessor"] = mount.accessor;
  if (!request.client_token.empty()) r["client_token"] = request.client_token;
  if (request.auth) r["client_token_accessor"] = request.auth->accessor;
  if (!request.data.empty()) r["data"] = request.data;
  if (!request.wrap_ttl.empty()) {
    auto ttl = ParseDuration(request.wrap_ttl);
    r["wrap_ttl"] = ttl ? ttl->count() : 0;
  }
  return r;
}

Json Base(std::string_view type, const logical::Request& request, const MountInfo& mount,
          std::string_view error, std::chrono::system_clock::time_point now) {
  Json e{{"time", FormatRfc3339(now)},
         {"type", std::string(type)},
         {"auth", AuthJson(request)},
         {"request", RequestJson(request, mount)}};
  if (!error.empty()) e["error"] = std::string(error);
  return e;
}

// Hashes one string field in place when present.
void HashField(Json& obj, const char* key, const Salt& salt) {
  auto it = obj.find(key);
  if (it != obj.end() && it->is_string()) *it = salt.Hash(it->get_ref<const std::string&>());
}

void HashEntry(Json& e, const MountInfo& mount, const Salt& salt, bool hmac_accessor) {
  if (auto a = e.find("auth"); a != e.end() && a->is_object()) {
    HashField(*a, "client_token", salt);
    if (hmac_accessor) HashField(*a, "accessor", salt);
  }
  if (auto r = e.find("request"); r != e.end()) {
    HashField(*r, "client_token", salt);
    if (hmac_accessor) HashField(*r, "client_token_accessor", salt);
    if (auto d = r->find("data"); d != r->end()) HashLeaves(*d, salt, &mount.non_hmac_request_keys);
  }
  if (auto r = e.find("response"); r != e.end()) {
    if (auto d = r->find("data"); d != r->end()) {
      HashLeaves(*d, salt, &mount.non_hmac_response_keys);
    }
    if (auto a = r->find("auth"); a != r->end() && a->is_object()) {
      HashField(*a, "client_token", salt);
      if (hmac_accessor) HashField(*a, "accessor", salt);
    }
    if (auto w = r->find("wrap_info"); w != r->end() && w->is_object()) {
      HashField(*w, "token", salt);
      if (hmac_accessor) HashField(*w, "accessor", salt);
      HashField(*w, "wrapped_accessor", salt);
    }
  }
}

void ElideList(Json& e) {
  auto req = e.find("request");
  if (req == e.end() || req->value("operation", "") != "list") return;
  auto resp = e.find("response");
  if (resp == e.end()) return;
  auto data = resp->find("data");
  if (data == resp->end() || !data->is_object()) return;
  auto keys = data->find("keys");
  if (keys != data->end() && keys->is_array()) *keys = keys->size();
  auto info = data->find("key_info");
  if (info != data->end() && info->is_object()) *info = info->size();
}

void EscapeXml(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
}

void Jsonx(std::string& out, const Json& v, const std::string* name, bool root) {
  auto open = [&](const char* tag) {
    out += "<json:";
    out += tag;
    if (name != nullptr) {
      out += " name=\"";
      EscapeXml(out, *name);
      out += '"';
    }
    if (root) out += " xmlns:json=\"http://www.ibm.com/xmlns/prod/2009/jsonx\"";
  };
  auto close = [&](const char* tag) {
    out += "</json:";
    out += tag;
    out += '>';
  };
  switch (v.type()) {
    case Json::value_t::object:
      open("object");
      out += '>';
      for (const auto& [k, child] : v.items()) Jsonx(out, child, &k, false);
      close("object");
      break;
    case Json::value_t::array:
      open("array");
      out += '>';
      for (const auto& child : v) Jsonx(out, child, nullptr, false);
      close("array");
      break;
    case Json::value_t::string:
      open("string");
      out += '>';
      EscapeXml(out, v.get_ref<const std::string&>());
      close("string");
      break;
    case Json::value_t::boolean:
      open("boolean");
      out += '>';
      out += v.get<bool>() ? "true" : "false";
      close("boolean");
      break;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      open("number");
      out += '>';
      out += v.dump();
      close("number");
      break;
    default:
      open("null");
      out += "/>";
  }
}

}  // namespace

Json BuildRequestEntry(const logical::Request& request, const MountInfo& mount,
                       std::string_view error, std::chrono::system_clock::time_point now) {
  return Base("request", request, mount, error, now);
}

Json BuildResponseEntry(const logical::Request& request, const MountInfo& mount,
                        const logical::Response* response, std::string_view error,
                        std::chrono::system_clock::time_point now) {
  Json e = Base("response", request, mount, error, now);
  Json r = Json::object();
  if (!mount.type.empty()) r["mount_type"] = mount.type;
  if (response != nullptr) {
    if (response->raw) {
      // Envelope-less sys answers: their payload, or the body as a whole.
      auto d = response->raw->find("data");
      r["data"] = d != response->raw->end() && d->is_object() ? *d : *response->raw;
    } else if (!response->data.is_null()) {
      r["data"] = response->data;
    }
    if (!response->auth.is_null()) r["auth"] = response->auth;
    if (!response->wrap_info.is_null()) r["wrap_info"] = response->wrap_info;
    if (!response->warnings.is_null()) r["warnings"] = response->warnings;
    if (!response->lease_id.empty()) {
      r["secret"] = {{"lease_id", response->lease_id}};
    }
  }
  e["response"] = std::move(r);
  return e;
}

std::string Prepare(Json entry, const MountInfo& mount, const Salt& salt,
                    const EntryOptions& options) {
  if (!options.log_raw) HashEntry(entry, mount, salt, options.hmac_accessor);
  if (options.elide_list_responses) ElideList(entry);
  if (options.format == Format::kJsonx) return ToJsonx(entry);
  return entry.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string ToJsonx(const Json& value) {
  std::string out;
  Jsonx(out, value, nullptr, true);
  return out;
}

}  // namespace coffer::audit
