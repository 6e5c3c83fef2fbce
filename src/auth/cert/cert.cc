#include "auth/cert/cert.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>

#include "auth/token_fields.h"
#include "auth/util.h"
#include "common/glob.h"
#include "common/secret_bytes.h"
#include "crypto/hmac.h"
#include "token/token_params.h"

// OpenSSL's STACK_OF helpers and ASN1 macros expand to C casts.
#pragma GCC diagnostic ignored "-Wold-style-cast"

namespace coffer::auth::cert {
namespace {

using logical::Json;
using logical::Operation;
using logical::Request;
using logical::Response;

constexpr std::string_view kInvalidCertificate =
    "invalid certificate or no client certificate supplied";
// Where a login keeps its client certificate's fingerprint
// (LoginResult::internal), for renewal binding.
constexpr const char* kCertificateSha256 = "certificate_sha256";
constexpr const char* kConfigKey = "config";

// The hex SHA-256 of a DER certificate.
std::string Fingerprint(std::string_view der) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(der.data()), der.size(), digest);
  return crypto::ToHex(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}
constexpr const char* kListFields[] = {"allowed_names", "allowed_common_names", "allowed_dns_sans",
                                       "allowed_email_sans"};

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr FromDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

std::string ColonHex(const unsigned char* data, int len) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < len; ++i) {
    if (i > 0) out += ':';
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 0xf];
  }
  return out;
}

std::string AsnString(const ASN1_STRING* s) {
  if (s == nullptr) return "";
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, s);
  if (len < 0) return "";
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

Status ValidName(const std::string& name) {
  if (name.empty()) return InvalidArgument("missing name");
  if (name.find('/') != std::string::npos) return InvalidArgument("invalid name");
  return Status::Ok();
}

bool AnyGlob(const std::vector<std::string>& patterns, std::string_view value) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return GlobMatch(p, value); });
}

bool AnyGlobOf(const std::vector<std::string>& patterns, const std::vector<std::string>& values) {
  return std::any_of(values.begin(), values.end(),
                     [&](const std::string& v) { return AnyGlob(patterns, v); });
}

std::vector<std::string> StringList(const Json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const Json& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// Whether the leaf matches an entry's allowed_* constraints (each empty
// list allows any certificate).
bool Allowed(const Json& entry, const CertificateInfo& info) {
  auto names = StringList(entry, "allowed_names");
  if (!names.empty()) {
    std::vector<std::string> all = info.dns_sans;
    all.insert(all.end(), info.email_sans.begin(), info.email_sans.end());
    all.push_back(info.common_name);
    if (!AnyGlobOf(names, all)) return false;
  }
  auto cns = StringList(entry, "allowed_common_names");
  if (!cns.empty() && !AnyGlob(cns, info.common_name)) return false;
  auto dns = StringList(entry, "allowed_dns_sans");
  if (!dns.empty() && !AnyGlobOf(dns, info.dns_sans)) return false;
  auto emails = StringList(entry, "allowed_email_sans");
  if (!emails.empty() && !AnyGlobOf(emails, info.email_sans)) return false;
  return true;
}

}  // namespace

Result<std::vector<std::string>> ParsePemCertificates(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return Err(Internal("cert: out of memory"));
  std::vector<std::string> out;
  while (true) {
    X509Ptr x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!x) break;
    unsigned char* der = nullptr;
    int len = i2d_X509(x.get(), &der);
    if (len <= 0) return Err(InvalidArgument("certificate: cannot encode a certificate"));
    out.emplace_back(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
  }
  ERR_clear_error();  // the loop ends on "no start line"
  if (out.empty()) return Err(InvalidArgument("certificate: no PEM certificate found"));
  return out;
}

Result<CertificateInfo> DescribeCertificate(std::string_view der) {
  X509Ptr x = FromDer(der);
  if (!x) return Err(InvalidArgument("not a DER certificate"));
  CertificateInfo info;
  X509_NAME* subject = X509_get_subject_name(x.get());
  int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (idx >= 0) {
    info.common_name = AsnString(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
  }
  auto* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(x.get(), NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type == GEN_DNS) info.dns_sans.push_back(AsnString(n->d.dNSName));
      if (n->type == GEN_EMAIL) info.email_sans.push_back(AsnString(n->d.rfc822Name));
    }
    GENERAL_NAMES_free(sans);
  }
  const ASN1_INTEGER* serial = X509_get0_serialNumber(x.get());
  // In decimal, as Vault reports it (Go's big.Int String()).
  if (serial != nullptr) {
    std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(ASN1_INTEGER_to_BN(serial, nullptr), BN_free);
    char* dec = bn ? BN_bn2dec(bn.get()) : nullptr;
    if (dec != nullptr) {
      info.serial_number = dec;
      OPENSSL_free(dec);
    }
  }
  if (const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(x.get())) {
    info.subject_key_id = ColonHex(ASN1_STRING_get0_data(skid), ASN1_STRING_length(skid));
  }
  if (const ASN1_OCTET_STRING* akid = X509_get0_authority_key_id(x.get())) {
    info.authority_key_id = ColonHex(ASN1_STRING_get0_data(akid), ASN1_STRING_length(akid));
  }
  return info;
}

Result<bool> VerifyChain(const std::vector<std::string>& chain, std::string_view trusted_pem) {
  if (chain.empty()) return false;
  ASSIGN_OR_RETURN(std::vector<std::string> trusted, ParsePemCertificates(trusted_pem));
  X509Ptr leaf = FromDer(chain[0]);
  if (!leaf) return false;
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> untrusted(
      sk_X509_new_null(), [](STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); });
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      X509_STORE_CTX_free);
  if (!store || !untrusted || !ctx) return Err(Internal("cert: out of memory"));
  for (const std::string& der : trusted) {
    X509Ptr t = FromDer(der);
    if (!t || X509_STORE_add_cert(store.get(), t.get()) != 1) {
      return Err(Internal("cert: cannot load a trusted certificate"));
    }
  }
  for (std::size_t i = 1; i < chain.size(); ++i) {
    X509Ptr inter = FromDer(chain[i]);
    if (!inter) return false;
    if (sk_X509_push(untrusted.get(), inter.get()) <= 0) return Err(Internal("cert: push"));
    inter.release();  // owned by the stack now
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
    return Err(Internal("cert: cannot set up verification"));
  }
  // A trusted intermediate or a pinned leaf is enough (Vault trusts them
  // too); the purpose is TLS client authentication.
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_PARTIAL_CHAIN);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  int ok = X509_verify_cert(ctx.get());
  ERR_clear_error();
  return ok == 1;
}

bool CertBackend::IsUnauthenticated(std::string_view relative_path) const {
  return relative_path == "login";
}

Result<std::optional<logical::LoginRenewal>> CertBackend::CheckLoginRenewal(
    const logical::LoginRenewalRequest& renewal) {
  auto it = renewal.meta->find("cert_name");
  if (it == renewal.meta->end()) return std::optional<logical::LoginRenewal>();
  ASSIGN_OR_RETURN(auto stored, storage_.Get("cert/" + it->second));
  if (!stored) {
    return Err(
        InvalidArgument("certificate entry \"" + it->second + "\" no longer exists, not renewing"));
  }
  ASSIGN_OR_RETURN(Json entry, ParseStored(stored->value, "cert entry"));
  TokenFields fields = TokenFields::FromStored(entry);
  if (!fields.SamePolicies(*renewal.policies)) {
    return Err(InvalidArgument("policies have changed, not renewing"));
  }
  ASSIGN_OR_RETURN(Json config, ReadConfig());
  if (!config.value("disable_binding", false)) TRY(CheckBinding(renewal, entry));
  return std::optional<logical::LoginRenewal>(fields.ToRenewal());
}

// As Vault's cert method renews a token: the client presents a certificate
// that the entry still accepts, and it is the one the token logged in with.
Status CertBackend::CheckBinding(const logical::LoginRenewalRequest& renewal, const Json& entry) {
  auto kept = renewal.internal->find(kCertificateSha256);
  if (kept == renewal.internal->end()) {
    return InvalidArgument(
        "cannot validate renewal for cert auth for non-stored client certificate");
  }
  if (renewal.peer_certificates == nullptr || renewal.peer_certificates->empty()) {
    return InvalidArgument("client certificate must be supplied");
  }
  const std::vector<std::string>& chain = *renewal.peer_certificates;
  auto info = DescribeCertificate(chain[0]);
  if (!info || !Allowed(entry, *info)) return InvalidArgument(std::string(kInvalidCertificate));
  auto verified = VerifyChain(chain, entry.value("certificate", ""));
  if (!verified || !*verified) return InvalidArgument(std::string(kInvalidCertificate));
  if (!ConstantTimeEquals(Fingerprint(chain[0]), kept->second)) {
    return InvalidArgument(
        "client identity during renewal not matching client identity used during login");
  }
  return Status::Ok();
}

Result<Json> CertBackend::ReadConfig() {
  ASSIGN_OR_RETURN(auto stored, storage_.Get(kConfigKey));
  if (!stored) return Json::object();
  return ParseStored(stored->value, "cert config");
}

Result<Response> CertBackend::Config(const Request& request) {
  switch (request.operation) {
    case Operation::kRead: {
      ASSIGN_OR_RETURN(Json config, ReadConfig());
      Response r;
      r.data = {{"disable_binding", config.value("disable_binding", false)}};
      return r;
    }
    case Operation::kCreate:
    case Operation::kUpdate: {
      std::scoped_lock lock(write_mu_);
      ASSIGN_OR_RETURN(Json config, ReadConfig());
      ASSIGN_OR_RETURN(auto disable, token::params::Bool(request, "disable_binding"));
      if (disable) config["disable_binding"] = *disable;
      TRY(storage_.Put(kConfigKey, config.dump()));
      return logical::NoContent();
    }
    default:
      return Err(MethodNotAllowed());
  }
}

Result<Response> CertBackend::HandleRequest(const Request& request) {
  std::string_view rel = request.relative_path;
  while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  if (rel == "login") return Login(request);
  if (rel == "config") return Config(request);
  if (rel == "certs") {
    if (request.operation != Operation::kList) return Err(MethodNotAllowed());
    ASSIGN_OR_RETURN(auto keys, storage_.List("cert/"));
    return KeysResponse(std::move(keys));
  }
  if (rel.starts_with("certs/")) {
    std::string name(rel.substr(6));
    TRY(ValidName(name));
    return Cert(request, name);
  }
  return Err(NotFound("unsupported path"));
}

Result<Response> CertBackend::Cert(const Request& request, const std::string& name) {
  const std::string key = "cert/" + name;
  switch (request.operation) {
    case Operation::kRead: {
      ASSIGN_OR_RETURN(auto stored, storage_.Get(key));
      if (!stored) return NotFoundResponse();
      ASSIGN_OR_RETURN(Json j, ParseStored(stored->value, "cert entry"));
      Json data = Json::object();
      TokenFields::FromStored(j).AddTo(data);
      data["certificate"] = j.value("certificate", "");
      data["display_name"] = j.value("display_name", "");
      for (const char* f : kListFields) data[f] = StringList(j, f);
      Response r;
      r.data = std::move(data);
      return r;
    }
    case Operation::kCreate:
    case Operation::kUpdate: {
      std::scoped_lock lock(write_mu_);
      ASSIGN_OR_RETURN(EntryUpdate u,
                       BeginEntryUpdate(storage_, key, "cert entry", request,
                                        {.ttl = true, .max_ttl = true, .bound_cidrs = true}));
      const Json& j = u.stored;
      Json out = u.fields.ToStored();
      out["certificate"] = j.value("certificate", "");
      out["display_name"] = j.value("display_name", "");
      for (const char* f : kListFields) out[f] = StringList(j, f);
      if (const Json* c = request.Field("certificate"); c != nullptr && !c->is_null()) {
        if (!c->is_string()) return Err(InvalidArgument("certificate must be a PEM string"));
        ASSIGN_OR_RETURN(auto parsed, ParsePemCertificates(c->get<std::string>()));
        (void)parsed;
        out["certificate"] = c->get<std::string>();
      }
      if (out["certificate"].get_ref<const std::string&>().empty()) {
        return Err(InvalidArgument("missing certificate"));
      }
      if (const Json* d = request.Field("display_name"); d != nullptr && d->is_string()) {
        out["display_name"] = d->get<std::string>();
      }
      // The entry's name when none is given, as Vault stores it.
      if (out["display_name"].get_ref<const std::string&>().empty()) out["display_name"] = name;
      for (const char* f : kListFields) {
        ASSIGN_OR_RETURN(auto list, token::params::List(request, f));
        if (list) out[f] = *list;
      }
      TRY(storage_.Put(key, out.dump()));
      return NoContent();
    }
    case Operation::kDelete:
      TRY(storage_.Delete(key));
      return NoContent();
    default:
      return Err(MethodNotAllowed());
  }
}

Result<Response> CertBackend::Login(const Request& request) {
  if (!IsWrite(request.operation)) return Err(MethodNotAllowed());
  if (!request.tls || !request.peer_certificates || request.peer_certificates->empty()) {
    return Err(InvalidArgument("client certificate must be supplied"));
  }
  const std::vector<std::string>& chain = *request.peer_certificates;
  auto info = DescribeCertificate(chain[0]);
  if (!info) return Err(InvalidArgument(std::string(kInvalidCertificate)));

  std::vector<std::string> names;
  if (const Json* n = request.Field("name");
      n != nullptr && n->is_string() && !n->get<std::string>().empty()) {
    names.push_back(n->get<std::string>());
  } else {
    ASSIGN_OR_RETURN(names, storage_.List("cert/"));
    std::sort(names.begin(), names.end());
  }
  for (const std::string& name : names) {
    if (!ValidName(name).ok()) continue;
    ASSIGN_OR_RETURN(auto stored, storage_.Get("cert/" + name));
    if (!stored) continue;
    ASSIGN_OR_RETURN(Json entry, ParseStored(stored->value, "cert entry"));
    if (!Allowed(entry, *info)) continue;
    auto verified = VerifyChain(chain, entry.value("certificate", ""));
    if (!verified || !*verified) continue;
    TokenFields fields = TokenFields::FromStored(entry);
    if (!AddressAllowed(request.remote_address, fields.bound_cidrs)) {
      return Err(PermissionDenied("login request originated from invalid CIDR"));
    }
    logical::LoginResult login = fields.ToLogin();
    login.metadata = {{"cert_name", name},
                      {"common_name", info->common_name},
                      {"serial_number", info->serial_number},
                      {"subject_key_id", info->subject_key_id},
                      {"authority_key_id", info->authority_key_id}};
    std::string display = entry.value("display_name", "");
    login.display_name = display.empty() ? name : display;
    login.alias_name = info->common_name;
    login.internal[kCertificateSha256] = Fingerprint(chain[0]);
    Response r;
    r.login = std::move(login);
    return r;
  }
  return Err(InvalidArgument(std::string(kInvalidCertificate)));
}

void RegisterCert() { RegisterMethod<CertBackend>("cert"); }

}  // namespace coffer::auth::cert
