// A closed-loop stream of requests against a cluster (any InferenceClient): `concurrency` in
// flight, a new one sent as soon as any answer comes back (not the oldest: nodes of different
// speed answer out of order), with every request's timings kept. What `bench fluid`,
// `bench soak`, `bench partition` and `infer` send their load with.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cluster/inference_client.h"
#include "runtime/session.h"

namespace fluidedge::experiment {

using Clock = std::chrono::steady_clock;

struct StreamOptions {
  int64_t count = 0;  // requests to send (with `stop_at`: at least these)
  int concurrency = 1;
  std::optional<Clock::time_point> stop_at;  // and then send until this time
  // Called between submissions, on the stream's thread (a failure trial kills a node from it).
  std::function<void()> tick;
  // A slot whose request failed waits this long before its next one, as a client would,
  // instead of spinning on a cluster that answers "cannot" in microseconds.
  std::chrono::milliseconds retry_after_failure{50};
  // Set: the stream runs until this says so (checked before each submission; `count` and
  // `stop_at` are then unused).
  std::function<bool()> stop_when;
  // After the last submission, wait at most this long for the answers still out (those that do
  // not come are lost); unset: wait for every one.
  std::optional<std::chrono::milliseconds> drain_timeout;
};

struct RequestRecord {
  Clock::time_point submitted;
  std::optional<Clock::time_point> done;  // when its answer came
  bool ok = false;                        // answered with a prediction
  std::vector<std::string> nodes;         // the nodes that computed it
};

struct StreamResult {
  int64_t sent = 0, answered = 0, failed = 0;
  int64_t lost = 0;                     // sent, and no answer before the stream returned (drain_timeout)
  int64_t duplicated = 0;               // answers beyond the first for one request (never, if the cluster is right)
  std::vector<RequestRecord> requests;  // per request, in submission order
  std::vector<double> latencies;        // of the answered ones, ms, in completion order
  std::string first_error;
  double seconds = 0;  // from the first submission to the last answer
};

// Request i's inputs.
using RequestMaker = std::function<runtime::TensorMap(int64_t i)>;
// Called with every answer (request i's), under the stream's lock: keep it short.
using AnswerObserver = std::function<void(int64_t i, const cluster::Answer& answer)>;

StreamResult run_stream(cluster::InferenceClient& client, const RequestMaker& make_request,
                        const StreamOptions& options, const AnswerObserver& on_answer = {});

// Whether `answer`'s prediction for image `row` (of its batch) is `label` (argmax of the logits).
bool predicts(const cluster::Answer& answer, int64_t row, int64_t label);

}  // namespace fluidedge::experiment
