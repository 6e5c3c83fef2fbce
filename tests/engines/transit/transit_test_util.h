#pragma once
// Helpers for the transit engine tests: an engine over an InmemBackend with
// a FakeClock (rotation thread off), and request shortcuts.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "common/clock.h"
#include "common/encoding.h"
#include "engines/transit/transit.h"
#include "engines/transit/transit_backend.h"
#include "storage/inmem/inmem_backend.h"

namespace coffer::engines::transit::testing {

using logical::Json;
using logical::Operation;

inline std::string B64(std::string_view s) { return Base64Encode(s); }
inline std::string UnB64(std::string_view s) {
  if (s.empty()) return "";
  auto d = Base64Decode(s);
  return d ? std::string(d->view()) : std::string("<bad base64>");
}

class TransitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    logical::BackendConfig config{storage_, clock_, "transit/", "transit", options_};
    auto engine = NewTransitBackend(config, TransitOptions{.rotation_thread = false});
    ASSERT_TRUE(engine.has_value()) << engine.error().ToString();
    engine_ = std::move(engine).value();
    ASSERT_TRUE(engine_->Initialize().ok());
  }

  TransitBackend& backend() { return static_cast<TransitBackend&>(*engine_); }

  Result<logical::Response> Do(Operation op, std::string path, Json body = Json::object()) {
    logical::Request r;
    r.operation = op;
    r.path = "transit/" + path;
    r.mount_point = "transit/";
    r.relative_path = std::move(path);
    r.data = std::move(body);
    return engine_->HandleRequest(r);
  }
  // A write that must succeed; returns its data.
  Json Ok(std::string path, Json body = Json::object(), Operation op = Operation::kUpdate) {
    auto r = Do(op, path, std::move(body));
    EXPECT_TRUE(r.has_value()) << path << ": " << r.error().ToString();
    if (!r) return Json();
    EXPECT_LT(r->http_status, 300) << path << " " << r->data.dump();
    return r->data;
  }
  Json Read(std::string path) { return Ok(std::move(path), Json::object(), Operation::kRead); }
  // A request that must fail with kInvalidArgument; returns the message.
  std::string Bad(std::string path, Json body = Json::object(), Operation op = Operation::kUpdate) {
    auto r = Do(op, path, std::move(body));
    EXPECT_FALSE(r.has_value()) << path << " unexpectedly answered " << r->http_status << " "
                                << r->data.dump();
    if (r) return "";
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << r.error().ToString();
    return r.error().message();
  }
  void CreateKey(const std::string& name, Json body = Json::object()) {
    Ok("keys/" + name, std::move(body), Operation::kCreate);
  }
  std::string Encrypt(const std::string& key, std::string_view plaintext, Json extra = {}) {
    Json body = extra.is_null() ? Json::object() : extra;
    body["plaintext"] = B64(plaintext);
    return Ok("encrypt/" + key, body).value("ciphertext", "");
  }
  std::string Decrypt(const std::string& key, const std::string& ciphertext, Json extra = {}) {
    Json body = extra.is_null() ? Json::object() : extra;
    body["ciphertext"] = ciphertext;
    return UnB64(Ok("decrypt/" + key, body).value("plaintext", ""));
  }

  Json options_ = Json::object();
  storage::InmemBackend storage_;
  FakeClock clock_;
  std::unique_ptr<logical::Backend> engine_;
};

}  // namespace coffer::engines::transit::testing
