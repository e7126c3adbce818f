// Link emulation: messages arrive in order, never before their serialisation time plus latency,
// and a queue of messages shares the link's rate.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <vector>

#include "cluster/link_emulator.h"

namespace fluidedge::cluster {
namespace {

using Clock = std::chrono::steady_clock;

TEST(LinkEmulator, DeliversInOrderNoEarlierThanRateAndLatencyAllow) {
  // 100 Mbit/s + 5 ms: 250 kB take 20 ms on the wire; four of them, queued at once, 80 ms + 5 ms.
  LinkEmulator link({100.0, 5.0});
  std::mutex m;
  std::vector<std::pair<int, double>> arrivals;
  auto start = Clock::now();
  for (int i = 0; i < 4; ++i)
    link.deliver(250'000, [&, i] {
      std::lock_guard lock(m);
      arrivals.push_back({i, std::chrono::duration<double, std::milli>(Clock::now() - start).count()});
    });
  while (true) {
    std::lock_guard lock(m);
    if (arrivals.size() == 4) break;
  }
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(arrivals[i].first, i);
    EXPECT_GE(arrivals[i].second, 20.0 * (i + 1) + 5.0 - 0.5) << "message " << i << " arrived too early";
  }
}

TEST(LinkEmulator, WithoutEmulationDeliversAtOnceOnTheCallersThread) {
  LinkEmulator link({});
  bool ran = false;
  link.deliver(1 << 20, [&] { ran = true; });
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace fluidedge::cluster
