#include "audit/entry.h"

#include <charconv>
#include <cstdint>

#include "common/clock.h"
#include "common/duration.h"
#include "common/encoding.h"
#include "common/json_fast.h"
#include "common/json_numbers.h"
#include "common/text.h"

namespace coffer::audit {
namespace {

using logical::Json;

// Writes the members of one JSON object.
class Obj {
 public:
  explicit Obj(std::string& out) : out_(out) { out_.push_back('{'); }
  std::string& Key(std::string_view k) {
    if (!first_) out_.push_back(',');
    first_ = false;
    AppendJsonString(out_, k);
    out_.push_back(':');
    return out_;
  }
  // A key known to need no escaping (the entry's own member names).
  std::string& Name(std::string_view k) {
    if (!first_) out_.push_back(',');
    first_ = false;
    out_.push_back('"');
    out_ += k;
    out_ += "\":";
    return out_;
  }
  void Close() { out_.push_back('}'); }

 private:
  std::string& out_;
  bool first_ = true;
};

class EntryWriter {
 public:
  EntryWriter(std::string& out, const Salt& salt, const EntryOptions& options, RenderCache* cache)
      : out_(out), salt_(salt), o_(options), cache_(cache) {}

  // A token or accessor: hashed (remembered per salt) unless log_raw.
  void Token(std::string_view v, bool is_accessor = false) {
    if (o_.log_raw || (is_accessor && !o_.hmac_accessor)) {
      AppendJsonString(out_, v);
    } else {
      out_.push_back('"');
      salt_.AppendHashCached(out_, v);
      out_.push_back('"');
    }
  }

  // The request's own token or accessor (`v` is the request's member): the
  // hash is taken from the per-request cache when the same value was hashed
  // for an earlier entry.
  void RequestToken(const std::string& v, bool is_accessor) {
    if (cache_ == nullptr || o_.log_raw || (is_accessor && !o_.hmac_accessor)) {
      Token(v, is_accessor);
      return;
    }
    const std::string*& source = is_accessor ? cache_->accessor : cache_->token;
    RenderCache::Text& hash = is_accessor ? cache_->accessor_hash : cache_->token_hash;
    out_.push_back('"');
    if (source == &v) {
      out_.append(*hash.in, hash.pos, hash.size);
    } else {
      const std::size_t pos = out_.size();
      salt_.AppendHashCached(out_, v);
      hash = {&out_, pos, out_.size() - pos};
      source = &v;
    }
    out_.push_back('"');
  }

  // Request or response data: every leaf hashed unless log_raw, except the
  // leaves whose innermost key is in `exempt` (the mount's
  // audit_non_hmac_*_keys). As in Vault, an exemption names a key, not a
  // subtree: with "data" exempt, a KV v2 secret's values under "data" are
  // still hashed, while a "username" anywhere is logged as it is.
  void Data(const Json& v, const std::set<std::string>* exempt, bool elide_keys) {
    if (!v.is_object()) {
      Value(v, !o_.log_raw);
      return;
    }
    Obj obj(out_);
    for (auto it = v.begin(); it != v.end(); ++it) {
      obj.Key(it.key());
      if (elide_keys && (it.key() == "keys" || it.key() == "key_info") &&
          (it->is_array() || it->is_object())) {
        out_ += std::to_string(it->size());
        continue;
      }
      DataValue(*it, exempt, exempt != nullptr && exempt->contains(it.key()));
    }
    obj.Close();
  }

  // One value of request or response data; `leaf_exempt`: its innermost key
  // is exempt (array elements share their array's key).
  void DataValue(const Json& v, const std::set<std::string>* exempt, bool leaf_exempt) {
    if (o_.log_raw) {
      Value(v, false);
      return;
    }
    if (v.is_object()) {
      Obj obj(out_);
      for (auto it = v.begin(); it != v.end(); ++it) {
        obj.Key(it.key());
        DataValue(*it, exempt, exempt != nullptr && exempt->contains(it.key()));
      }
      obj.Close();
    } else if (v.is_array()) {
      out_.push_back('[');
      bool first = true;
      for (const auto& child : v) {
        if (!first) out_.push_back(',');
        first = false;
        DataValue(child, exempt, leaf_exempt);
      }
      out_.push_back(']');
    } else {
      Value(v, !leaf_exempt);
    }
  }

  bool raw() const { return o_.log_raw; }

  // A plain value (policies, metadata) or a hashed one.
  void Value(const Json& v, bool hash) {
    switch (v.type()) {
      case Json::value_t::object: {
        Obj obj(out_);
        for (auto it = v.begin(); it != v.end(); ++it) {
          obj.Key(it.key());
          Value(*it, hash);
        }
        obj.Close();
        break;
      }
      case Json::value_t::array: {
        out_.push_back('[');
        bool first = true;
        for (const auto& child : v) {
          if (!first) out_.push_back(',');
          first = false;
          Value(child, hash);
        }
        out_.push_back(']');
        break;
      }
      case Json::value_t::string:
        if (hash) {
          Hashed(v.get_ref<const std::string&>());
        } else {
          AppendJsonString(out_, v.get_ref<const std::string&>());
        }
        break;
      case Json::value_t::boolean:
        if (hash) {
          out_.push_back('"');
          salt_.AppendHashOfBool(out_, v.get<bool>());
          out_.push_back('"');
        } else {
          out_ += v.get<bool>() ? "true" : "false";
        }
        break;
      case Json::value_t::number_integer:
      case Json::value_t::number_unsigned: {
        // The same text as dump(), without its allocation.
        char buf[24];
        auto end = v.is_number_unsigned()
                       ? std::to_chars(buf, buf + sizeof(buf), v.get<std::uint64_t>()).ptr
                       : std::to_chars(buf, buf + sizeof(buf), v.get<std::int64_t>()).ptr;
        std::string_view text(buf, static_cast<std::size_t>(end - buf));
        if (hash) {
          Hashed(text);
        } else {
          out_ += text;
        }
        break;
      }
      case Json::value_t::number_float:
        if (hash) {
          Hashed(v.dump());
        } else {
          out_ += v.dump();
        }
        break;
      case Json::value_t::binary: {
        const auto& bin = v.get_binary();
        std::string_view bytes(reinterpret_cast<const char*>(bin.data()), bin.size());
        if (IsNumberText(v)) {
          // A number kept as written (common/json_numbers.h): hashed as the
          // double it reads as, as the same number is everywhere else.
          if (hash) {
            Hashed(Json(NumberTextValue(v)).dump());
          } else {
            out_ += bytes;
          }
        } else if (hash) {
          Hashed(bytes);
        } else {
          out_ += "null";
        }
        break;
      }
      default:
        out_ += "null";
    }
  }

  // An object from an engine (response auth, wrap_info) whose named string
  // members are tokens or accessors.
  void WithTokens(const Json& v, std::initializer_list<std::string_view> tokens,
                  std::initializer_list<std::string_view> accessors) {
    if (!v.is_object()) {
      Value(v, false);
      return;
    }
    Obj obj(out_);
    for (auto it = v.begin(); it != v.end(); ++it) {
      obj.Key(it.key());
      auto is = [&](std::initializer_list<std::string_view> names) {
        for (auto n : names) {
          if (it.key() == n) return true;
        }
        return false;
      };
      if (it->is_string() && is(tokens)) {
        Token(it->get_ref<const std::string&>());
      } else if (it->is_string() && is(accessors)) {
        Token(it->get_ref<const std::string&>(), /*is_accessor=*/true);
      } else if (it->is_object() && it.key() == "mfa_requirement") {
        // A login waiting for its MFA: the request id stands in for the
        // password already checked (with one passcode it makes a token).
        WithTokens(*it, {"mfa_request_id"}, {});
      } else {
        Value(*it, false);
      }
    }
    obj.Close();
  }

 private:
  void Hashed(std::string_view v) {
    out_.push_back('"');
    salt_.AppendHash(out_, v);
    out_.push_back('"');
  }

  std::string& out_;
  const Salt& salt_;
  const EntryOptions& o_;
  RenderCache* cache_;
};

void AppendAuth(std::string& out, EntryWriter& w, const logical::Request& request) {
  Obj auth(out);
  const logical::Auth* a = request.auth.get();
  if (a != nullptr) {
    auth.Name("accessor");
    w.RequestToken(a->accessor, /*is_accessor=*/true);
  }
  if (!request.client_token.empty()) {
    auth.Name("client_token");
    w.RequestToken(request.client_token, /*is_accessor=*/false);
  }
  if (a != nullptr) {
    AppendJsonString(auth.Name("display_name"), a->display_name);
    AppendJsonString(auth.Name("entity_id"), a->entity_id);
    auth.Name("metadata");
    if (a->metadata.empty()) {
      out += "null";
    } else {
      Obj md(out);
      for (const auto& [k, v] : a->metadata) AppendJsonString(md.Key(k), v);
      md.Close();
    }
    for (const char* key : {"policies", "token_policies"}) {
      auth.Name(key).push_back('[');
      for (std::size_t i = 0; i < a->policies.size(); ++i) {
        if (i > 0) out.push_back(',');
        AppendJsonString(out, a->policies[i]);
      }
      out.push_back(']');
    }
    auth.Name("token_ttl") += std::to_string(a->ttl);
    AppendJsonString(auth.Name("token_type"), a->batch ? "batch" : "service");
  }
  auth.Close();
}

void AppendRequest(std::string& out, EntryWriter& w, const logical::Request& request,
                   const MountInfo& mount) {
  Obj r(out);
  if (!request.client_token.empty()) {
    r.Name("client_token");
    w.RequestToken(request.client_token, /*is_accessor=*/false);
  }
  if (request.auth) {
    r.Name("client_token_accessor");
    w.RequestToken(request.auth->accessor, /*is_accessor=*/true);
  }
  if (!request.data.empty()) {
    r.Name("data");
    w.Data(request.data, &mount.non_hmac_request_keys, false);
  }
  if (!request.audited_headers.empty()) {
    // The headers an operator chose to audit, each value hashed when asked
    // (and the device does not log raw).
    r.Name("headers");
    Obj headers(out);
    for (const auto& h : request.audited_headers) {
      headers.Key(h.name).push_back('[');
      for (std::size_t i = 0; i < h.values.size(); ++i) {
        if (i > 0) out.push_back(',');
        w.Value(Json(h.values[i]), h.hmac && !w.raw());
      }
      out.push_back(']');
    }
    headers.Close();
  }
  AppendJsonString(r.Name("id"), request.id);
  if (!mount.accessor.empty()) AppendJsonString(r.Name("mount_accessor"), mount.accessor);
  if (!mount.path.empty()) AppendJsonString(r.Name("mount_point"), mount.path);
  if (!mount.type.empty()) AppendJsonString(r.Name("mount_type"), mount.type);
  r.Name("namespace") += "{\"id\":\"root\"}";
  AppendJsonString(r.Name("operation"), logical::OperationName(request.operation));
  AppendJsonString(r.Name("path"), request.path);
  AppendJsonString(r.Name("remote_address"), request.remote_address);
  if (!request.wrap_ttl.empty()) {
    auto ttl = ParseDuration(request.wrap_ttl);
    r.Name("wrap_ttl") += std::to_string(ttl ? ttl->count() : 0);
  }
  r.Close();
}

}  // namespace

void RenderTo(std::string& out, const EntrySource& src, const Salt& salt,
              const EntryOptions& options, RenderCache* cache) {
  if (options.format == Format::kJsonx) {
    // JSONx is converted from the JSON line.
    EntryOptions json = options;
    json.format = Format::kJson;
    std::string line;
    RenderTo(line, src, salt, json, cache);
    out += ToJsonx(Json::parse(line, nullptr, false));
    return;
  }
  const logical::Request& request = *src.request;
  const MountInfo& mount = *src.mount;
  EntryWriter w(out, salt, options, cache);
  Obj entry(out);

  // Both entries of a request carry the same auth and request objects: the
  // second copies what the first rendered.
  const bool shared = cache != nullptr && cache->rendered == &request;
  if (cache != nullptr && !shared) {
    cache->token = cache->accessor = nullptr;  // their hashes are in the strings cleared here
    cache->auth_json.clear();
    cache->request_json.clear();
    // Sized for a typical entry, so that they do not grow step by step.
    cache->auth_json.reserve(512);
    cache->request_json.reserve(768);
    EntryWriter cw(cache->auth_json, salt, options, cache);
    AppendAuth(cache->auth_json, cw, request);
    EntryWriter rw(cache->request_json, salt, options, cache);
    AppendRequest(cache->request_json, rw, request, mount);
    cache->rendered = &request;
  }
  if (cache != nullptr) {
    entry.Name("auth") += cache->auth_json;
  } else {
    AppendAuth(entry.Name("auth"), w, request);
  }

  if (!src.error.empty()) AppendJsonString(entry.Name("error"), src.error);

  if (cache != nullptr) {
    entry.Name("request") += cache->request_json;
  } else {
    AppendRequest(entry.Name("request"), w, request, mount);
  }

  if (src.type == EntrySource::Type::kResponse) {
    entry.Name("response");
    Obj r(out);
    const logical::Response* resp = src.response;
    if (resp != nullptr && !resp->auth_text.empty()) {
      // A token's block sent as text (Response::auth_text): hashed from its tree.
      Json auth = ParseJson(resp->auth_text);
      if (auth.is_discarded()) auth = Json{{"unparsable_response", true}};
      r.Name("auth");
      w.WithTokens(auth, {"client_token"}, {"accessor"});
    } else if (resp != nullptr && !resp->auth.is_null()) {
      r.Name("auth");
      w.WithTokens(resp->auth, {"client_token"}, {"accessor"});
    }
    if (resp != nullptr) {
      const Json* data = nullptr;
      Json parsed;  // the tree of an answer sent as text (Response::data_text)
      if (!resp->data_text.empty()) {
        parsed = ParseJson(resp->data_text);
        // An engine's own text is valid JSON; should it not be, the entry
        // says so rather than leaving the data out unnoticed.
        if (parsed.is_discarded()) parsed = Json{{"unparsable_response", true}};
        data = &parsed;
      } else if (resp->raw) {
        // Envelope-less sys answers: their payload, or the body as a whole.
        auto d = resp->raw->find("data");
        data = d != resp->raw->end() && d->is_object() ? &*d : &*resp->raw;
      } else if (!resp->data.is_null()) {
        data = &resp->data;
      }
      if (data != nullptr) {
        r.Name("data");
        bool elide = options.elide_list_responses && logical::IsListOperation(request.operation);
        w.Data(*data, &mount.non_hmac_response_keys, elide);
      }
    }
    if (!mount.type.empty()) AppendJsonString(r.Name("mount_type"), mount.type);
    if (resp != nullptr && !resp->lease_id.empty()) {
      AppendJsonString(r.Name("secret").append("{\"lease_id\":"), resp->lease_id);
      out.push_back('}');
    }
    if (resp != nullptr && !resp->warnings.is_null()) {
      r.Name("warnings");
      w.Value(resp->warnings, false);
    }
    if (resp != nullptr && !resp->wrap_info.is_null()) {
      r.Name("wrap_info");
      w.WithTokens(resp->wrap_info, {"token"}, {"accessor", "wrapped_accessor"});
    }
    r.Close();
  }

  {
    std::string& o = entry.Name("time");  // digits and "-:.TZ": nothing to escape
    o.push_back('"');
    AppendRfc3339(o, src.time);
    o.push_back('"');
  }
  AppendJsonString(entry.Name("type"),
                   src.type == EntrySource::Type::kRequest ? "request" : "response");
  entry.Close();
}

std::string Render(const EntrySource& src, const Salt& salt, const EntryOptions& options,
                   RenderCache* cache) {
  std::string out;
  out.reserve(2048);
  RenderTo(out, src, salt, options, cache);
  return out;
}

namespace {

void Jsonx(std::string& out, const Json& v, const std::string* name, bool root) {
  auto open = [&](const char* tag) {
    out += "<json:";
    out += tag;
    if (name != nullptr) {
      out += " name=\"";
      AppendXmlEscaped(out, *name);
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
      AppendXmlEscaped(out, v.get_ref<const std::string&>());
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

std::string ToJsonx(const Json& value) {
  std::string out;
  Jsonx(out, value, nullptr, true);
  return out;
}

}  // namespace coffer::audit
