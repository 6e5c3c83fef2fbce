#include "common/background_job.h"

#include <utility>

namespace coffer {

bool BackgroundJob::Start(Job job) {
  std::scoped_lock lock(mu_);
  if (running_.load()) return false;
  if (thread_.joinable()) thread_.join();  // the last job, finished
  stop_ = false;
  running_ = true;
  thread_ = std::thread([this, job = std::move(job)] {
    job(stop_);
    running_ = false;
  });
  return true;
}

void BackgroundJob::Stop() {
  std::scoped_lock lock(mu_);
  if (!thread_.joinable()) return;
  stop_ = true;
  thread_.join();
  stop_ = false;
}

}  // namespace coffer
