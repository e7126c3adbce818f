// `fluidedge infer`: sends a dataset's test images to a cluster (cluster.yaml) through the
// coordinator and reports what came back: throughput, latency percentiles, accuracy, which
// sub-networks answered, and every request that was lost, failed or answered twice.

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/json_output.h"
#include "cluster/coordinator.h"
#include "common/error.h"
#include "common/progress.h"
#include "common/statistics.h"
#include "data/dataset.h"
#include "experiment/request_stream.h"
#include "graph/onnx_io.h"

namespace fluidedge::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct InferOptions {
  std::string cluster;
  std::string data = "mnist";
  std::string mode;
  std::string coordinator;
  int count = 1000;
  int batch = 1;
  int concurrency = 32;
  int wait_ms = 5000;
  bool json = false;
  TlsChoice tls;  // --tls overrides the cluster file's tls:; --insecure drops it
};

void run_infer(const InferOptions& o) {
  auto config = cluster::load_cluster_config(o.cluster);
  if (!o.mode.empty()) config.mode = cluster::parse_mode(o.mode);
  if (!o.coordinator.empty()) config.coordination = cluster::parse_coordination(o.coordinator);
  if (!o.tls.dir.empty() || o.tls.insecure || !config.tls.enabled()) config.tls = resolve_tls(o.tls);
  auto dataset = data::load_dataset(o.data);
  const auto& test = dataset.test;
  if (test.size() == 0) fail("{}: the test split is empty", o.data);
  std::string input_name = graph::load_onnx(config.nodes.front().part_file).inputs.at(0);

  auto client = cluster::make_inference_client(config);
  client->start(o.wait_ms);
  if (!config.tls.enabled())
    std::cerr << "warning: --insecure: plaintext and unauthenticated; anyone on the network can read these requests "
                 "and answers"
              << std::endl;

  std::map<std::string, std::pair<int64_t, int64_t>> by_subnet;  // key -> (correct, images)
  std::map<std::string, int64_t> per_node, per_coordinator;
  int64_t correct = 0, images = 0, reissued = 0;
  ProgressBar progress("infer", o.count);
  const int64_t* labels = test.labels.data<int64_t>();
  // Request i: `batch` images from (i * batch) round the split.
  auto first_of = [&](int64_t i) { return (i * o.batch) % test.size(); };
  auto make_request = [&](int64_t i) {
    const int64_t first = first_of(i);
    return runtime::TensorMap{{input_name, test.images.rows(first, std::min<int64_t>(o.batch, test.size() - first))}};
  };
  auto score = [&](int64_t i, const cluster::Answer& a) {
    progress.advance(1);
    if (!a.error.empty()) return;
    if (a.attempts > 1) ++reissued;
    for (const auto& n : a.nodes) per_node[n]++;
    if (!a.coordinator.empty()) per_coordinator[a.coordinator]++;
    auto& subnet = by_subnet[a.produced_by];
    for (int64_t k = 0; k < a.prediction.dim(0); ++k) {
      const bool ok = experiment::predicts(a, k, labels[(first_of(i) + k) % test.size()]);
      correct += ok;
      subnet.first += ok;
      ++images;
      ++subnet.second;
    }
  };
  experiment::StreamOptions stream;
  stream.count = o.count;
  stream.concurrency = o.concurrency;
  stream.retry_after_failure = std::chrono::milliseconds(0);  // every request goes out, as asked
  const auto start = Clock::now();
  const experiment::StreamResult sent = experiment::run_stream(*client, make_request, stream, score);
  const double seconds = sent.seconds;
  const std::vector<double>& latencies = sent.latencies;
  const int64_t answered = sent.answered, failed = sent.failed, duplicated = sent.duplicated, lost = sent.lost;
  const std::string& first_error = sent.first_error;
  progress.finish();
  auto events = client->events();
  // Node details are known here when this process coordinated; otherwise the answers tell.
  std::vector<cluster::NodeStatus> nodes;
  int64_t late = 0;
  if (auto* coordinator = dynamic_cast<cluster::Coordinator*>(client.get())) {
    nodes = coordinator->nodes();
    late = coordinator->late_replies();
  } else {
    for (const auto& n : config.nodes) nodes.push_back({n.name, n.address, n.key, false, 0, 0, 0.0});
  }
  client->stop();

  if (o.json) {
    Json subnets = Json::object();
    for (auto& [key, cn] : by_subnet)
      subnets[key] = {{"images", cn.second}, {"accuracy", cn.second ? double(cn.first) / cn.second : 0.0}};
    Json node_list = Json::array();
    for (auto& n : nodes)
      node_list.push_back({{"name", n.name},
                           {"address", n.address},
                           {"part", n.key},
                           {"ready", n.ready},
                           {"answered", per_node[n.name]},
                           {"coordinated", per_coordinator[n.name]},
                           {"service_ms", n.service_ms}});
    Json event_list = Json::array();
    for (auto& e : events)
      event_list.push_back({{"node", e.node},
                            {"up", e.up},
                            {"t_ms", std::chrono::duration<double, std::milli>(e.time - start).count()},
                            {"reason", e.reason}});
    Json j{{"cluster", o.cluster},
           {"variant", cluster::variant_name(config.variant)},
           {"mode", cluster::mode_name(config.mode)},
           {"coordinator", config.coordination == cluster::Coordination::kNodes ? "nodes" : "client"},
           {"requests", o.count},
           {"batch", o.batch},
           {"answered", answered},
           {"failed", failed},
           {"lost", lost},
           {"duplicated", duplicated},
           {"reissued", reissued},
           {"late_replies", late},
           {"seconds", seconds},
           {"throughput_ips", images / seconds},
           {"p50_ms", percentile(latencies, 0.5)},
           {"p99_ms", percentile(latencies, 0.99)},
           {"accuracy", images ? double(correct) / images : 0.0},
           {"by_subnetwork", subnets},
           {"nodes", node_list},
           {"events", event_list}};
    if (!first_error.empty()) j["error"] = first_error;
    print_json(j);
  } else {
    std::cout << fmt::format(
        "{} requests of {} image(s) to {} ({} {}): {} answered, {} failed, {} lost, "
        "{} answered twice, {} re-issued after a node failure\n",
        o.count, o.batch, o.cluster, cluster::variant_name(config.variant), cluster::mode_name(config.mode), answered,
        failed, lost, duplicated, reissued);
    std::cout << fmt::format("throughput {:.1f} images/s, latency p50 {:.2f} ms, p99 {:.2f} ms, accuracy {:.2f} %\n",
                             images / seconds, percentile(latencies, 0.5), percentile(latencies, 0.99),
                             images ? 100.0 * correct / images : 0.0);
    for (auto& [key, cn] : by_subnet)
      std::cout << fmt::format("  answered by {:>5}: {:6} images, accuracy {:.2f} %\n", key, cn.second,
                               cn.second ? 100.0 * cn.first / cn.second : 0.0);
    for (auto& [node, n] : per_coordinator) std::cout << fmt::format("  coordinated by {}: {} requests\n", node, n);
    for (auto& e : events)
      std::cout << fmt::format("  {:8.1f} ms  node {} {}{}\n",
                               std::chrono::duration<double, std::milli>(e.time - start).count(), e.node,
                               e.up ? "up" : "down", e.reason.empty() ? "" : " (" + e.reason + ")");
  }
  if (failed > 0) fail("{} of {} requests failed; first error: {}", failed, o.count, first_error);
}

}  // namespace

void add_infer_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("infer", "Send a dataset's test images to a cluster and report the answers");
  auto o = std::make_shared<InferOptions>();
  cmd->add_option("--cluster", o->cluster, "cluster.yaml describing the nodes and their parts")->required();
  cmd->add_option("--data", o->data, "mnist, fashion-mnist or a directory of IDX files")->capture_default_str();
  cmd->add_option("--mode", o->mode, "Override the cluster file's mode")->check(CLI::IsMember({"ht", "ha", "auto"}));
  cmd->add_option("--coordinator", o->coordinator,
                  "Override the cluster file's coordinator: client (this process) or nodes (any node, with failover)")
      ->check(CLI::IsMember({"client", "nodes"}));
  cmd->add_option("--count", o->count, "Requests to send")->check(CLI::Range(1, 100000000))->capture_default_str();
  cmd->add_option("--batch", o->batch, "Images per request")->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--concurrency", o->concurrency, "Requests kept in flight")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--wait", o->wait_ms, "Milliseconds to wait for the nodes to come up")
      ->check(CLI::Range(1, 600000))
      ->capture_default_str();
  add_tls_options(cmd, o->tls,
                  "this client's certificate, key and the cluster CA (`fluidedge certs issue`); "
                  "overrides the cluster file's tls:");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o] { run_infer(*o); });
}

}  // namespace fluidedge::cli
