#pragma once
// The TLS certificate auth method (Vault's auth/cert API), mounted at
// "auth/<path>/":
//   certs/:name   POST {certificate (PEM, one or more), allowed_names,
//                 allowed_common_names, allowed_dns_sans, allowed_email_sans,
//                 display_name, token_*} · GET · DELETE
//   certs (LIST)  → {keys}
//   config        GET · POST {disable_binding}: renewals without the login's
//                 client certificate (Vault's setting; default false)
//   login         POST {name?} (no token needed): the client certificate of
//                 the TLS connection (Request::peer_certificates) is
//                 verified against each trusted entry (or only `name`)
//
// A login succeeds when the client's leaf certificate chains, through the
// intermediates the client sent, to one of the entry's certificates (a CA,
// an intermediate, or the client certificate itself: partial chains are
// accepted, as in Vault), is valid now, is fit for TLS client use, and
// matches the entry's allowed_* globs ('*' wildcards; an empty list allows
// any). Entries are tried in name order; the first that accepts wins. The
// token's metadata names the entry and the certificate (cert_name,
// common_name, serial_number, subject_key_id, authority_key_id); the
// identity alias is the certificate's common name.
//
// Storage (the mount's view): cert/<name> → JSON {certificate, allowed_*,
// display_name, token_*}.
//
// Thread-safe: logins only read; writes to one mount are serialised.

#include <mutex>
#include <string>
#include <vector>

#include "logical/backend.h"

namespace coffer::auth::cert {

// What a certificate says about its holder, for matching and metadata.
struct CertificateInfo {
  std::string common_name;
  std::vector<std::string> dns_sans;
  std::vector<std::string> email_sans;
  std::string serial_number;     // decimal, as Vault reports it
  std::string subject_key_id;    // hex, colon-separated
  std::string authority_key_id;  // hex, colon-separated
};

// Parses a DER certificate. kInvalidArgument when it is not one.
Result<CertificateInfo> DescribeCertificate(std::string_view der);

// Whether `chain` (DER, leaf first) verifies against the PEM certificates in
// `trusted_pem` as of now, for TLS client use.
// kInvalidArgument when trusted_pem holds no certificate.
Result<bool> VerifyChain(const std::vector<std::string>& chain, std::string_view trusted_pem);

// Parses PEM text into DER certificates; kInvalidArgument when there is
// none or one is malformed.
Result<std::vector<std::string>> ParsePemCertificates(std::string_view pem);

class CertBackend final : public logical::Backend {
 public:
  explicit CertBackend(const logical::BackendConfig& config) : storage_(config.storage) {}

  Result<logical::Response> HandleRequest(const logical::Request& request) override;
  // A token renews only while its certificate entry exists with the same
  // token_policies, and (unless config's disable_binding) when the client
  // presents the certificate it logged in with.
  Result<std::optional<logical::LoginRenewal>> CheckLoginRenewal(
      const logical::LoginRenewalRequest& renewal) override;
  bool IsUnauthenticated(std::string_view relative_path) const override;
  // Path help for the routes above (cert_help.cc).
  logical::EngineHelp Help() const override;

 private:
  Result<logical::Response> Cert(const logical::Request& request, const std::string& name);
  Result<logical::Response> Login(const logical::Request& request);
  // config: GET · POST {disable_binding}.
  Result<logical::Response> Config(const logical::Request& request);
  Result<logical::Json> ReadConfig();
  // Unless config's disable_binding: the renewing client presents the
  // certificate the token logged in with, and `entry` still accepts it.
  Status CheckBinding(const logical::LoginRenewalRequest& renewal, const logical::Json& entry);

  storage::Backend& storage_;
  std::mutex write_mu_;  // serialises read-modify-write of entries
};

// Registers the "cert" auth method type. Idempotent.
void RegisterCert();

}  // namespace coffer::auth::cert
