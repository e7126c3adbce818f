// cluster.yaml: which nodes form the group, where they listen, which part of a trained model
// each one holds, and how requests are served. A model directory is what `fluidedge train` (or
// `fluidedge partition`, for Static stages) wrote; its metrics.json says what every part predicts.
//
//   variant: fluid            # fluid | dynamic | static
//   mode: ht                  # ht | ha | auto (Static always runs as a pipeline)
//   model: runs/fluid         # relative to this file
//   nodes:
//     - {name: dev1, address: 127.0.0.1:50051, part: part1.onnx}
//     - {name: dev2, address: 127.0.0.1:50052, part: part2.onnx}
//   max_batch: 8              # micro-batch limit on each node
//   window: 16                # requests in flight per node
//   latency_target_ms: 30     # auto mode: HA while latency stays under this and no backlog
//   request_timeout_ms: 10000
//   detector: {heartbeat_ms: 20, timeout_ms: 60, misses: 3}  # see failure_detector.h
//   coordinator: client       # client: the client coordinates; nodes: any node does, for the
//                             # client, which fails over between them (see gateway.h)
//   tls: certs/client         # mutual TLS: this client's certificate, key and the cluster CA
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cluster/node_link.h"
#include "cluster/tls.h"

namespace fluidedge::cluster {

enum class Variant { kFluid, kDynamic, kStatic };
enum class Mode { kHighThroughput, kHighAccuracy, kAuto };
// Who coordinates: the client process itself, or one of the nodes on its behalf.
enum class Coordination { kClient, kNodes };

std::string variant_name(Variant variant);
std::string mode_name(Mode mode);  // "ht", "ha", "auto"
Mode parse_mode(const std::string& text);
Variant parse_variant(const std::string& text);
Coordination parse_coordination(const std::string& text);  // "client" | "nodes"

struct NodeSpec {
  std::string name;
  std::string address;
  std::string part_file;   // absolute path of the ONNX part it holds
  std::string key;         // what the part predicts: "1", "2" (Fluid/Dynamic), stage number (Static)
  std::string prediction;  // output tensor holding the part's prediction (empty: none)
  std::string features;    // Fluid: output tensor the combiners read
};

struct ClusterConfig {
  std::string source = "cluster.yaml";
  Variant variant = Variant::kFluid;
  Mode mode = Mode::kHighThroughput;
  Coordination coordination = Coordination::kClient;
  std::string model_dir;
  std::vector<NodeSpec> nodes;
  std::map<std::string, std::string> combiners;  // subset key "1+2" -> absolute ONNX path
  int max_batch = 8;
  int window = 16;
  double latency_target_ms = 30;
  int request_timeout_ms = 10000;
  DetectorSettings detector;
  // tls: DIR (relative to this file): the identity its coordinator presents to the nodes
  // (`fluidedge certs issue`); empty: plaintext (the CLI asks for --insecure then).
  TlsIdentity tls;

  // The checks every way a cluster is described must pass (cluster.yaml, the spec a gateway
  // receives): at least one node; names and addresses given, unique, with a port; positive
  // batch, window, timeouts and latency target; each part file present; a Static chain's last
  // stage with its prediction; Dynamic nodes holding groups in order. An Error names the
  // source and the first thing wrong.
  void validate() const;
};

// Reads and checks cluster.yaml and the model directory's metrics.json; every mistake (unknown
// field, missing node, duplicate name, part not in the model) is an Error naming the file.
ClusterConfig load_cluster_config(const std::string& path);
ClusterConfig parse_cluster_config(const std::string& yaml_text, const std::string& source,
                                   const std::string& base_dir);

}  // namespace fluidedge::cluster
