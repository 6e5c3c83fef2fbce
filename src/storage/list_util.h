#pragma once
// Turns a sorted run of full keys into one level of a List answer.

#include <string>
#include <string_view>
#include <vector>

namespace coffer::storage {

class ListCollector {
 public:
  explicit ListCollector(std::string_view prefix) : prefix_(prefix) {}

  // Feeds keys in ascending order, starting at the first key >= prefix.
  // Returns false once keys no longer start with the prefix.
  bool Add(std::string_view key) {
    if (key.substr(0, prefix_.size()) != prefix_) return false;
    std::string_view rest = key.substr(prefix_.size());
    if (rest.empty()) return true;
    auto slash = rest.find('/');
    std::string_view name = slash == std::string_view::npos ? rest : rest.substr(0, slash + 1);
    if (out_.empty() || out_.back() != name) out_.emplace_back(name);
    return true;
  }

  std::vector<std::string> Take() { return std::move(out_); }

 private:
  std::string prefix_;
  std::vector<std::string> out_;
};

}  // namespace coffer::storage
