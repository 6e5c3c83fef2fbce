#pragma once
// The concrete audit devices (file, socket, syslog); only device.cc creates
// them.

#include <memory>

#include "audit/device.h"

namespace coffer::audit::internal {

Result<std::unique_ptr<Device>> NewFileDevice(const DeviceConfig& config,
                                              std::shared_ptr<const Salt> salt, Clock& clock);
Result<std::unique_ptr<Device>> NewSocketDevice(const DeviceConfig& config,
                                                std::shared_ptr<const Salt> salt, Clock& clock);
Result<std::unique_ptr<Device>> NewSyslogDevice(const DeviceConfig& config,
                                                std::shared_ptr<const Salt> salt, Clock& clock);

// A string option ("" when absent).
std::string Option(const DeviceConfig& config, const char* name);

}  // namespace coffer::audit::internal
