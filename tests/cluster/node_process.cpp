#include "node_process.h"

#include <signal.h>

#include "common/error.h"

namespace fluidedge::testing {

NodeProcess::NodeProcess(std::string name, std::string listen, std::vector<std::string> extra,
                         std::vector<std::string> launcher)
    : name_(std::move(name)), extra_(std::move(extra)), launcher_(std::move(launcher)) {
  launch(listen);
}

void NodeProcess::launch(const std::string& listen) {
  std::vector<std::string> argv = launcher_;
  argv.insert(argv.end(), {FLUIDEDGE_NODE_CLI, "node", "--name", name_, "--listen", listen});
  argv.insert(argv.end(), extra_.begin(), extra_.end());
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

std::string cluster_models_dir() { return std::string(FLUIDEDGE_TEST_DATA) + "/cluster"; }

}  // namespace fluidedge::testing
