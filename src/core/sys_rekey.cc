// sys/rekey/init, sys/rekey/update, sys/rekey/verify: new unseal key shares
// from a threshold of the current ones (Vault's shapes). Like sys/unseal,
// these paths need no token (the shares are the authorisation) and are not
// audited: they are answered before the audit stage, so neither the shares
// given nor the shares made can reach an audit device, even one with
// log_raw.

#include <charconv>

#include "common/encoding.h"
#include "core/core.h"
#include "core/system_backend.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

Result<int> IntField(const logical::Request& request, const char* name) {
  const Json* f = request.Field(name);
  if (f == nullptr || f->is_null()) return 0;
  if (f->is_number_integer()) return f->get<int>();
  if (f->is_string()) {
    const std::string& s = f->get_ref<const std::string&>();
    int v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && ptr == s.data() + s.size()) return v;
  }
  return Err(InvalidArgument(std::string("'") + name + "' must be an integer"));
}

Result<bool> BoolField(const logical::Request& request, const char* name) {
  const Json* f = request.Field(name);
  if (f == nullptr || f->is_null()) return false;
  if (f->is_boolean()) return f->get<bool>();
  if (f->is_string()) {
    const std::string& s = f->get_ref<const std::string&>();
    if (s == "true" || s == "1") return true;
    if (s == "false" || s == "0" || s.empty()) return false;
  }
  return Err(InvalidArgument(std::string("'") + name + "' must be a boolean"));
}

// PGP-encrypted shares and their backup in storage are not implemented.
Status RefuseUnsupported(const logical::Request& request) {
  const Json* pgp = request.Field("pgp_keys");
  if (pgp != nullptr && !pgp->is_null() && !(pgp->is_array() && pgp->empty()) &&
      !(pgp->is_string() && pgp->get_ref<const std::string&>().empty())) {
    return Unsupported(
        "pgp_keys is not supported: the new shares are returned in clear to the caller");
  }
  ASSIGN_OR_RETURN(bool backup, BoolField(request, "backup"));
  if (backup) return Unsupported("backup is not supported (it needs pgp_keys)");
  return Status::Ok();
}

Json StatusJson(const seal::RekeyStatus& s) {
  Json j{{"started", s.started},
         {"nonce", s.nonce},
         {"t", s.threshold},
         {"n", s.shares},
         {"progress", s.progress},
         {"required", s.required},
         {"pgp_fingerprints", nullptr},
         {"backup", false},
         {"verification_required", s.verification_required}};
  if (!s.verification_nonce.empty()) j["verification_nonce"] = s.verification_nonce;
  return j;
}

Json VerifyStatusJson(const seal::RekeyVerifyStatus& s) {
  return Json{{"started", s.started},
              {"nonce", s.nonce},
              {"t", s.threshold},
              {"n", s.shares},
              {"progress", s.progress}};
}

logical::Response Raw(Json body) {
  logical::Response r;
  r.raw = std::move(body);
  return r;
}

Result<logical::Response> RekeyInit(seal::ShamirSeal& seal, const logical::Request& request) {
  if (request.operation == Operation::kRead) {
    ASSIGN_OR_RETURN(seal::RekeyStatus status, seal.RekeyProgress());
    return Raw(StatusJson(status));
  }
  if (request.operation == Operation::kDelete) {
    TRY(seal.RekeyCancel());
    return logical::Response{};
  }
  if (!internal::IsWrite(request)) return Err(MethodNotAllowed());
  TRY(RefuseUnsupported(request));
  ASSIGN_OR_RETURN(int shares, IntField(request, "secret_shares"));
  ASSIGN_OR_RETURN(int threshold, IntField(request, "secret_threshold"));
  ASSIGN_OR_RETURN(bool verify, BoolField(request, "require_verification"));
  ASSIGN_OR_RETURN(seal::RekeyStatus status, seal.RekeyInit(shares, threshold, verify));
  return Raw(StatusJson(status));
}

Result<logical::Response> RekeyUpdate(seal::ShamirSeal& seal, const logical::Request& request) {
  if (!internal::IsWrite(request)) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(std::string nonce, internal::ShareNonceField(request));
  ASSIGN_OR_RETURN(SecretBytes key, internal::ShareKeyField(request));
  ASSIGN_OR_RETURN(seal::RekeyUpdateResult result, seal.RekeyUpdate(key, nonce));
  key.Clear();
  if (!result.complete) return Raw(StatusJson(result.status));
  Json keys = Json::array();
  Json keys_b64 = Json::array();
  for (const SecretBytes& share : result.shares) {
    keys.push_back(HexEncode(share.view()));
    keys_b64.push_back(Base64Encode(share.view()));
  }
  Json body{{"complete", true},
            {"nonce", result.status.nonce},
            {"t", result.status.threshold},
            {"n", result.status.shares},
            {"keys", std::move(keys)},
            {"keys_base64", std::move(keys_b64)},
            {"pgp_fingerprints", nullptr},
            {"backup", false},
            {"verification_required", result.status.verification_required}};
  if (!result.status.verification_nonce.empty()) {
    body["verification_nonce"] = result.status.verification_nonce;
  }
  return Raw(std::move(body));
}

Result<logical::Response> RekeyVerify(seal::ShamirSeal& seal, const logical::Request& request) {
  if (request.operation == Operation::kRead) {
    ASSIGN_OR_RETURN(seal::RekeyVerifyStatus status, seal.RekeyVerifyProgress());
    return Raw(VerifyStatusJson(status));
  }
  if (request.operation == Operation::kDelete) {
    ASSIGN_OR_RETURN(seal::RekeyVerifyStatus status, seal.RekeyVerifyCancel());
    return Raw(VerifyStatusJson(status));
  }
  if (!internal::IsWrite(request)) return Err(MethodNotAllowed());
  ASSIGN_OR_RETURN(std::string nonce, internal::ShareNonceField(request));
  ASSIGN_OR_RETURN(SecretBytes key, internal::ShareKeyField(request));
  ASSIGN_OR_RETURN(seal::RekeyVerifyResult result, seal.RekeyVerifyUpdate(key, nonce));
  key.Clear();
  if (!result.complete) return Raw(VerifyStatusJson(result.status));
  return Raw(Json{{"nonce", result.status.nonce}, {"complete", true}});
}

}  // namespace

namespace internal {

bool IsWrite(const logical::Request& request) {
  return request.operation == Operation::kUpdate || request.operation == Operation::kCreate;
}

// The share in "key", hex or base64, as sys/unseal takes it.
Result<SecretBytes> ShareKeyField(const logical::Request& request) {
  const Json* key = request.Field("key");
  if (key == nullptr || !key->is_string() || key->get_ref<const std::string&>().empty()) {
    return Err(InvalidArgument("'key' must be specified in request body as JSON"));
  }
  const std::string& text = key->get_ref<const std::string&>();
  std::optional<SecretBytes> bytes = HexDecode(text);
  if (!bytes) bytes = Base64Decode(text);
  if (!bytes) return Err(InvalidArgument("'key' must be a valid hex or base64 string"));
  return std::move(*bytes);
}

Result<std::string> ShareNonceField(const logical::Request& request) {
  const Json* nonce = request.Field("nonce");
  if (nonce == nullptr || !nonce->is_string() || nonce->get_ref<const std::string&>().empty()) {
    return Err(InvalidArgument("missing nonce"));
  }
  return nonce->get<std::string>();
}

}  // namespace internal

bool SystemBackend::IsRekeyPath(std::string_view path) {
  return path == "sys/rekey/init" || path == "sys/rekey/update" || path == "sys/rekey/verify";
}

Result<logical::Response> SystemBackend::Rekey(const logical::Request& request) {
  seal::ShamirSeal& seal = core_.seal();
  if (request.path == "sys/rekey/init") return RekeyInit(seal, request);
  if (request.path == "sys/rekey/update") return RekeyUpdate(seal, request);
  if (request.path == "sys/rekey/verify") return RekeyVerify(seal, request);
  return Err(NotFound("unsupported path"));
}

}  // namespace coffer::core
