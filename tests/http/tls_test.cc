// TLS: a self-signed certificate is generated with the OpenSSL API into a
// temporary directory; the client is plain OpenSSL over a blocking socket.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "http/fake_handler.h"
#include "http/server.h"
#include "http/test_client.h"

namespace coffer::http {
namespace {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"

struct TempDir {
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "coffer-tls-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

// Writes a self-signed P-256 certificate for 127.0.0.1/localhost.
bool WriteSelfSigned(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) return false;
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  bool ok = X509_sign(x, key, EVP_sha256()) > 0;
  FILE* cf = std::fopen(cert_path.c_str(), "w");
  FILE* kf = std::fopen(key_path.c_str(), "w");
  ok = ok && cf && kf && PEM_write_X509(cf, x) == 1 &&
       PEM_write_PrivateKey(kf, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  if (cf) std::fclose(cf);
  if (kf) std::fclose(kf);
  X509_free(x);
  EVP_PKEY_free(key);
  return ok;
}

// A blocking TLS client; `max_version` 0 = no cap.
class TlsClient {
 public:
  TlsClient(std::uint16_t port, int max_version) : tcp_(port) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (max_version != 0) SSL_CTX_set_max_proto_version(ctx_, max_version);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, tcp_.fd());
    SSL_set_tlsext_host_name(ssl_, "localhost");
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  bool Handshake() { return SSL_connect(ssl_) == 1; }
  int version() const { return SSL_version(ssl_); }
  bool Send(std::string_view s) {
    return SSL_write(ssl_, s.data(), static_cast<int>(s.size())) == static_cast<int>(s.size());
  }
  // Reads until the connection closes (the requests send Connection: close).
  std::string ReadAll() {
    std::string out;
    char buf[4096];
    int n;
    while ((n = SSL_read(ssl_, buf, sizeof(buf))) > 0) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }

 private:
  testing::RawClient tcp_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

#pragma GCC diagnostic pop

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = dir_.path + "/cert.pem";
    key_ = dir_.path + "/key.pem";
    ASSERT_TRUE(WriteSelfSigned(cert_, key_));
  }
  std::unique_ptr<Server> Start(const std::string& min_version) {
    ServerOptions o;
    o.address = "127.0.0.1:0";
    o.io_threads = 1;
    o.tls = true;
    o.tls_cert_file = cert_;
    o.tls_key_file = key_;
    o.tls_min_version = min_version;
    o.header_read_timeout = std::chrono::seconds(1);
    auto s = Server::Create(o, handler_);
    EXPECT_TRUE(s.has_value()) << s.error().ToString();
    if (!s) return nullptr;
    (*s)->Start();
    return std::move(*s);
  }

  TempDir dir_;
  std::string cert_, key_;
  testing::FakeHandler handler_;
};

TEST_F(TlsTest, HandshakeAndRequest) {
  auto server = Start("tls12");
  ASSERT_NE(server, nullptr);
  TlsClient c(server->port(), 0);
  ASSERT_TRUE(c.Handshake());
  EXPECT_EQ(c.version(), TLS1_3_VERSION);
  ASSERT_TRUE(c.Send("GET /v1/echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  std::string resp = c.ReadAll();
  EXPECT_TRUE(resp.starts_with("HTTP/1.1 200 OK\r\n")) << resp;
  EXPECT_TRUE(handler_.last().tls);

  TlsClient old(server->port(), TLS1_2_VERSION);  // 1.2 is allowed with min tls12
  ASSERT_TRUE(old.Handshake());
  EXPECT_EQ(old.version(), TLS1_2_VERSION);
}

TEST_F(TlsTest, MinimumVersion13RefusesTls12Client) {
  auto server = Start("tls13");
  ASSERT_NE(server, nullptr);
  TlsClient old(server->port(), TLS1_2_VERSION);
  EXPECT_FALSE(old.Handshake());
  TlsClient modern(server->port(), 0);
  EXPECT_TRUE(modern.Handshake());
}

TEST_F(TlsTest, StalledHandshakeIsClosed) {
  auto server = Start("tls12");
  ASSERT_NE(server, nullptr);
  testing::RawClient c(server->port());
  ASSERT_TRUE(c.Send("\x16\x03\x01"));  // the start of a ClientHello, then nothing
  EXPECT_TRUE(c.WaitClosed(std::chrono::seconds(10)));
}

TEST_F(TlsTest, PlainHttpOnTlsPortIsRefused) {
  auto server = Start("tls12");
  ASSERT_NE(server, nullptr);
  testing::RawClient c(server->port());
  ASSERT_TRUE(c.Send("GET /v1/sys/health HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_TRUE(c.WaitClosed(std::chrono::seconds(10)));
  EXPECT_EQ(handler_.count(), 0);
}

TEST_F(TlsTest, BadMinVersionAndMismatchedKey) {
  ServerOptions o;
  o.address = "127.0.0.1:0";
  o.tls = true;
  o.tls_cert_file = cert_;
  o.tls_key_file = key_;
  o.tls_min_version = "tls10";
  EXPECT_EQ(Server::Create(o, handler_).error().code(), Code::kInvalidArgument);
  std::string other_cert = dir_.path + "/c2.pem", other_key = dir_.path + "/k2.pem";
  ASSERT_TRUE(WriteSelfSigned(other_cert, other_key));
  o.tls_min_version = "tls12";
  o.tls_key_file = other_key;
  EXPECT_EQ(Server::Create(o, handler_).error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace coffer::http
