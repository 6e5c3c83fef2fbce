#pragma once
// BarrierView: a storage::Backend that confines its user to one key prefix
// of another backend (usually the barrier), e.g. "logical/<mount-uuid>/".
//
// Every key is the prefix plus the caller's key; List answers names relative
// to the prefix as usual; Transact prefixes both compares and ops. The view
// never reaches keys outside its prefix.
//
// Thread-safe if the inner backend is. Errors: kInvalidArgument for an empty
// key or one starting with '/' (List accepts "" for the view's root); the
// inner backend's errors otherwise.

#include <string>

#include "storage/backend.h"

namespace coffer::barrier {

class BarrierView final : public storage::Backend {
 public:
  // `prefix` is "" or ends in '/'. `inner` must outlive the view.
  BarrierView(storage::Backend& inner, std::string prefix);

  const std::string& prefix() const { return prefix_; }
  // A view of a sub-folder of this view.
  BarrierView SubView(std::string_view sub_prefix) const;

  Result<std::optional<storage::Entry>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Transact(std::span<const storage::Compare> compares,
                  std::span<const storage::Op> ops) override;
  std::string_view Type() const override { return inner_.Type(); }

 private:
  Result<std::string> Expand(std::string_view key) const;

  storage::Backend& inner_;
  std::string prefix_;
};

}  // namespace coffer::barrier
