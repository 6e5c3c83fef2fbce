#pragma once
// Helpers for the auth method tests: an engine over an InmemBackend with a
// FakeClock, and request shortcuts.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "auth/builtins.h"
#include "common/clock.h"
#include "logical/registry.h"
#include "storage/inmem/inmem_backend.h"

namespace coffer::auth::testing {

using logical::Json;
using logical::Operation;
using logical::Request;
using logical::Response;

inline std::unique_ptr<logical::Backend> MakeMethod(storage::Backend& storage, Clock& clock,
                                                    const std::string& type) {
  RegisterAuthMethods();
  logical::BackendConfig config{storage, clock, "auth/" + type + "/", type, Json::object()};
  auto engine = logical::CreateEngine(type, config);
  EXPECT_TRUE(engine.has_value()) << engine.error().ToString();
  EXPECT_TRUE((*engine)->Initialize().ok());
  return std::move(engine).value();
}

inline Request MakeRequest(const std::string& mount, Operation op, std::string path,
                           Json body = Json::object()) {
  Request r;
  r.operation = op;
  r.mount_point = "auth/" + mount + "/";
  r.path = r.mount_point + path;
  r.relative_path = std::move(path);
  r.data = std::move(body);
  r.remote_address = "127.0.0.1";
  return r;
}

}  // namespace coffer::auth::testing
