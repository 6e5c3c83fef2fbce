#pragma once
// Helpers for the KV engine tests: an engine over an InmemBackend with a
// FakeClock, and a request shortcut.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "common/clock.h"
#include "engines/kv/kv.h"
#include "logical/registry.h"
#include "storage/inmem/inmem_backend.h"

namespace coffer::engines::kv::testing {

using logical::Json;
using logical::Operation;
using logical::Request;
using logical::Response;
using Query = std::map<std::string, std::string>;

inline std::unique_ptr<logical::Backend> MakeEngine(storage::Backend& storage, Clock& clock,
                                                    std::string type, Json options = {}) {
  RegisterKvEngine();
  logical::BackendConfig config{storage, clock, "secret/", type,
                                options.is_null() ? Json::object() : options};
  auto engine = logical::CreateEngine(type, config);
  EXPECT_TRUE(engine.has_value()) << engine.error().ToString();
  return std::move(engine).value();
}

inline Request MakeRequest(Operation op, std::string path, Json body = Json::object(),
                           Query query = {}) {
  Request r;
  r.operation = op;
  r.path = "secret/" + path;
  r.mount_point = "secret/";
  r.relative_path = std::move(path);
  r.data = std::move(body);
  r.query = std::move(query);
  return r;
}

// Every key, value and revision in the store, to prove a request changed
// nothing.
inline void SnapshotInto(storage::Backend& s, const std::string& prefix,
                         std::map<std::string, std::pair<std::string, std::uint64_t>>& out) {
  auto names = s.List(prefix);
  ASSERT_TRUE(names.has_value());
  for (const auto& name : *names) {
    std::string key = prefix + name;
    if (name.back() == '/') {
      SnapshotInto(s, key, out);
    } else {
      auto e = s.Get(key);
      ASSERT_TRUE(e.has_value() && e->has_value());
      out[key] = {(*e)->value, (*e)->revision};
    }
  }
}

inline std::map<std::string, std::pair<std::string, std::uint64_t>> Snapshot(storage::Backend& s) {
  std::map<std::string, std::pair<std::string, std::uint64_t>> out;
  SnapshotInto(s, "", out);
  return out;
}

}  // namespace coffer::engines::kv::testing
