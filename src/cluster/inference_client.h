// What a client serves its requests through: a coordinator in its own process (coordinator.h),
// or a gateway client that has the nodes coordinate for it and fails over between them
// (gateway_client.h). cluster.yaml's `coordinator:` chooses; make_inference_client builds it.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "cluster/cluster_config.h"
#include "runtime/session.h"

namespace fluidedge::cluster {

struct Answer {
  uint64_t id = 0;
  graph::Tensor prediction;        // the logits, [batch, classes]
  std::string produced_by;         // "1", "2", "1+2" (Static: "full")
  std::vector<std::string> nodes;  // the nodes that computed it
  std::string mode;                // "ht", "ha" or "pipeline"
  double latency_ms = 0;
  int attempts = 1;         // > 1: re-issued after a node failed
  std::string coordinator;  // the node that coordinated it (empty: this process)
  std::string error;        // non-empty: the request could not be answered
};

struct MembershipEvent {
  std::string node;
  bool up = false;  // false: went down
  std::chrono::steady_clock::time_point time;
  std::string reason;
};

class InferenceClient {
 public:
  virtual ~InferenceClient() = default;
  // Connects and deploys; returns once the cluster can serve or `wait_ms` has passed. Throws
  // Error naming the nodes if it cannot serve.
  virtual void start(int wait_ms) = 0;
  virtual void stop() = 0;
  // Queues one request (inputs named as the model's input, dim 0 the batch) and calls
  // `on_answer` exactly once, with a prediction or with Answer::error set (from a client
  // thread, no lock of the client's held).
  virtual void submit(runtime::TensorMap inputs, std::function<void(Answer)> on_answer) = 0;
  // The same, as a future.
  std::future<Answer> submit(runtime::TensorMap inputs);
  // Nodes going down and coming back (as coordinators too, for a gateway client), in order.
  virtual std::vector<MembershipEvent> events() const = 0;
};

// The client cluster.yaml asks for (`coordinator: client` or `nodes`).
std::unique_ptr<InferenceClient> make_inference_client(ClusterConfig config);

}  // namespace fluidedge::cluster
