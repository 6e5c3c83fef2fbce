// hmac/, sign/, verify/.

#include "common/encoding.h"
#include "engines/transit/fields.h"
#include "engines/transit/signer.h"
#include "engines/transit/transit_backend.h"

namespace coffer::engines::transit {
namespace {

// The hash named by the path, else by hash_algorithm, else by algorithm.
Result<std::string> HashName(const Json& body, const std::string& path_algorithm,
                             const char* fallback_field) {
  if (!path_algorithm.empty()) return path_algorithm;
  ASSIGN_OR_RETURN(auto h, OptString(body, "hash_algorithm"));
  if (h && !h->empty()) return *h;
  return StringOr(body, fallback_field, "sha2-256");
}

Result<SignOptions> ReadSignOptions(const Json& body, const std::string& path_algorithm) {
  SignOptions o;
  ASSIGN_OR_RETURN(o.hash_algorithm, HashName(body, path_algorithm, "algorithm"));
  ASSIGN_OR_RETURN(o.prehashed, BoolOr(body, "prehashed", false));
  ASSIGN_OR_RETURN(o.signature_algorithm, StringOr(body, "signature_algorithm", ""));
  ASSIGN_OR_RETURN(o.marshaling, StringOr(body, "marshaling_algorithm", "asn1"));
  ASSIGN_OR_RETURN(o.salt_length, StringOr(body, "salt_length", "auto"));
  return o;
}

Result<const EVP_MD*> HmacHash(const std::string& name) {
  const EVP_MD* md = HashByName(name);
  if (md == nullptr) return Err(InvalidArgument("unsupported hash algorithm for HMAC"));
  return md;
}

Result<std::string> DecodeSignature(std::string_view payload, const SignOptions& o) {
  if (o.marshaling == "jws") {
    // JWS has no padding; a padded signature is accepted too.
    while (payload.ends_with('=')) payload.remove_suffix(1);
    auto raw = Base64UrlDecode(payload);
    if (!raw) return Err(InvalidArgument("invalid signature: payload is not valid base64url"));
    return std::move(*raw);
  }
  auto raw = Base64Decode(payload);
  if (!raw) return Err(InvalidArgument("invalid signature: payload is not valid base64"));
  return std::string(raw->view());
}

}  // namespace

Result<Response> TransitBackend::Hmac(const Request& request, const std::string& name,
                                      const std::string& algorithm) {
  const Json& body = request.data;
  ASSIGN_OR_RETURN(std::string hash, HashName(body, algorithm, "algorithm"));
  ASSIGN_OR_RETURN(const EVP_MD* md, HmacHash(hash));
  ASSIGN_OR_RETURN(auto policy, RequirePolicy(name));
  ASSIGN_OR_RETURN(std::uint32_t version, VersionField(body, "key_version"));
  ASSIGN_OR_RETURN(const KeyVersion* v, SelectEncryptVersion(*policy, version));
  return RunBatch(
      body,
      [&](const Json& item) -> Result<Json> {
        ASSIGN_OR_RETURN(SecretBytes input, RequiredBase64(item, "input"));
        ASSIGN_OR_RETURN(std::string mac, HmacInput(*policy, *v, md, input.view()));
        return Json{{"hmac", FormatEnvelope(v->version, Base64Encode(mac))}};
      },
      BatchFailures::kAre200);
}

Result<Response> TransitBackend::Sign(const Request& request, const std::string& name,
                                      const std::string& algorithm) {
  const Json& body = request.data;
  ASSIGN_OR_RETURN(auto policy, RequirePolicy(name));
  ASSIGN_OR_RETURN(SignOptions options, ReadSignOptions(body, algorithm));
  TRY(CheckSignOptions(*policy, options));
  ASSIGN_OR_RETURN(std::uint32_t version, VersionField(body, "key_version"));
  ASSIGN_OR_RETURN(const KeyVersion* v, SelectEncryptVersion(*policy, version));
  return RunBatch(
      body,
      [&](const Json& item) -> Result<Json> {
        ASSIGN_OR_RETURN(SecretBytes input, RequiredBase64(item, "input"));
        ASSIGN_OR_RETURN(SecretBytes context, Base64Or(item, "context"));
        SignOptions o = options;
        o.context = std::string(context.view());
        ASSIGN_OR_RETURN(std::string sig, SignInput(*policy, *v, input.view(), o));
        std::string encoded = o.marshaling == "jws" ? Base64UrlEncode(sig) : Base64Encode(sig);
        return Json{{"signature", FormatEnvelope(v->version, encoded)},
                    {"key_version", v->version}};
      },
      BatchFailures::kAre200);
}

Result<Response> TransitBackend::Verify(const Request& request, const std::string& name,
                                        const std::string& algorithm) {
  const Json& body = request.data;
  ASSIGN_OR_RETURN(auto policy, RequirePolicy(name));
  ASSIGN_OR_RETURN(SignOptions options, ReadSignOptions(body, algorithm));
  // A failed item says valid: false too, as Vault's (clients that read it
  // into a boolean, Quarkus's, fail on an item without it).
  static const Json kVerifyFailed = Json{{"valid", false}};
  return RunBatch(
      body,
      [&](const Json& item) -> Result<Json> {
        ASSIGN_OR_RETURN(SecretBytes input, RequiredBase64(item, "input"));
        ASSIGN_OR_RETURN(auto signature, OptString(item, "signature"));
        ASSIGN_OR_RETURN(auto hmac, OptString(item, "hmac"));
        const bool has_sig = signature && !signature->empty();
        const bool has_hmac = hmac && !hmac->empty();
        if (has_sig == has_hmac) {
          return Err(InvalidArgument("provide exactly one of signature or hmac"));
        }
        if (has_hmac) {
          ASSIGN_OR_RETURN(const EVP_MD* md, HmacHash(options.hash_algorithm));
          ASSIGN_OR_RETURN(Envelope env, ParseEnvelope(*hmac, "hmac"));
          ASSIGN_OR_RETURN(const KeyVersion* v, SelectDecryptVersion(*policy, env.version));
          auto given = Base64Decode(env.payload);
          if (!given) return Err(InvalidArgument("invalid hmac: payload is not valid base64"));
          ASSIGN_OR_RETURN(std::string expected, HmacInput(*policy, *v, md, input.view()));
          return Json{{"valid", ConstantTimeEquals(expected, given->view())}};
        }
        TRY(CheckSignOptions(*policy, options));
        ASSIGN_OR_RETURN(Envelope env, ParseEnvelope(*signature, "signature"));
        ASSIGN_OR_RETURN(const KeyVersion* v, SelectDecryptVersion(*policy, env.version));
        ASSIGN_OR_RETURN(std::string sig, DecodeSignature(env.payload, options));
        ASSIGN_OR_RETURN(SecretBytes context, Base64Or(item, "context"));
        SignOptions o = options;
        o.context = std::string(context.view());
        ASSIGN_OR_RETURN(bool valid, VerifyInput(*policy, *v, input.view(), sig, o));
        return Json{{"valid", valid}};
      },
      BatchFailures::kAre200, &kVerifyFailed);
}

}  // namespace coffer::engines::transit
