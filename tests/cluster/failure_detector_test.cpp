// The FailureDetector on its own: it skips beats with nothing to watch (still running its
// chores), and reports a node that does not answer with the reason once `misses` probes in a
// row failed.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cluster/channel_settings.h"
#include "cluster/failure_detector.h"

namespace fluidedge::cluster {
namespace {

// Runs `d` until `why` (guarded by `m`) holds `count` reports, or 5 s have passed.
void run_until_reported(FailureDetector& d, std::mutex& m, const std::vector<std::string>& why, size_t count) {
  auto t0 = std::chrono::steady_clock::now();
  d.start();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
    {
      std::lock_guard lock(m);
      if (why.size() >= count) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  d.stop();
}

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
  run_until_reported(d, m, why, 2);
  std::lock_guard lock(m);
  ASSERT_GE(why.size(), 2u) << "probing goes on after a failure";
  for (const auto& w : why) {
    EXPECT_FALSE(w.empty());
    EXPECT_NE(w.find("health check"), std::string::npos) << w;
  }
  EXPECT_TRUE(FailureDetector::probe(*stub, 50).find("health check: ") == 0);
}

// A listening socket nobody accepts from: the kernel completes the TCP handshake, the HTTP/2
// one never comes, so the first probe runs out of its deadline - a frozen process.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || listen(fd_, 16) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot listen on loopback");
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(FailureDetector, AFailureIsReportedAfterMissesInARow) {
  for (int misses : {1, 3}) {
    SilentListener silent;  // a fresh connection each time
    auto stub = grpc::health::v1::Health::NewStub(make_channel(silent.address()));
    std::mutex m;
    int probes = 0;                   // probes made (the target is asked once per probe)
    std::vector<int> reported_after;  // the probe count at each report
    std::vector<std::string> why;
    FailureDetector d(
        {.heartbeat_ms = 5, .timeout_ms = 40, .misses = misses},
        [&] {
          std::lock_guard lock(m);
          ++probes;
          return stub.get();
        },
        [&](const std::string& w) {
          std::lock_guard lock(m);
          reported_after.push_back(probes);
          why.push_back(w);
        });
    run_until_reported(d, m, why, 2);
    std::lock_guard lock(m);
    ASSERT_GE(why.size(), 2u) << "misses " << misses << ": a silent node is reported, again while it stays silent";
    EXPECT_NE(why[0].find("health check: "), std::string::npos) << why[0];
    EXPECT_EQ(reported_after[0], misses) << "the first report comes with the misses-th failed probe";
    EXPECT_EQ(reported_after[1], misses + 1) << "then every failed probe is reported";
  }
}

}  // namespace
}  // namespace fluidedge::cluster
