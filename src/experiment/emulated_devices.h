// The devices an experiment's nodes emulate: the system file both the nodes (`--emulate`) and
// the partitioner read, so the two agree on what each device takes; and how fast this machine
// is, to warn when it cannot keep up with what it emulates.
#pragma once

#include <string>

namespace fluidedge::experiment {

// Writes PATH: a system.yaml of `count` identical devices dev1, dev2, ... of `gflops` (an achieved
// rate: efficiency 1) and `bandwidth_gbps`, chained by links of `link_rate` Mbit/s (0: none, written
// as a very fast one) and `link_latency` ms. Returns PATH.
std::string write_emulated_system(const std::string& path, int count, double gflops, double bandwidth_gbps,
                                  double link_rate, double link_latency);

// How fast one core of this machine runs `model` on `backend`, in GFLOP/s (2 x MACs per second)
// at batch `batch`: the median CPU time of repeated runs (CPU time, as the nodes measure it for
// their slowdown, so other load does not skew it).
double host_gflops(const std::string& model, const std::string& backend, int batch);

}  // namespace fluidedge::experiment
