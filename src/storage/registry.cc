#include "storage/registry.h"

#include <mutex>
#include <utility>

#include "storage/inmem/inmem_backend.h"
#include "storage/local/local_backend.h"

namespace coffer::storage {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, BackendFactory, std::less<>> factories;  // guarded by mu
};

Registry& GetRegistry() {
  static Registry* registry = new Registry();  // never destroyed: no exit-order issues
  return *registry;
}

Result<std::unique_ptr<Backend>> MakeInmem(const std::map<std::string, std::string>&) {
  return std::unique_ptr<Backend>(std::make_unique<InmemBackend>());
}

Result<std::unique_ptr<Backend>> MakeLocal(const std::map<std::string, std::string>& params) {
  auto it = params.find("path");
  if (it == params.end() || it->second.empty()) {
    return Err(InvalidArgument("storage \"local\" requires the \"path\" parameter"));
  }
  ASSIGN_OR_RETURN(auto backend, LocalBackend::Open(it->second));
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace

void RegisterBackend(std::string type, BackendFactory factory) {
  Registry& registry = GetRegistry();
  std::scoped_lock lock(registry.mu);
  registry.factories.insert_or_assign(std::move(type), std::move(factory));
}

std::vector<std::string> RegisteredBackendTypes() {
  Registry& registry = GetRegistry();
  std::scoped_lock lock(registry.mu);
  std::vector<std::string> out;
  for (const auto& [name, factory] : registry.factories) out.push_back(name);
  return out;
}

Result<std::unique_ptr<Backend>> CreateBackend(std::string_view type,
                                               const std::map<std::string, std::string>& params) {
  BackendFactory factory;
  {
    Registry& registry = GetRegistry();
    std::scoped_lock lock(registry.mu);
    auto it = registry.factories.find(type);
    if (it != registry.factories.end()) factory = it->second;
  }
  if (!factory) {
    std::string known;
    for (const auto& name : RegisteredBackendTypes()) {
      known += known.empty() ? name : ", " + name;
    }
    return Err(InvalidArgument("unknown storage type \"" + std::string(type) +
                               "\" (known: " + (known.empty() ? "none" : known) + ")"));
  }
  // The factory runs without the registry lock: opening a backend does I/O.
  return factory(params);
}

void RegisterBuiltinBackends() {
  RegisterBackend("inmem", MakeInmem);
  RegisterBackend("local", MakeLocal);
}

}  // namespace coffer::storage
