// The emulated devices of the cluster benches (`bench fluid`, `bench soak`): each a
// fluidedge-node process on its own core behind an emulated link, which the bench can kill,
// freeze and bring back on the same address; and what such a bench needs before it starts
// (trained models, the system file of the devices it emulates, this machine's speed).
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
  std::string emulate;        // SYSTEM.yaml:DEVICE the node emulates (fluidedge-node --emulate); empty: this host's speed
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

// Trains `variant` into MODELS/VARIANT unless a training with the same data and epochs is there
// (its metrics.json), which is reused; one with other settings is an Error (nothing is
// overwritten). `who` names the bench in the progress line and the error.
struct TrainingReuse {
  bool reused = false;
  double seconds = 0;  // the training's time (when reused: what it took then)
};
TrainingReuse ensure_trained(const std::string& models, const std::string& variant, const std::string& data, int epochs,
                             const std::string& who);

// Writes PATH: a system.yaml of `count` identical devices dev1, dev2, ... of `gflops` (an achieved
// rate: efficiency 1) and `bandwidth_gbps`, chained by links of `link_rate` Mbit/s (0: none, written
// as a very fast one) and `link_latency` ms. The benches' nodes emulate these devices
// (DeviceSettings::emulate = PATH:devN) and the partitioner plans for the same file, so the two
// agree on what each device takes. Returns PATH.
std::string write_emulated_system(const std::string& path, int count, double gflops, double bandwidth_gbps,
                                  double link_rate, double link_latency);

// How fast one core of this machine runs MODELS/static/model.onnx on `backend`, in GFLOP/s
// (2 x MACs per second) at batch `max_batch`: the median CPU time of repeated runs.
double host_gflops(const std::string& models, const std::string& backend, int max_batch);

}  // namespace fluidedge::cli
