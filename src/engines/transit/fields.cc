#include "engines/transit/fields.h"

#include "engines/kv/params.h"
#include "engines/transit/key_types.h"

namespace coffer::engines::transit {
namespace {

const Json* Find(const Json& obj, std::string_view name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

Result<std::optional<std::string>> OptString(const Json& obj, std::string_view name) {
  const Json* v = Find(obj, name);
  if (v == nullptr) return std::optional<std::string>();
  if (v->is_string()) return std::optional<std::string>(v->get<std::string>());
  if (v->is_number() || v->is_boolean()) return std::optional<std::string>(v->dump());
  return Err(InvalidArgument("invalid value for \"" + std::string(name) + "\": expected a string"));
}

Result<std::string> StringOr(const Json& obj, std::string_view name, std::string fallback) {
  ASSIGN_OR_RETURN(auto v, OptString(obj, name));
  if (!v || v->empty()) return fallback;
  return std::move(*v);
}

Result<std::optional<std::int64_t>> OptInt(const Json& obj, std::string_view name) {
  const Json* v = Find(obj, name);
  if (v == nullptr) return std::optional<std::int64_t>();
  if (v->is_string() && v->get_ref<const std::string&>().empty()) {
    return std::optional<std::int64_t>();
  }
  ASSIGN_OR_RETURN(std::int64_t n, kv::ParseInt(*v, name));
  return std::optional<std::int64_t>(n);
}

Result<std::optional<bool>> OptBool(const Json& obj, std::string_view name) {
  const Json* v = Find(obj, name);
  if (v == nullptr) return std::optional<bool>();
  ASSIGN_OR_RETURN(bool b, kv::ParseBool(*v, name));
  return std::optional<bool>(b);
}

Result<bool> BoolOr(const Json& obj, std::string_view name, bool fallback) {
  ASSIGN_OR_RETURN(auto v, OptBool(obj, name));
  return v.value_or(fallback);
}

Result<std::optional<std::int64_t>> OptDurationSeconds(const Json& obj, std::string_view name) {
  const Json* v = Find(obj, name);
  if (v == nullptr) return std::optional<std::int64_t>();
  ASSIGN_OR_RETURN(std::int64_t n, kv::ParseDurationSeconds(*v, name));
  return std::optional<std::int64_t>(n);
}

Result<SecretBytes> Base64Or(const Json& obj, std::string_view name) {
  const Json* v = Find(obj, name);
  if (v == nullptr) return SecretBytes();
  if (!v->is_string()) {
    return Err(InvalidArgument("invalid value for \"" + std::string(name) +
                               "\": expected a base64 string"));
  }
  return DecodeBase64Field(v->get_ref<const std::string&>(), name);
}

Result<SecretBytes> RequiredBase64(const Json& obj, std::string_view name) {
  if (Find(obj, name) == nullptr) return Err(InvalidArgument("missing " + std::string(name)));
  return Base64Or(obj, name);
}

Result<std::uint32_t> VersionField(const Json& obj, std::string_view name) {
  const Json* v = Find(obj, name);
  if (v == nullptr) return 0u;
  if (v->is_string() &&
      (v->get_ref<const std::string&>() == "latest" || v->get_ref<const std::string&>().empty())) {
    return 0u;
  }
  ASSIGN_OR_RETURN(std::int64_t n, kv::ParseInt(*v, name));
  if (n < 0 || n > UINT32_MAX) {
    return Err(InvalidArgument("invalid value for \"" + std::string(name) +
                               "\": expected a non-negative version"));
  }
  return static_cast<std::uint32_t>(n);
}

}  // namespace coffer::engines::transit
