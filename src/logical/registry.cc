#include "logical/registry.h"

#include <map>
#include <mutex>
#include <set>

namespace coffer::logical {
namespace {

std::mutex& Mu() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, Factory, std::less<>>& Factories() {
  static std::map<std::string, Factory, std::less<>> factories;
  return factories;
}

std::set<std::string, std::less<>>& AuthTypes() {
  static std::set<std::string, std::less<>> types;
  return types;
}

}  // namespace

void RegisterAuthMethod(std::string type, Factory factory) {
  std::scoped_lock lock(Mu());
  AuthTypes().insert(type);
  Factories()[std::move(type)] = std::move(factory);
}

bool IsAuthMethod(std::string_view type) {
  std::scoped_lock lock(Mu());
  return AuthTypes().contains(type);
}

void RegisterEngine(std::string type, Factory factory) {
  std::scoped_lock lock(Mu());
  Factories()[std::move(type)] = std::move(factory);
}

bool HasEngine(std::string_view type) {
  std::scoped_lock lock(Mu());
  return Factories().contains(type);
}

std::vector<std::string> RegisteredTypes(bool auth_methods) {
  std::scoped_lock lock(Mu());
  std::vector<std::string> out;
  for (const auto& [type, factory] : Factories()) {
    if (AuthTypes().contains(type) == auth_methods) out.push_back(type);
  }
  return out;  // the map keeps them sorted
}

Result<std::unique_ptr<Backend>> CreateEngine(std::string_view type, const BackendConfig& config) {
  Factory factory;
  {
    std::scoped_lock lock(Mu());
    auto it = Factories().find(type);
    if (it == Factories().end()) {
      return Err(InvalidArgument("unknown secrets engine type \"" + std::string(type) + "\""));
    }
    factory = it->second;
  }
  return factory(config);
}

}  // namespace coffer::logical
