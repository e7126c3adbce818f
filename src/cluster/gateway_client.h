// A client that has the nodes coordinate for it (cluster.yaml `coordinator: nodes`). At start it
// sets the cluster up on every node it knows (gateway.h), so each holds a standby coordinator;
// it streams requests to one of them and watches that node with the same health probe the
// coordinators use. When the node dies (stream broken or probe failed) it moves to the next
// node and re-sends every request not yet answered; answers are matched by id and each request
// is answered once. A node that restarted has forgotten the cluster: it is set up again.
#pragma once

#include <memory>

#include "cluster/inference_client.h"

namespace fluidedge::cluster {

class GatewayClient final : public InferenceClient {
 public:
  explicit GatewayClient(ClusterConfig config);
  ~GatewayClient() override;
  GatewayClient(const GatewayClient&) = delete;
  GatewayClient& operator=(const GatewayClient&) = delete;

  // Sets the cluster up on every node (the first to accept within `wait_ms` starts serving; the
  // others are tried again on failover). Throws Error if no node accepted.
  void start(int wait_ms) override;
  void stop() override;
  using InferenceClient::submit;
  void submit(runtime::TensorMap inputs, std::function<void(Answer)> on_answer) override;
  // Coordinating nodes lost ("down") and taken over ("up", reason "coordinating").
  std::vector<MembershipEvent> events() const override;
  // The node coordinating now (empty: none).
  std::string coordinator() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fluidedge::cluster
