#include "experiment/request_stream.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>

namespace fluidedge::experiment {

namespace {

// What the stream and its answers' callbacks share. Held by both, so that an answer arriving
// after the stream returned (past drain_timeout, or a second one) finds it still there, and
// is ignored.
struct StreamState {
  std::mutex mutex;
  std::condition_variable answered;
  int in_flight = 0;                      // slots taken: requests out, and failed slots cooling down
  std::deque<Clock::time_point> cooling;  // when each cooling slot frees, oldest first
  StreamResult result;
  bool returned = false;
};

}  // namespace

StreamResult run_stream(cluster::InferenceClient& client, const RequestMaker& make_request, const StreamOptions& o,
                        const AnswerObserver& on_answer) {
  auto state = std::make_shared<StreamState>();
  const int concurrency = std::max(1, o.concurrency);
  const auto retry_after_failure = o.retry_after_failure;
  const auto start = Clock::now();
  for (int64_t i = 0;; ++i) {
    if (o.stop_when ? o.stop_when() : i >= o.count && (!o.stop_at || Clock::now() >= *o.stop_at)) break;
    if (o.tick) o.tick();
    runtime::TensorMap inputs = make_request(i);
    {
      std::unique_lock lock(state->mutex);
      for (;;) {
        for (auto now = Clock::now(); !state->cooling.empty() && state->cooling.front() <= now;
             state->cooling.pop_front())
          --state->in_flight;
        if (state->in_flight < concurrency) break;
        if (state->cooling.empty())
          state->answered.wait(lock);
        else
          state->answered.wait_until(lock, state->cooling.front());
      }
      ++state->in_flight;
      ++state->result.sent;
      state->result.requests.push_back({Clock::now(), std::nullopt, false, {}});
    }
    client.submit(std::move(inputs), [state, i, retry_after_failure, &on_answer](cluster::Answer a) {
      std::lock_guard lock(state->mutex);
      if (state->returned) return;  // after the stream ended (a lost one's late answer, or a second one)
      StreamResult& s = state->result;
      RequestRecord& r = s.requests[static_cast<size_t>(i)];
      if (r.done) {  // a second answer: counted, and it frees no slot
        ++s.duplicated;
        return;
      }
      r.done = Clock::now();
      r.ok = a.error.empty();
      r.nodes = a.nodes;
      if (on_answer) on_answer(i, a);
      if (!r.ok) {
        ++s.failed;
        if (s.first_error.empty()) s.first_error = a.error;
        if (retry_after_failure.count() > 0) {
          state->cooling.push_back(Clock::now() + retry_after_failure);
          state->answered.notify_all();
          return;
        }
      } else {
        ++s.answered;
        s.latencies.push_back(a.latency_ms);
      }
      --state->in_flight;
      state->answered.notify_all();
    });
  }
  std::unique_lock lock(state->mutex);
  auto drained = [&] { return state->in_flight == static_cast<int>(state->cooling.size()); };
  if (o.drain_timeout)
    state->answered.wait_for(lock, *o.drain_timeout, drained);
  else
    state->answered.wait(lock, drained);
  state->returned = true;
  StreamResult& r = state->result;
  r.lost = r.sent - r.answered - r.failed;
  state->result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return std::move(state->result);
}

bool predicts(const cluster::Answer& answer, int64_t row, int64_t label) {
  const graph::Tensor& logits = answer.prediction;
  const int64_t n = std::max<int64_t>(1, logits.dim(0)), classes = logits.numel() / n;
  const float* p = logits.data<float>() + row * classes;
  return std::max_element(p, p + classes) - p == label;
}

}  // namespace fluidedge::experiment
