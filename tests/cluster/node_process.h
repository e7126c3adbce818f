// The cluster tests' device nodes: experiment::NodeProcess (the one wrapper the benches use too)
// on this build's fluidedge-node, plaintext unless the test gives the node a certificate.
#pragma once

#include <string>
#include <vector>

#include "experiment/node_process.h"

namespace fluidedge::testing {

using experiment::NodeProcess;

// This build's fluidedge-node.
std::string host_node_binary();

// Starts node `name` on `listen` with `extra` arguments (and --insecure unless they give it
// --tls). `command` runs a fluidedge-node binary: this build's by default; or e.g.
// "ip netns exec NS BINARY", or an emulator and a foreign binary.
NodeProcess start_node(const std::string& name, const std::string& listen = "127.0.0.1:0",
                       std::vector<std::string> extra = {}, std::vector<std::string> command = {host_node_binary()});

// Where the trained test models are (made by the train_cluster_models fixture).
std::string cluster_models_dir();

}  // namespace fluidedge::testing
