#pragma once
// A test double: a Backend that passes every call to an in-memory backend
// (`inner`). Tests derive from it and override only the calls they count,
// stall or fail, calling ForwardingBackend's version to carry on.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/backend.h"
#include "storage/inmem/inmem_backend.h"

namespace coffer::storage::test_util {

class ForwardingBackend : public Backend {
 public:
  Result<std::optional<Entry>> Get(std::string_view key) override { return inner.Get(key); }
  Status Put(std::string_view key, std::string_view value) override {
    return inner.Put(key, value);
  }
  Status Delete(std::string_view key) override { return inner.Delete(key); }
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    return inner.List(prefix);
  }
  Status Transact(std::span<const Compare> compares, std::span<const Op> ops) override {
    return inner.Transact(compares, ops);
  }
  std::string_view Type() const override { return inner.Type(); }

  InmemBackend inner;
};

}  // namespace coffer::storage::test_util
