#include "cluster/failure_detector.h"

#include <chrono>

#include "cluster/channel_settings.h"

namespace fluidedge::cluster {

FailureDetector::FailureDetector(DetectorSettings settings, Target target, Report report,
                                 std::function<void()> after_beat)
    : settings_(settings), target_(std::move(target)), report_(std::move(report)), after_beat_(std::move(after_beat)) {}

FailureDetector::~FailureDetector() { stop(); }

void FailureDetector::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void FailureDetector::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

std::string FailureDetector::probe(grpc::health::v1::Health::Stub& stub, int timeout_ms) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub.Check(&context, request, &response);
  if (!status.ok()) return "health check: " + status_text(status);
  if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) return "health check: not serving";
  return "";
}

void FailureDetector::run() {
  // Beats at a fixed rate: a slow probe shortens the wait after it, never shifts the schedule.
  auto next = std::chrono::steady_clock::now();
  int failed = 0;  // probes in a row that failed
  while (true) {
    if (grpc::health::v1::Health::Stub* stub = target_()) {
      std::string why = probe(*stub, settings_.timeout_ms);
      failed = why.empty() ? 0 : failed + 1;
      if (why.empty() || failed >= settings_.misses) report_(why);
    } else {
      failed = 0;
    }
    if (after_beat_) after_beat_();
    next += std::chrono::milliseconds(settings_.heartbeat_ms);
    auto now = std::chrono::steady_clock::now();
    if (next < now) next = now;
    std::unique_lock lock(mutex_);
    if (wake_.wait_until(lock, next, [&] { return stopping_; })) return;
  }
}

}  // namespace fluidedge::cluster
