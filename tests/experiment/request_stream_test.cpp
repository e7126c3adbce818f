// The experiment layer's request stream on a scripted client (no nodes): it keeps the asked
// concurrency, counts every request once whatever order the answers come in, cools failed slots
// down, and counts a second answer as a duplicate; and the failure trial on two real nodes.
#include "experiment/request_stream.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include <gtest/gtest.h>

namespace fluidedge {
namespace {

using experiment::Clock;

// Answers each request from its own thread after a random delay (so out of order), failing
// the requests whose first input value is a multiple of `fail_every`, and answering twice those
// below 50 that are a multiple of `twice_every` (early ones: the stream is still running when
// the second answer comes).
class ScriptedClient : public cluster::InferenceClient {
 public:
  ScriptedClient(int fail_every, int twice_every, int late_every = 0)
      : fail_every_(fail_every), twice_every_(twice_every), late_every_(late_every) {}
  ~ScriptedClient() override {
    for (auto& t : threads_) t.join();
  }
  void start(int) override {}
  void stop() override {}
  std::vector<cluster::MembershipEvent> events() const override { return {}; }
  using InferenceClient::submit;
  void submit(runtime::TensorMap inputs, std::function<void(cluster::Answer)> on_answer) override {
    const int i = static_cast<int>(inputs.at("input").data<float>()[0]);
    const int now = ++in_flight_;
    for (int seen = max_in_flight_; now > seen && !max_in_flight_.compare_exchange_weak(seen, now);) {
    }
    const int delay_us = late_every_ > 0 && i % late_every_ == 0
                             ? 400000
                             : static_cast<int>(std::uniform_int_distribution<int>(0, 2000)(rng_));
    std::lock_guard lock(mutex_);
    threads_.emplace_back([this, i, delay_us, on_answer = std::move(on_answer)] {
      std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
      cluster::Answer a;
      a.id = static_cast<uint64_t>(i) + 1;
      a.latency_ms = delay_us / 1000.0;
      a.nodes = {i % 2 ? "dev2" : "dev1"};
      if (fail_every_ > 0 && i % fail_every_ == 0)
        a.error = "scripted failure";
      else
        a.prediction = graph::Tensor(graph::DType::kFloat32, {1, 2});
      --in_flight_;
      on_answer(a);
      if (twice_every_ > 0 && i < 50 && i % twice_every_ == 0) on_answer(a);
    });
  }
  int max_in_flight() const { return max_in_flight_; }

 private:
  int fail_every_, twice_every_, late_every_;
  std::atomic<int> in_flight_{0}, max_in_flight_{0};
  std::mt19937 rng_{7};
  std::mutex mutex_;
  std::deque<std::thread> threads_;
};

runtime::TensorMap numbered(int64_t i) {
  graph::Tensor t(graph::DType::kFloat32, {1, 1});
  t.data<float>()[0] = static_cast<float>(i);
  return {{"input", t}};
}

TEST(RequestStream, KeepsTheConcurrencyAndCountsEveryRequestOnce) {
  ScriptedClient client(0, 0);
  experiment::StreamOptions o;
  o.count = 300;
  o.concurrency = 8;
  std::vector<int> observed(300, 0);
  auto s = experiment::run_stream(client, numbered, o, [&](int64_t i, const cluster::Answer&) { ++observed[i]; });
  EXPECT_EQ(s.sent, 300);
  EXPECT_EQ(s.answered, 300);
  EXPECT_EQ(s.failed, 0);
  EXPECT_EQ(s.duplicated, 0);
  EXPECT_EQ(s.latencies.size(), 300u);
  EXPECT_LE(client.max_in_flight(), 8);
  EXPECT_GT(client.max_in_flight(), 1) << "the stream should keep several requests out";
  for (int n : observed) EXPECT_EQ(n, 1);
  for (const auto& r : s.requests) {
    ASSERT_TRUE(r.done);
    EXPECT_TRUE(r.ok);
    EXPECT_GE(*r.done, r.submitted);
    EXPECT_EQ(r.nodes.size(), 1u);
  }
}

TEST(RequestStream, CountsFailuresAndDuplicatesAndCoolsFailedSlots) {
  ScriptedClient client(/*fail_every=*/5, /*twice_every=*/7);
  experiment::StreamOptions o;
  o.count = 70;
  o.concurrency = 4;
  o.retry_after_failure = std::chrono::milliseconds(20);
  const auto start = Clock::now();
  auto s = experiment::run_stream(client, numbered, o);
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  EXPECT_EQ(s.sent, 70);
  EXPECT_EQ(s.failed, 14);  // 0, 5, ..., 65
  EXPECT_EQ(s.answered, 56);
  EXPECT_EQ(s.duplicated, 8);  // 0, 7, ..., 49
  EXPECT_EQ(s.first_error, "scripted failure");
  // 14 failed slots, each cooling 20 ms, 4 slots: at least 14 * 20 / 4 ms in all.
  EXPECT_GE(ms, 14 * 20 / 4);
}

TEST(RequestStream, StopsAtADeadlineAndTicksBetweenSubmissions) {
  ScriptedClient client(0, 0);
  experiment::StreamOptions o;
  o.concurrency = 2;
  o.stop_at = Clock::now() + std::chrono::milliseconds(150);
  int ticks = 0;
  o.tick = [&] { ++ticks; };
  auto s = experiment::run_stream(client, numbered, o);
  EXPECT_GT(s.sent, 0);
  EXPECT_EQ(ticks, s.sent);
  EXPECT_EQ(s.answered, s.sent);
  EXPECT_GE(s.seconds, 0.14);
}

TEST(RequestStream, StopsWhenToldAndCountsWhatTheDrainDidNotBringAsLost) {
  // Requests 0 and 10 are answered 400 ms late; the stream stops after 20 and drains 50 ms.
  ScriptedClient client(0, 0, /*late_every=*/10);
  experiment::StreamOptions o;
  o.concurrency = 4;
  int64_t made = 0;
  o.stop_when = [&] { return made >= 20; };
  o.drain_timeout = std::chrono::milliseconds(50);
  auto s = experiment::run_stream(
      client,
      [&](int64_t i) {
        ++made;
        return numbered(i);
      },
      o);
  EXPECT_EQ(s.sent, 20);
  EXPECT_GE(s.lost, 1) << "request 0's answer comes long after the drain";
  EXPECT_EQ(s.lost, s.sent - s.answered - s.failed);
  EXPECT_FALSE(s.requests[0].done);
  // The late answers arrive after run_stream returned: ignored, and safe (the sanitized run
  // checks that nothing is touched that is gone).
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
}

}  // namespace
}  // namespace fluidedge
