#pragma once
// A dev-mode core on in-memory storage with a fake clock, driven without
// HTTP: Call() runs one request through the whole pipeline.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/builtins.h"
#include "core/core.h"
#include "storage/inmem/inmem_backend.h"

namespace coffer::core {

class CoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterBuiltins();
    CoreOptions options;
    options.physical = std::make_unique<storage::InmemBackend>();
    physical_ = static_cast<storage::InmemBackend*>(options.physical.get());
    options.clock = &clock_;
    options.worker_threads = 1;
    auto core = Core::Create(std::move(options));
    ASSERT_TRUE(core.has_value());
    core_ = std::move(*core);
    auto init = core_->Initialize(1, 1, /*stay_unsealed=*/true);
    ASSERT_TRUE(init.has_value()) << init.error().ToString();
    root_ = std::string(init->root_token.view());
    key_ = init->keys[0].Clone();
  }

  // `token` "ROOT" stands for the root token.
  logical::Response Call(logical::Operation op, const std::string& path,
                         logical::Json body = logical::Json::object(),
                         const std::string& token = "ROOT",
                         const std::string& client = "127.0.0.1") {
    logical::Request r;
    r.id = "req";
    r.operation = op;
    r.path = path;
    r.data = std::move(body);
    r.client_token = token == "ROOT" ? root_ : token;
    r.remote_address = client;
    return core_->HandleRequest(r);
  }

  // A child of the root token whose only policy (besides default, unless
  // `no_default`) is `policy_hcl`, written as policy "p".
  std::string TokenWith(const std::string& policy_hcl, bool no_default = false) {
    EXPECT_EQ(Call(logical::Operation::kUpdate, "sys/policies/acl/p",
                   logical::Json{{"policy", policy_hcl}})
                  .http_status,
              204);
    auto c = Call(logical::Operation::kUpdate, "auth/token/create",
                  logical::Json{{"policies", {"p"}}, {"no_default_policy", no_default}});
    EXPECT_EQ(c.http_status, 200);
    return c.auth.at("client_token").get<std::string>();
  }

  FakeClock clock_;
  storage::InmemBackend* physical_ = nullptr;  // owned by core_
  std::unique_ptr<Core> core_;
  std::string root_;
  SecretBytes key_;
};

}  // namespace coffer::core
