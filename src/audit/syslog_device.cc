// The syslog audit device: one syslog(3) message per line.
//
// syslog(3) reports no errors, so this device always counts as written; use
// it next to a file or socket device when fail-closed matters.
#include <syslog.h>

#include <map>

#include "audit/sinks.h"

namespace coffer::audit::internal {
namespace {

class SyslogDevice final : public Device {
 public:
  SyslogDevice(const DeviceConfig& config, std::shared_ptr<const Salt> salt, Clock& clock,
               std::string tag, int facility)
      : Device(config, std::move(salt), clock), tag_(std::move(tag)), facility_(facility) {}
  ~SyslogDevice() override { StopFlusher(); }

 protected:
  Status OpenSink() override {
    // openlog keeps a pointer to the tag: tag_ lives as long as the device.
    ::openlog(tag_.c_str(), LOG_NDELAY | LOG_PID, facility_);
    return Status::Ok();
  }
  void CloseSink() override {}
  Status AppendToSink(std::string_view bytes) override {
    std::size_t pos = 0;
    while (pos < bytes.size()) {
      std::size_t nl = bytes.find('\n', pos);
      if (nl == std::string_view::npos) nl = bytes.size();
      std::string line(bytes.substr(pos, nl - pos));
      ::syslog(facility_ | LOG_INFO, "%s", line.c_str());
      pos = nl + 1;
    }
    return Status::Ok();
  }

 private:
  std::string tag_;
  int facility_;
};

}  // namespace

Result<std::unique_ptr<Device>> NewSyslogDevice(const DeviceConfig& config,
                                                std::shared_ptr<const Salt> salt, Clock& clock) {
  static const std::map<std::string, int> kFacilities = {
      {"AUTH", LOG_AUTH},     {"AUTHPRIV", LOG_AUTHPRIV}, {"DAEMON", LOG_DAEMON},
      {"LOCAL0", LOG_LOCAL0}, {"LOCAL1", LOG_LOCAL1},     {"LOCAL2", LOG_LOCAL2},
      {"LOCAL3", LOG_LOCAL3}, {"LOCAL4", LOG_LOCAL4},     {"LOCAL5", LOG_LOCAL5},
      {"LOCAL6", LOG_LOCAL6}, {"LOCAL7", LOG_LOCAL7},     {"USER", LOG_USER}};
  std::string facility = Option(config, "facility");
  if (facility.empty()) facility = "AUTH";
  auto it = kFacilities.find(facility);
  if (it == kFacilities.end()) {
    return Err(InvalidArgument("facility must be one of AUTH, AUTHPRIV, DAEMON, USER, LOCAL0-7"));
  }
  std::string tag = Option(config, "tag");
  if (tag.empty()) tag = "coffer";
  return std::unique_ptr<Device>(
      std::make_unique<SyslogDevice>(config, std::move(salt), clock, std::move(tag), it->second));
}

}  // namespace coffer::audit::internal
