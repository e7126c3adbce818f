// A real `fluidedge-node` process for tests: started on a free loopback port (or a given one, to
// come back where it was), killed or stopped like a failing device.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/subprocess.h"

namespace fluidedge::testing {

// This build's fluidedge-node.
std::string host_node_binary();

class NodeProcess {
 public:
  // Starts the node and waits for its "listening on" line. `command` runs a fluidedge-node binary
  // (this build's by default; or e.g. "ip netns exec NS BINARY", or an emulator and a foreign
  // binary); the node's own arguments follow it.
  NodeProcess(std::string name, std::string listen = "127.0.0.1:0", std::vector<std::string> extra = {},
              std::vector<std::string> command = {host_node_binary()});
  const std::string& address() const { return address_; }
  const std::string& name() const { return name_; }
  pid_t pid() const { return process_->pid(); }
  void kill(int signal);
  // Starts it again on the same address (after kill -9).
  void restart();
  // SIGTERM and wait: the exit code.
  int terminate();

 private:
  void launch(const std::string& listen);
  std::string name_, address_;
  std::vector<std::string> extra_, command_;
  std::unique_ptr<Subprocess> process_;
};

// Where the trained test models are (made by the train_cluster_models fixture).
std::string cluster_models_dir();

}  // namespace fluidedge::testing
