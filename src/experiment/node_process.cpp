#include "experiment/node_process.h"

#include <signal.h>

#include <fstream>

#include <fmt/format.h>

#include "common/error.h"

namespace fluidedge::experiment {

std::vector<std::string> device_arguments(const DeviceSettings& s) {
  std::vector<std::string> args = {"--max-batch", std::to_string(s.max_batch)};
  if (s.link_rate > 0) args.insert(args.end(), {"--link-rate", fmt::format("{}", s.link_rate)});
  if (s.link_latency > 0) args.insert(args.end(), {"--link-latency", fmt::format("{}", s.link_latency)});
  if (!s.backend.empty()) args.insert(args.end(), {"--backend", s.backend});
  if (!s.emulate.empty()) args.insert(args.end(), {"--emulate", s.emulate});
  args.insert(args.end(), s.security.begin(), s.security.end());
  if (s.cpu >= 0) args.insert(args.end(), {"--cpu", std::to_string(s.cpu)});
  return args;
}

NodeProcess::NodeProcess(std::vector<std::string> command, std::string name, std::vector<std::string> arguments,
                         const std::string& listen)
    : command_(std::move(command)), name_(std::move(name)), arguments_(std::move(arguments)) {
  start(listen);
}

void NodeProcess::start(const std::string& listen) {
  std::vector<std::string> argv = command_;
  argv.insert(argv.end(), {"node", "--name", name_, "--listen", listen});
  argv.insert(argv.end(), arguments_.begin(), arguments_.end());
  process_ = std::make_unique<Subprocess>(argv, /*quiet_stderr=*/true);
  const std::string line = process_->read_line(20000);
  const std::string prefix = "listening on ";
  if (line.rfind(prefix, 0) != 0)
    fail("device node {} did not start: it printed '{}' instead of its address", name_, line);
  address_ = line.substr(prefix.size());
  alive_ = true;
  frozen_ = false;
}

void NodeProcess::kill() {
  if (!alive_) return;
  process_->kill(SIGKILL);
  process_->wait(5000);
  alive_ = false;
  frozen_ = false;
}

void NodeProcess::freeze() {
  if (!alive_ || frozen_) return;
  process_->kill(SIGSTOP);
  frozen_ = true;
}

void NodeProcess::resume() {
  if (!frozen_) return;
  process_->kill(SIGCONT);
  frozen_ = false;
}

void NodeProcess::revive() {
  if (frozen_) resume();
  if (!alive_) start(address_);
}

void NodeProcess::restart() {
  kill();
  start(address_);
}

int NodeProcess::terminate() {
  if (!alive_) return -1;
  resume();
  process_->kill(SIGTERM);
  alive_ = false;
  return process_->wait(10000);
}

pid_t NodeProcess::pid() const { return alive_ ? process_->pid() : -1; }

double NodeProcess::rss_mib() const {
  if (!alive_) return 0;
  std::ifstream status(fmt::format("/proc/{}/status", process_->pid()));
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // "VmRSS:  1234 kB"
  return 0;
}

std::vector<std::unique_ptr<NodeProcess>> start_emulated_nodes(const std::string& node_binary, int count,
                                                               const std::string& system_file, DeviceSettings settings,
                                                               const cluster::LocalCertificates& certs, bool pin) {
  std::vector<std::unique_ptr<NodeProcess>> nodes;
  for (int i = 0; i < count; ++i) {
    const std::string name = fmt::format("dev{}", i + 1);
    settings.emulate = system_file + ":" + name;
    settings.security = certs.node_arguments(name);
    settings.cpu = pin ? i : -1;
    nodes.push_back(
        std::make_unique<NodeProcess>(std::vector<std::string>{node_binary}, name, device_arguments(settings)));
  }
  return nodes;
}

}  // namespace fluidedge::experiment
