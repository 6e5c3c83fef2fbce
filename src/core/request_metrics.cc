#include "core/request_metrics.h"

#include "http/response_writer.h"

namespace coffer::core {

metrics::Method MetricsMethod(logical::Operation operation) {
  switch (operation) {
    case logical::Operation::kRead:
    case logical::Operation::kHelp:
      return metrics::Method::kGet;
    case logical::Operation::kList:
      return metrics::Method::kList;
    case logical::Operation::kDelete:
      return metrics::Method::kDelete;
    case logical::Operation::kPatch:
      return metrics::Method::kPatch;
    case logical::Operation::kHead:
      return metrics::Method::kHead;
    case logical::Operation::kScan:
      return metrics::Method::kScan;
    default:
      return metrics::Method::kPost;  // create and update (PUT or POST)
  }
}

metrics::Family MetricsFamily(const logical::Request& request, const logical::Response& response,
                              const router::Router& router) {
  const std::string_view p = request.path;
  if (p == "sys/health") return metrics::Family::kHealth;
  if (p == "sys" || p.starts_with("sys/")) return metrics::Family::kSys;
  if (p.starts_with("auth/")) return metrics::Family::kAuth;
  if (p.starts_with("identity/")) return metrics::Family::kIdentity;
  if (p == "cubbyhole" || p.starts_with("cubbyhole/")) return metrics::Family::kCubbyhole;
  if (!response.mount_type.empty()) return metrics::FamilyOfMountType(response.mount_type);
  auto match = router.Route(p);
  return match ? metrics::FamilyOfMountType(match->mount->entry.type) : metrics::Family::kOther;
}

void CountRequest(metrics::Family family, metrics::Method method, const logical::Response& response,
                  std::chrono::steady_clock::time_point started) {
  // A 200 with nothing in it leaves as 204 (response_writer.h).
  const int status = http::IsEmptyResponse(response) ? 204 : response.http_status;
  metrics::Telemetry::Global().RecordHttp(family, method, status,
                                          std::chrono::steady_clock::now() - started);
}

}  // namespace coffer::core
