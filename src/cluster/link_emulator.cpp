#include "cluster/link_emulator.h"

namespace fluidedge::cluster {

LinkEmulator::LinkEmulator(LinkSettings settings) : settings_(settings) {
  if (settings_.emulated()) thread_ = std::thread([this] { loop(); });
}

LinkEmulator::~LinkEmulator() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LinkEmulator::deliver(size_t bytes, std::function<void()> action) {
  if (!settings_.emulated()) {
    action();
    return;
  }
  {
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    // The message starts when the link is free and occupies it for its serialisation time.
    auto start = std::max(now, link_free_);
    auto serialise =
        std::chrono::duration<double>(settings_.rate_mbps > 0 ? bytes * 8.0 / (settings_.rate_mbps * 1e6) : 0.0);
    link_free_ = start + std::chrono::duration_cast<Clock::duration>(serialise);
    auto arrival = link_free_ + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double, std::milli>(settings_.latency_ms));
    queue_.push_back({arrival, std::move(action)});
  }
  wake_.notify_all();
}

void LinkEmulator::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    if (queue_.empty()) {
      if (stopping_) return;
      wake_.wait(lock);
      continue;
    }
    // Arrivals are in order: serialisation keeps the link FIFO and the latency is constant.
    auto arrival = queue_.front().arrival;
    if (Clock::now() < arrival && !stopping_) {
      wake_.wait_until(lock, arrival);
      continue;
    }
    auto action = std::move(queue_.front().action);
    queue_.pop_front();
    lock.unlock();
    action();
    lock.lock();
  }
}

}  // namespace fluidedge::cluster
