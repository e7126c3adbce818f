#include "node_process.h"

#include <signal.h>

#include <algorithm>

#include "common/error.h"

namespace fluidedge::testing {

NodeProcess::NodeProcess(std::string name, std::string listen, std::vector<std::string> extra,
                         std::vector<std::string> command)
    : name_(std::move(name)), extra_(std::move(extra)), command_(std::move(command)) {
  launch(listen);
}

void NodeProcess::launch(const std::string& listen) {
  std::vector<std::string> argv = command_;
  argv.insert(argv.end(), {"node", "--name", name_, "--listen", listen});
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  // Plaintext unless the test gives the node a certificate (the TLS tests do).
  if (std::find(extra_.begin(), extra_.end(), "--tls") == extra_.end()) argv.push_back("--insecure");
  process_ = std::make_unique<Subprocess>(argv, /*quiet_stderr=*/true);
  std::string line = process_->read_line(20000);
  const std::string prefix = "listening on ";
  if (line.rfind(prefix, 0) != 0) fail("node {} printed '{}' instead of its address", name_, line);
  address_ = line.substr(prefix.size());
}

void NodeProcess::kill(int signal) { process_->kill(signal); }

void NodeProcess::restart() {
  process_->kill(SIGKILL);
  process_->wait(5000);
  launch(address_);
}

int NodeProcess::terminate() {
  process_->kill(SIGTERM);
  return process_->wait(10000);
}

std::string host_node_binary() { return FLUIDEDGE_NODE_CLI; }

std::string cluster_models_dir() { return std::string(FLUIDEDGE_TEST_DATA) + "/cluster"; }

}  // namespace fluidedge::testing
