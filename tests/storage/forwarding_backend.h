#pragma once
// A test double: a Backend that passes every call to another backend, its
// own in-memory `inner` unless it was given one (storage that outlives the
// object under test, say). Tests derive from it and override only the calls
// they count, stall or fail, calling ForwardingBackend's version to carry
// on.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/backend.h"
#include "storage/inmem/inmem_backend.h"

namespace coffer::storage::test_util {

class ForwardingBackend : public Backend {
 public:
  ForwardingBackend() : target_(inner) {}
  explicit ForwardingBackend(Backend& target) : target_(target) {}

  Result<std::optional<Entry>> Get(std::string_view key) override { return target_.Get(key); }
  Status Put(std::string_view key, std::string_view value) override {
    return target_.Put(key, value);
  }
  Status Delete(std::string_view key) override { return target_.Delete(key); }
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    return target_.List(prefix);
  }
  Status Transact(std::span<const Compare> compares, std::span<const Op> ops) override {
    return target_.Transact(compares, ops);
  }
  std::string_view Type() const override { return target_.Type(); }

  InmemBackend inner;  // the target when no other was given

 private:
  Backend& target_;
};

}  // namespace coffer::storage::test_util
