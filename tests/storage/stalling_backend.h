#pragma once
// A test double for races: a ForwardingBackend that stalls the first
// Transact after `stall_transact` is set, or the first Get of
// `stall_get_key` (after reading, so what it returns was read before the
// stall), until the test calls release.set_value(). `entered` is set when
// the stall begins.

#include <atomic>
#include <future>
#include <string>

#include "storage/forwarding_backend.h"

namespace coffer::storage::test_util {

class StallingBackend : public ForwardingBackend {
 public:
  Status Transact(std::span<const Compare> compares, std::span<const Op> ops) override {
    if (stall_transact.exchange(false)) Stall();
    return ForwardingBackend::Transact(compares, ops);
  }
  Result<std::optional<Entry>> Get(std::string_view key) override {
    auto entry = ForwardingBackend::Get(key);
    if (!stall_get_key.empty() && key == stall_get_key) {
      stall_get_key.clear();
      Stall();
    }
    return entry;
  }
  void Stall() {
    entered.set_value();
    release.get_future().wait();
  }

  std::atomic<bool> stall_transact{false};
  std::string stall_get_key;  // set before the racing threads start
  std::promise<void> entered;
  std::promise<void> release;
};

}  // namespace coffer::storage::test_util
