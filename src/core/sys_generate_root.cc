// sys/generate-root/attempt and sys/generate-root/update: a new root token
// from a threshold of the current unseal key shares (Vault's shapes, with
// the one-time pad the server draws, as Vault does since 1.10). Like
// sys/rekey these paths need no token (the shares are the authorisation) and
// are answered before the audit stage. The token leaves only encoded: XORed
// with the pad, which only the caller that started the attempt was given.

#include "common/encoding.h"
#include "core/core.h"
#include "core/system_backend.h"
#include "crypto/random.h"
#include "token/token_store.h"

namespace coffer::core {
namespace {

using logical::Json;
using logical::Operation;

bool Given(const Json* field) {
  return field != nullptr && !field->is_null() &&
         !(field->is_string() && field->get_ref<const std::string&>().empty());
}

Json StatusJson(const seal::GenerateRootStatus& s) {
  return Json{{"started", s.started},
              {"nonce", s.nonce},
              {"progress", s.progress},
              {"required", s.required},
              {"complete", false},
              {"encoded_token", ""},
              {"encoded_root_token", ""},
              {"pgp_fingerprint", ""},
              {"otp", ""},
              {"otp_length", token::kServiceTokenLength}};
}

// The length of the root token Vault makes today ("hvs." and 24 base62
// characters), which clients written for it use for their own pad.
constexpr std::size_t kVaultTokenLength = 28;

logical::Response Raw(Json body) {
  logical::Response r;
  r.raw = std::move(body);
  return r;
}

}  // namespace

bool SystemBackend::IsGenerateRootPath(std::string_view path) {
  return path == "sys/generate-root/attempt" || path == "sys/generate-root/update";
}

Result<logical::Response> SystemBackend::GenerateRoot(const logical::Request& request) {
  seal::ShamirSeal& seal = core_.seal();
  if (request.path == "sys/generate-root/attempt") {
    if (request.operation == Operation::kRead) {
      ASSIGN_OR_RETURN(seal::GenerateRootStatus status, seal.GenerateRootProgress());
      return Raw(StatusJson(status));
    }
    if (request.operation == Operation::kDelete) {
      TRY(seal.GenerateRootCancel());
      return logical::Response{};
    }
    if (!internal::IsWrite(request)) {
      return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
    }
    if (Given(request.Field("pgp_key"))) {
      return Err(Unsupported("pgp_key is not supported: the token is encoded with a one-time pad"));
    }
    if (const Json* otp = request.Field("otp"); Given(otp)) {
      // The client's own pad (Vault's older flow, `generate-root -otp`):
      // the length of a token, Coffer's or Vault's (the root token is then
      // made that long), and not echoed back.
      const std::size_t length = otp->is_string() ? otp->get_ref<const std::string&>().size() : 0;
      if (length != token::kServiceTokenLength && length != kVaultTokenLength) {
        return Err(InvalidArgument("OTP string must be " +
                                   std::to_string(token::kServiceTokenLength) + " (or " +
                                   std::to_string(kVaultTokenLength) + ") characters long"));
      }
      ASSIGN_OR_RETURN(
          seal::GenerateRootStatus status,
          seal.GenerateRootInit(SecretBytes::FromString(otp->get_ref<const std::string&>())));
      return Raw(StatusJson(status));
    }
    ASSIGN_OR_RETURN(std::string pad, crypto::RandomBase62(token::kServiceTokenLength));
    Result<seal::GenerateRootStatus> status = seal.GenerateRootInit(SecretBytes::FromString(pad));
    if (!status) {
      WipeString(pad);
      return Err(status.error());
    }
    Json body = StatusJson(*status);
    body["otp"] = std::move(pad);
    return Raw(std::move(body));
  }
  if (request.path != "sys/generate-root/update") return Err(NotFound("unsupported path"));
  if (!internal::IsWrite(request)) {
    return Err(Status(Code::kMethodNotAllowed, "unsupported operation"));
  }
  ASSIGN_OR_RETURN(std::string nonce, internal::ShareNonceField(request));
  ASSIGN_OR_RETURN(SecretBytes key, internal::ShareKeyField(request));
  ASSIGN_OR_RETURN(seal::GenerateRootUpdateResult result, seal.GenerateRootUpdate(key, nonce));
  key.Clear();
  if (!result.complete) return Raw(StatusJson(result.status));
  // The attempt has ended: should this fail, the holders start a new one.
  // A pad of Vault's length gets a root token of that length: "hvs." and
  // 24 random base62 characters (143 bits).
  std::string requested_id;
  if (result.otp.size() == kVaultTokenLength) {
    ASSIGN_OR_RETURN(std::string chars, crypto::RandomBase62(kVaultTokenLength - 4));
    requested_id = "hvs." + chars;
    WipeString(chars);
  }
  Result<SecretBytes> made = core_.tokens().CreateRoot(requested_id);
  WipeString(requested_id);
  if (!made) return Err(made.error());
  SecretBytes root = std::move(*made);
  std::optional<std::string> encoded = EncodeWithPad(root.view(), result.otp.view());
  root.Clear();
  result.otp.Clear();
  if (!encoded) return Err(Internal("the one-time pad does not fit the token"));
  Json body = StatusJson(result.status);
  body["complete"] = true;
  body["encoded_token"] = *encoded;
  body["encoded_root_token"] = std::move(*encoded);
  return Raw(std::move(body));
}

}  // namespace coffer::core
