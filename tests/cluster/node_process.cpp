#include "node_process.h"

#include <algorithm>

namespace fluidedge::testing {

NodeProcess start_node(const std::string& name, const std::string& listen, std::vector<std::string> extra,
                       std::vector<std::string> command) {
  if (std::find(extra.begin(), extra.end(), "--tls") == extra.end()) extra.push_back("--insecure");
  return NodeProcess(std::move(command), name, std::move(extra), listen);
}

std::string host_node_binary() { return FLUIDEDGE_NODE_CLI; }

std::string cluster_models_dir() { return std::string(FLUIDEDGE_TEST_DATA) + "/cluster"; }

}  // namespace fluidedge::testing
