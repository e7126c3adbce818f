// A fluidedge-node process on this machine, as the experiments (`bench fluid`, `bench soak`,
// `bench partition`) and the cluster tests run devices: started on a free loopback port (or a
// given address), and killed, frozen or brought back on the same address like a failing board.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/subprocess.h"

#include "cluster/tls.h"

namespace fluidedge::experiment {

// The flags of an emulated device (`fluidedge-node node ...`), for NodeProcess's arguments.
struct DeviceSettings {
  int max_batch = 8;
  double link_rate = 100;             // Mbit/s (0: none)
  double link_latency = 0.5;          // ms each way (0: none)
  std::string emulate;                // SYSTEM.yaml:DEVICE the node emulates (--emulate); empty: this host's speed
  std::string backend;                // empty: the node's own choice
  std::vector<std::string> security;  // --tls DIR or --insecure
  int cpu = -1;                       // pinned to this core (-1: not pinned)
};
std::vector<std::string> device_arguments(const DeviceSettings& settings);

class NodeProcess {
 public:
  // Starts `command` (a fluidedge-node binary; or e.g. "ip netns exec NS BINARY", or an
  // emulator and a foreign binary) with `node --name NAME --listen LISTEN` and `arguments`, and
  // waits for its "listening on" line. Throws Error naming the node if it does not start.
  NodeProcess(std::vector<std::string> command, std::string name, std::vector<std::string> arguments,
              const std::string& listen = "127.0.0.1:0");

  // Kill -9: the process is gone until revive() or restart().
  void kill();
  // SIGSTOP: the process and its sockets stay, nothing answers (a hung board) until resume().
  void freeze();
  void resume();
  // Back on the same address: restarted if killed, continued if frozen.
  void revive();
  // Killed (if running) and started again on the same address.
  void restart();
  // SIGTERM, and the exit code (the process is gone after it).
  int terminate();

  bool alive() const { return alive_; }
  bool frozen() const { return frozen_; }
  // Resident memory of the running process, MiB (0 when killed).
  double rss_mib() const;
  pid_t pid() const;
  const std::string& name() const { return name_; }
  const std::string& address() const { return address_; }

 private:
  void start(const std::string& listen);
  std::vector<std::string> command_;
  std::string name_, address_;
  std::vector<std::string> arguments_;
  std::unique_ptr<Subprocess> process_;
  bool alive_ = false, frozen_ = false;
};

// Starts nodes dev1 ... dev`count` from `node_binary`, node i with `settings` emulating device
// "dev<i>" of `system_file` with the certificate `certs` issued to it, pinned to core i-1 when
// `pin`.
std::vector<std::unique_ptr<NodeProcess>> start_emulated_nodes(const std::string& node_binary, int count,
                                                               const std::string& system_file, DeviceSettings settings,
                                                               const cluster::LocalCertificates& certs, bool pin);

}  // namespace fluidedge::experiment
