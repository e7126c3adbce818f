// What the cluster process tests share: a Fluid cluster.yaml over NodeProcesses, a stream of
// requests with a window in flight (the experiment layer's), and the check that each was
// answered once and correctly shaped.
#pragma once

#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "cluster/cluster_config.h"
#include "cluster/coordinator.h"
#include "cluster/inference_client.h"
#include "graph/tensor.h"
#include "node_process.h"

namespace fluidedge::testing {

// One 1x1x28x28 image, uniform in [0, 1) (the cluster models' input).
graph::Tensor random_image(std::mt19937& rng);

// A trained test model's directory (made by the train_cluster_models fixture): fluid, static, dynamic.
std::filesystem::path model_dir(const std::string& variant);

// A cluster.yaml for `nodes` (each with its part), parsed as `fluidedge infer` would.
cluster::ClusterConfig make_config(const std::string& variant, const std::string& mode,
                                   const std::filesystem::path& model,
                                   const std::vector<std::pair<const NodeProcess*, std::string>>& nodes,
                                   const std::string& coordinator = "client");

// Whether the coordinator sees `node` ready within `timeout_ms`.
bool wait_ready(const cluster::Coordinator& c, const std::string& node, int timeout_ms);

// Whether the coordinator records `node` going down within `timeout_ms`.
bool wait_down(const cluster::Coordinator& c, const std::string& node, int timeout_ms);

// Sends `count` random images through experiment::run_stream, keeping `window` in flight; calls
// `at(i)` once for each i-th answer, between submissions. The answers in the order they came
// (answers[k] came before whatever `at(k + 1)` did).
std::vector<cluster::Answer> stream(cluster::InferenceClient& c, int count, const std::function<void(int)>& at = {},
                                    int window = 16);

// Every one of `count` requests answered exactly once, without error, with 1x10 logits.
void expect_each_answered_once(const std::vector<cluster::Answer>& answers, int count);

// How often `node` went down in `events`, and how often it came back up after going down.
struct DownsAndReturns {
  int downs = 0, returns = 0;
};
DownsAndReturns downs_and_returns(const std::vector<cluster::MembershipEvent>& events, const std::string& node);

}  // namespace fluidedge::testing
