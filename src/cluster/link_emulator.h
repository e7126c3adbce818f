// Emulated network link of an edge device: a rate (Mbit/s) and an added latency, applied per
// direction on the node's side of the transport. Messages go out in order; each occupies the
// link for bytes*8/rate and arrives `latency` later, so a queue of large tensors backs up the way
// it would on a real 100 Mbit/s Ethernet.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace fluidedge::cluster {

struct LinkSettings {
  double rate_mbps = 0;   // 0: unlimited
  double latency_ms = 0;  // added one-way latency
  bool emulated() const { return rate_mbps > 0 || latency_ms > 0; }
};

// One direction of an emulated link. deliver() hands a message of `bytes` to the link; `action`
// runs (on the link's own thread) when the message has fully arrived. Without emulation the
// action runs at once on the caller's thread.
class LinkEmulator {
 public:
  explicit LinkEmulator(LinkSettings settings);
  ~LinkEmulator();
  LinkEmulator(const LinkEmulator&) = delete;
  LinkEmulator& operator=(const LinkEmulator&) = delete;

  void deliver(size_t bytes, std::function<void()> action);

  const LinkSettings& settings() const { return settings_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    Clock::time_point arrival;
    std::function<void()> action;
  };
  void loop();

  LinkSettings settings_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  Clock::time_point link_free_ = Clock::now();
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace fluidedge::cluster
