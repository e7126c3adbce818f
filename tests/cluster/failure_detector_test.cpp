// The FailureDetector on its own: it skips beats with nothing to watch (still running its
// chores), and reports a node that does not answer with the reason, within a deadline.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cluster/channel_settings.h"
#include "cluster/failure_detector.h"

namespace fluidedge::cluster {
namespace {

TEST(FailureDetector, SkipsBeatsWithoutATargetAndRunsItsChores) {
  std::atomic<int> reports{0}, beats{0};
  FailureDetector d(
      {.heartbeat_ms = 5, .timeout_ms = 20}, [] { return nullptr; }, [&](const std::string&) { ++reports; },
      [&] { ++beats; });
  d.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  d.stop();
  const int seen = beats.load();
  EXPECT_GE(seen, 5) << "beats every 5 ms for 100 ms";
  EXPECT_EQ(reports.load(), 0) << "nothing was probed";
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(beats.load(), seen) << "no beat after stop()";
}

TEST(FailureDetector, ANodeThatDoesNotAnswerIsReportedWithWhy) {
  // Nothing listens on port 1.
  auto stub = grpc::health::v1::Health::NewStub(make_channel("127.0.0.1:1"));
  std::mutex m;
  std::vector<std::string> why;
  FailureDetector d(
      {.heartbeat_ms = 10, .timeout_ms = 50}, [&] { return stub.get(); },
      [&](const std::string& w) {
        std::lock_guard lock(m);
        why.push_back(w);
      });
  auto t0 = std::chrono::steady_clock::now();
  d.start();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
    {
      std::lock_guard lock(m);
      if (why.size() >= 2) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  d.stop();
  std::lock_guard lock(m);
  ASSERT_GE(why.size(), 2u) << "probing goes on after a failure";
  for (const auto& w : why) {
    EXPECT_FALSE(w.empty());
    EXPECT_NE(w.find("health check"), std::string::npos) << w;
  }
  EXPECT_TRUE(FailureDetector::probe(*stub, 50).find("health check: ") == 0);
}

}  // namespace
}  // namespace fluidedge::cluster
