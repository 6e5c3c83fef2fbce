#include "engines/kv/kv.h"

#include "engines/kv/kv_v1.h"
#include "engines/kv/kv_v2.h"
#include "logical/registry.h"

namespace coffer::engines::kv {

Result<std::unique_ptr<logical::Backend>> NewKvBackend(const logical::BackendConfig& config,
                                                       int force_version) {
  int version = force_version;
  if (version == 0) {
    version = 1;
    if (config.options.is_object()) {
      auto it = config.options.find("version");
      if (it != config.options.end() && !it->is_null()) {
        if (*it == "1" || *it == 1) {
          version = 1;
        } else if (*it == "2" || *it == 2) {
          version = 2;
        } else {
          version = -1;
        }
      }
    }
  }
  if (version == 1) return std::unique_ptr<logical::Backend>(std::make_unique<KvV1Backend>(config));
  if (version == 2) return std::unique_ptr<logical::Backend>(std::make_unique<KvV2Backend>(config));
  return Err(InvalidArgument("kv: options.version must be \"1\" or \"2\""));
}

void RegisterKvEngine() {
  logical::RegisterEngine(
      "kv", [](const logical::BackendConfig& config) { return NewKvBackend(config); });
  logical::RegisterEngine(
      "kv-v2", [](const logical::BackendConfig& config) { return NewKvBackend(config, 2); });
}

}  // namespace coffer::engines::kv
