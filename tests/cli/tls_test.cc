// The HTTP client over TLS: certificate and host name verification against a
// self-signed certificate made for the test, served on 127.0.0.1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "cli/cli.h"
#include "cli/cli_test_util.h"

namespace coffer::cli {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace http = boost::beast::http;
using ::testing::HasSubstr;

std::string BioToString(BIO* bio) {
  std::string out(BIO_ctrl_pending(bio), '\0');
  BIO_read(bio, out.data(), static_cast<int>(out.size()));
  return out;
}

// A self-signed P-256 certificate for IP 127.0.0.1 only, or for `san`.
struct TestCert {
  std::string cert_pem;
  std::string key_pem;

  explicit TestCert(const char* common_name = "coffer-test", const char* san = "IP:127.0.0.1") {
    EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, san},
                              std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    }
    X509_sign(x, pkey, EVP_sha256());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, x);
    cert_pem = BioToString(bio);
    PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    key_pem = BioToString(bio);
    BIO_free(bio);
    X509_free(x);
    EVP_PKEY_free(pkey);
  }
};

class TlsServer {
 public:
  explicit TlsServer(const TestCert& cert)
      : ctx_(ssl::context::tls_server), acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    ctx_.use_certificate(asio::buffer(cert.cert_pem), ssl::context::pem);
    ctx_.use_private_key(asio::buffer(cert.key_pem), ssl::context::pem);
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~TlsServer() {
    stopping_ = true;
    asio::io_context ioc;
    asio::ip::tcp::socket poke(ioc);
    boost::system::error_code ec;
    poke.connect({asio::ip::make_address("127.0.0.1"), port_}, ec);
    thread_.join();
  }
  unsigned short port() const { return port_; }
  int served() const { return served_; }
  // The SNI name of the last handshake ("" when none was sent).
  std::string last_sni() const {
    std::scoped_lock lock(mu_);
    return last_sni_;
  }

 private:
  void Serve() {
    while (true) {
      ssl::stream<asio::ip::tcp::socket> stream(ioc_, ctx_);
      boost::system::error_code ec;
      acceptor_.accept(stream.next_layer(), ec);
      if (stopping_) return;
      if (ec) continue;
      stream.handshake(ssl::stream_base::server, ec);
      if (ec) continue;  // the client refused our certificate
      {
        const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
        std::scoped_lock lock(mu_);
        last_sni_ = sni != nullptr ? sni : "";
      }
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(stream, buffer, req, ec);
      if (ec) continue;
      http::response<http::string_body> res{http::status::ok, 11};
      res.keep_alive(false);
      res.body() = R"({"type":"shamir","initialized":true,"sealed":false,"t":1,"n":1})";
      res.prepare_payload();
      http::write(stream, res, ec);
      ++served_;
      stream.shutdown(ec);
    }
  }

  asio::io_context ioc_;
  ssl::context ctx_;
  asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> served_{0};
  mutable std::mutex mu_;
  std::string last_sni_;  // guarded by mu_
  std::thread thread_;
};

using cli_testing::Outcome;

Outcome RunStatus(const std::vector<std::string>& args, std::map<std::string, std::string> vars) {
  return cli_testing::RunCli(args, std::move(vars));
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_file_ = std::filesystem::temp_directory_path() /
               ("coffer-cli-ca-" + std::to_string(getpid()) + ".pem");
    std::ofstream(ca_file_) << cert_.cert_pem;
  }
  void TearDown() override { std::filesystem::remove(ca_file_); }

  TestCert cert_;
  std::filesystem::path ca_file_;
};

TEST_F(TlsTest, TrustedCertificateWorks) {
  TlsServer server(cert_);
  std::string addr = "https://127.0.0.1:" + std::to_string(server.port());
  Outcome o = RunStatus({"status", "-ca-cert=" + ca_file_.string()}, {{"COFFER_ADDR", addr}});
  EXPECT_EQ(o.code, 0) << o.err;
  Outcome env = RunStatus({"status"}, {{"COFFER_ADDR", addr}, {"VAULT_CACERT", ca_file_}});
  EXPECT_EQ(env.code, 0) << env.err;
  EXPECT_EQ(server.served(), 4);  // seal-status and leader, twice
}

// -ca-path (or COFFER_CAPATH / VAULT_CAPATH): a directory of PEM files, all
// trusted; a file without a certificate in it is an error; -ca-cert wins.
TEST_F(TlsTest, CaDirectory) {
  TlsServer server(cert_);
  std::string addr = "https://127.0.0.1:" + std::to_string(server.port());
  const auto dir =
      std::filesystem::temp_directory_path() / ("coffer-cli-cadir-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  TestCert other("another-ca");
  std::ofstream(dir / "a-other.pem") << other.cert_pem;
  Outcome without = RunStatus({"status", "-ca-path=" + dir.string()}, {{"COFFER_ADDR", addr}});
  EXPECT_EQ(without.code, 1) << "trusted without the server's CA in the directory";
  EXPECT_THAT(without.err, HasSubstr("certificate verify failed"));

  std::ofstream(dir / "b-server.pem") << cert_.cert_pem;
  Outcome flag = RunStatus({"status", "-ca-path=" + dir.string()}, {{"COFFER_ADDR", addr}});
  EXPECT_EQ(flag.code, 0) << flag.err;
  Outcome env = RunStatus({"status"}, {{"COFFER_ADDR", addr}, {"VAULT_CAPATH", dir.string()}});
  EXPECT_EQ(env.code, 0) << env.err;

  std::ofstream(dir / "c-notes.txt") << "not a certificate\n";
  Outcome junk = RunStatus({"status", "-ca-path=" + dir.string()}, {{"COFFER_ADDR", addr}});
  EXPECT_EQ(junk.code, 1);
  EXPECT_THAT(junk.err, HasSubstr("c-notes.txt\": no PEM certificate in it"));
  // A CA file is used first, as Vault's client does.
  Outcome both = RunStatus({"status", "-ca-path=" + dir.string(), "-ca-cert=" + ca_file_.string()},
                           {{"COFFER_ADDR", addr}});
  EXPECT_EQ(both.code, 0) << both.err;
  Outcome missing =
      RunStatus({"status", "-ca-path=" + (dir / "nope").string()}, {{"COFFER_ADDR", addr}});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("cannot read CA directory"));
  std::filesystem::remove_all(dir);
  EXPECT_EQ(server.served(), 6);  // flag, env and both: seal-status and leader each
}

TEST_F(TlsTest, UntrustedCertificateIsRefused) {
  TlsServer server(cert_);
  std::string addr = "https://127.0.0.1:" + std::to_string(server.port());
  Outcome o = RunStatus({"status"}, {{"COFFER_ADDR", addr}});
  EXPECT_EQ(o.code, 1);
  EXPECT_THAT(o.err, HasSubstr("certificate verify failed"));
  EXPECT_THAT(o.err, HasSubstr(addr));
  EXPECT_EQ(server.served(), 0);
}

TEST_F(TlsTest, HostNameMustMatch) {
  TlsServer server(cert_);
  // The certificate names IP 127.0.0.1 only, not "localhost".
  std::string addr = "https://localhost:" + std::to_string(server.port());
  Outcome o = RunStatus({"status", "-ca-cert", ca_file_.string()}, {{"COFFER_ADDR", addr}});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(server.served(), 0);
}

// -tls-server-name (or COFFER_/VAULT_TLS_SERVER_NAME): the name sent as SNI
// and checked against the certificate, for an address whose host is not in
// it (an IP address, a load balancer's name).
TEST_F(TlsTest, ServerNameIsSentAndVerified) {
  TestCert named("coffer-test", "DNS:coffer.internal");
  TlsServer server(named);
  const std::string addr = "https://127.0.0.1:" + std::to_string(server.port());
  std::ofstream(ca_file_) << named.cert_pem;
  const std::string ca = "-ca-cert=" + ca_file_.string();
  Outcome plain = RunStatus({"status", ca}, {{"COFFER_ADDR", addr}});
  EXPECT_EQ(plain.code, 1) << "127.0.0.1 is not in the certificate";
  EXPECT_EQ(server.served(), 0);
  Outcome flag =
      RunStatus({"status", ca, "-tls-server-name=coffer.internal"}, {{"COFFER_ADDR", addr}});
  EXPECT_EQ(flag.code, 0) << flag.err;
  EXPECT_EQ(server.last_sni(), "coffer.internal");
  Outcome env = RunStatus({"status", ca},
                          {{"COFFER_ADDR", addr}, {"VAULT_TLS_SERVER_NAME", "coffer.internal"}});
  EXPECT_EQ(env.code, 0) << env.err;
  Outcome other =
      RunStatus({"status", ca, "-tls-server-name=other.internal"}, {{"COFFER_ADDR", addr}});
  EXPECT_EQ(other.code, 1);
  EXPECT_EQ(server.served(), 4);  // flag and env: seal-status and leader each
}

TEST_F(TlsTest, SkipVerify) {
  TlsServer server(cert_);
  std::string addr = "https://127.0.0.1:" + std::to_string(server.port());
  EXPECT_EQ(RunStatus({"status", "-tls-skip-verify"}, {{"COFFER_ADDR", addr}}).code, 0);
  EXPECT_EQ(RunStatus({"status"}, {{"COFFER_ADDR", addr}, {"COFFER_SKIP_VERIFY", "true"}}).code, 0);
  EXPECT_EQ(RunStatus({"status"}, {{"COFFER_ADDR", addr}, {"COFFER_SKIP_VERIFY", "maybe"}}).code,
            1);
}

}  // namespace
}  // namespace coffer::cli
