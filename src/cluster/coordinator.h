// The coordinator: serves inference requests with a group of device nodes. It deploys each
// node's part, dispatches requests by mode (Fluid HT: one node per request, weighted by measured
// capacity; Fluid HA: every live node, outputs combined for the live subset; auto: HA until load
// or latency says HT; Dynamic: group 1 then later groups on their activations; Static: a
// pipeline of stages), and survives failures: when a node goes down the requests it held are
// re-issued on the survivors; every request is answered exactly once, saying which sub-networks
// produced the answer, or fails with a clear error when the variant cannot go on.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "cluster/cluster_config.h"
#include "cluster/inference_client.h"
#include "runtime/session.h"

namespace fluidedge::cluster {

struct NodeStatus {
  std::string name, address, key;
  bool ready = false;  // up, deployed and streaming
  int in_flight = 0;
  int64_t answered = 0;   // requests this node contributed to
  double service_ms = 0;  // measured time per request
};

class Coordinator final : public InferenceClient {
 public:
  explicit Coordinator(ClusterConfig config);
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Connects to every node and deploys its part; returns once every node is ready or `wait_ms`
  // has passed. Throws Error if no node (Static: not every node) is ready by then.
  void start(int wait_ms = 5000) override;
  void stop() override;

  using InferenceClient::submit;
  void submit(runtime::TensorMap inputs, std::function<void(Answer)> on_answer) override;

  std::vector<NodeStatus> nodes() const;
  std::vector<MembershipEvent> events() const override;
  const ClusterConfig& config() const;
  // Replies that arrived for requests already answered or re-issued elsewhere (ignored).
  int64_t late_replies() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fluidedge::cluster
