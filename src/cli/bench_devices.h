// The emulated devices of the cluster benches (`bench fluid`, `bench soak`): each a
// fluidedge-node process on its own core behind an emulated link, which the bench can kill,
// freeze and bring back on the same address; and what such a bench needs before it starts
// (trained models, this machine's speed for the emulation).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/subprocess.h"

namespace fluidedge::cli {

struct DeviceSettings {
  int max_batch = 8;
  double link_rate = 100;     // Mbit/s (0: none)
  double link_latency = 0.5;  // ms each way
  double slowdown = 1;        // CPU slowdown (see fluidedge-node --slowdown)
  std::string backend;
  std::vector<std::string> security;  // --tls DIR or --insecure
  int cpu = -1;                       // pinned to this core (-1: not pinned)
};

class BenchDevice {
 public:
  BenchDevice(std::string name, const DeviceSettings& settings);
  // Kill -9: the process is gone until revive().
  void kill();
  // SIGSTOP: the process and its sockets stay, nothing answers (a hung board) until resume().
  void freeze();
  void resume();
  // Back on the same address: restarted if killed, continued if frozen.
  void revive();
  bool alive() const { return alive_; }
  bool frozen() const { return frozen_; }
  // Resident memory of the running process, MiB (0 when killed).
  double rss_mib() const;
  pid_t pid() const;
  const std::string& name() const { return name_; }
  const std::string& address() const { return address_; }

 private:
  void start(const std::string& listen);
  std::string name_, address_;
  std::vector<std::string> args_;
  std::unique_ptr<Subprocess> process_;
  bool alive_ = true, frozen_ = false;
};

// The running fluidedge binary (to train with, as a child).
std::string self_binary();

// Trains `variant` into MODELS/VARIANT unless a training is there (its metrics.json); `who`
// names the bench in the progress line.
void ensure_trained(const std::string& models, const std::string& variant, const std::string& data, int epochs,
                    const std::string& who);

// How fast one core of this machine runs MODELS/static/model.onnx on `backend`, in GFLOP/s
// (2 x MACs per second) at batch `max_batch`: the median CPU time of repeated runs.
double host_gflops(const std::string& models, const std::string& backend, int max_batch);

}  // namespace fluidedge::cli
