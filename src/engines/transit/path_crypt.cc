// encrypt/, decrypt/, rewrap/, datakey/.

#include <optional>

#include "common/encoding.h"
#include "crypto/random.h"
#include "engines/transit/cipher.h"
#include "engines/transit/fields.h"
#include "engines/transit/transit_backend.h"

namespace coffer::engines::transit {
namespace {

using logical::Operation;

// Encrypts `plaintext` with the version the item asks for.
Result<Json> EncryptWith(const Policy& p, std::string_view plaintext, const Json& item,
                         std::uint32_t requested_version) {
  ASSIGN_OR_RETURN(SecretBytes context, Base64Or(item, "context"));
  ASSIGN_OR_RETURN(SecretBytes nonce, Base64Or(item, "nonce"));
  if (!nonce.empty() && !p.convergent) {
    return Err(InvalidArgument("provided nonce not allowed for this key"));
  }
  ASSIGN_OR_RETURN(SecretBytes aad, Base64Or(item, "associated_data"));
  if (!aad.empty() && !IsSymmetricAead(p.type)) {
    return Err(InvalidArgument("associated_data is only supported for AEAD key types"));
  }
  ASSIGN_OR_RETURN(const KeyVersion* v, SelectEncryptVersion(p, requested_version));
  ASSIGN_OR_RETURN(std::string payload,
                   EncryptPayload(p, *v, plaintext, context.view(), aad.view()));
  // Built member by member: an initializer list makes each pair a
  // two-element array first (a tenth of a batch item's CPU).
  Json out(Json::value_t::object);
  auto& members = out.get_ref<Json::object_t&>();
  members.emplace("ciphertext", FormatEnvelope(v->version, Base64Encode(payload)));
  members.emplace("key_version", v->version);
  return out;
}

// Decrypts the item's "ciphertext"; the plaintext stays in SecretBytes.
Result<SecretBytes> DecryptItem(const Policy& p, const Json& item) {
  ASSIGN_OR_RETURN(auto text, OptString(item, "ciphertext"));
  if (!text || text->empty()) return Err(InvalidArgument("missing ciphertext to decrypt"));
  ASSIGN_OR_RETURN(Envelope env, ParseEnvelope(*text, "ciphertext"));
  ASSIGN_OR_RETURN(const KeyVersion* v, SelectDecryptVersion(p, env.version));
  auto payload = Base64Decode(env.payload);
  if (!payload) return Err(InvalidArgument("invalid ciphertext: payload is not valid base64"));
  ASSIGN_OR_RETURN(SecretBytes context, Base64Or(item, "context"));
  ASSIGN_OR_RETURN(SecretBytes aad, Base64Or(item, "associated_data"));
  return DecryptPayload(p, *v, payload->view(), context.view(), aad.view());
}

}  // namespace

Result<Response> TransitBackend::Encrypt(const Request& request, const std::string& name) {
  TRY(ValidateKeyName(name));
  const Json& body = request.data;
  ASSIGN_OR_RETURN(auto policy, GetPolicy(name));
  if (!policy) {
    if (request.operation != Operation::kCreate) {
      return Err(InvalidArgument("encryption key not found"));
    }
    ASSIGN_OR_RETURN(bool upsert_disabled, UpsertDisabled());
    if (upsert_disabled) return Err(InvalidArgument("encryption key not found"));
    // Upsert, as Vault: the key is made on first use, derived when the
    // (first) request carries a context.
    const Json* first = &body;
    if (auto it = body.find("batch_input"); it != body.end() && it->is_array() && !it->empty()) {
      first = &(*it)[0];
    }
    ASSIGN_OR_RETURN(std::string type_name, StringOr(body, "type", "aes256-gcm96"));
    auto type = ParseKeyType(type_name);
    if (type && !SupportsEncryption(*type)) {
      return Err(InvalidArgument("key type " + type_name + " does not support encryption"));
    }
    Request create;
    create.operation = Operation::kCreate;
    create.data = Json::object();
    for (const char* f : {"type", "convergent_encryption"}) {
      if (auto it = body.find(f); it != body.end()) create.data[f] = *it;
    }
    // Vault derives when the first item carries a context; a null or empty
    // one (VaultSharp always sends "context": null) is none.
    if (first->is_object()) {
      auto context = first->find("context");
      if (context != first->end() && !context->is_null() &&
          !(context->is_string() && context->get_ref<const std::string&>().empty())) {
        create.data["derived"] = true;
      }
    }
    ASSIGN_OR_RETURN(Response created, CreateKey(create, name));
    (void)created;
    ASSIGN_OR_RETURN(policy, RequirePolicy(name));
  }
  if (!SupportsEncryption(policy->type)) {
    return Err(InvalidArgument("key type " + std::string(KeyTypeName(policy->type)) +
                               " does not support encryption"));
  }
  ASSIGN_OR_RETURN(std::uint32_t top_version, VersionField(body, "key_version"));
  // A batch keys one cipher context for all its items; a single item uses
  // the key version's prepared key (cipher.cc, EncryptPayload).
  std::optional<SealScope> batch;
  if (body.contains("batch_input")) batch.emplace();
  return RunBatch(
      body,
      [&](const Json& item) -> Result<Json> {
        ASSIGN_OR_RETURN(SecretBytes plaintext, RequiredBase64(item, "plaintext"));
        std::uint32_t version = top_version;
        if (&item != &body) {
          ASSIGN_OR_RETURN(std::uint32_t item_version, VersionField(item, "key_version"));
          if (item_version != 0) version = item_version;
        }
        return EncryptWith(*policy, plaintext.view(), item, version);
      },
      BatchFailures::kAre400);
}

Result<Response> TransitBackend::Decrypt(const Request& request, const std::string& name) {
  ASSIGN_OR_RETURN(auto policy, RequirePolicy(name));
  return RunBatch(
      request.data,
      [&](const Json& item) -> Result<Json> {
        ASSIGN_OR_RETURN(SecretBytes plaintext, DecryptItem(*policy, item));
        return Json{{"plaintext", Base64Encode(plaintext.view())}};
      },
      BatchFailures::kAre400);
}

Result<Response> TransitBackend::Rewrap(const Request& request, const std::string& name) {
  ASSIGN_OR_RETURN(auto policy, RequirePolicy(name));
  const Json& body = request.data;
  ASSIGN_OR_RETURN(std::uint32_t top_version, VersionField(body, "key_version"));
  return RunBatch(
      body,
      [&](const Json& item) -> Result<Json> {
        ASSIGN_OR_RETURN(SecretBytes plaintext, DecryptItem(*policy, item));
        std::uint32_t version = top_version;
        if (&item != &body) {
          ASSIGN_OR_RETURN(std::uint32_t item_version, VersionField(item, "key_version"));
          if (item_version != 0) version = item_version;
        }
        // The nonce check of encrypt does not apply: rewrap never takes one
        // for a non-convergent key, so drop it.
        Json rest = item;
        rest.erase("nonce");
        return EncryptWith(*policy, plaintext.view(), rest, version);
      },
      BatchFailures::kAre200);
}

Result<Response> TransitBackend::DataKey(const Request& request, const std::string& kind,
                                         const std::string& name) {
  if (kind != "plaintext" && kind != "wrapped") {
    return Err(InvalidArgument("invalid type: use datakey/plaintext or datakey/wrapped"));
  }
  ASSIGN_OR_RETURN(auto policy, RequirePolicy(name));
  const Json& body = request.data;
  ASSIGN_OR_RETURN(auto bits, OptInt(body, "bits"));
  std::int64_t n = bits.value_or(256);
  if (n != 128 && n != 256 && n != 512) {
    return Err(InvalidArgument("invalid bits: must be 128, 256 or 512"));
  }
  ASSIGN_OR_RETURN(std::uint32_t version, VersionField(body, "key_version"));
  ASSIGN_OR_RETURN(SecretBytes key, crypto::RandomSecret(static_cast<std::size_t>(n / 8)));
  ASSIGN_OR_RETURN(Json out, EncryptWith(*policy, key.view(), body, version));
  if (kind == "plaintext") out["plaintext"] = Base64Encode(key.view());
  return DataResponse(std::move(out));
}

}  // namespace coffer::engines::transit
