// The coordinator: serves inference requests with a group of device nodes. It keeps a link to
// each node, deploys its part when the node comes up (again), and runs the cluster's dispatch
// policy (dispatch_policy.h: Fluid HT/HA/auto, or a Static/Dynamic chain) over its membership
// and its request book; it survives failures: when a node goes down the requests it held go back
// to the policy, which re-issues them on the survivors or answers with what is left. Every
// request is answered exactly once, saying which sub-networks produced the answer, or fails with
// a clear error when the variant cannot go on.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "cluster/cluster_config.h"
#include "cluster/inference_client.h"
#include "cluster/membership.h"
#include "runtime/session.h"

namespace fluidedge::cluster {

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
