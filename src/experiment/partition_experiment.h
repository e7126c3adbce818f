// The partitioning paper's experiment, end to end, with real device-node processes on this
// machine. Two heterogeneous devices are profiled here (each on the core its node will run on,
// scaled by its slowdown) and declared in a system.yaml, or taken as a given system.yaml
// declares them; the partitioner finds the best single device and the best two-stage split;
// both are deployed through the coordinator's Static pipeline on nodes that emulate those
// devices (the second behind an emulated link), and predicted throughput is set against
// measured, per model, with the stage or link that explains any gap. The search is also timed
// on chains of 2, 3 and 4 devices, exact against NSGA-II. `fluidedge bench partition` and
// `fluidedge demo` run it and render its report.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fluidedge::experiment {

// The paper's CNNs (CNNParted's seven), and its EfficientNet-B0 gain of the best two-device split.
inline constexpr const char* kPartitionPaperModels =
    "alexnet,efficientnet_b0,googlenet,regnet_x_400mf,resnet50,squeezenet1_1,vgg16";
inline constexpr double kPaperEfficientNetGain = 0.475;

struct PartitionExperimentOptions {
  std::vector<std::string> models;  // zoo names; empty: kPartitionPaperModels
  // Both devices slower than this host's core, so the host's own jitter (another process, a cold
  // cache) fits inside the emulated time instead of showing in it; dev2 1.6 times slower than dev1.
  std::vector<double> slowdowns{2.0, 3.2};
  double link_rate = 200;  // Mbit/s, dev1 -> dev2
  double link_latency = 0.2;
  double seconds = 4;  // streamed per deployment
  int concurrency = 4;
  int repeats = 20;  // timed runs per profile step
  std::string out = "runs/bench-partition";
  // A system.yaml of two devices to plan for and emulate, as declared (analytic or profiled),
  // instead of this host's profile scaled by `slowdowns`; its first link is dev1 -> dev2's.
  std::string system_file;
  bool explore_only = false;  // profiles and exploration only, nothing deployed
  std::string backend;        // the nodes' and their profiles'; empty: runtime::default_backend()
  bool tls = true;            // mutual TLS between the client and the nodes (a throwaway CA)
  std::string node_binary;    // fluidedge-node
  // The two devices' precisions (fp32 | int8) for a second setting run beside the all-fp32 one:
  // each device profiled in its precision, the front's plans scored on accuracy with each stage
  // quantized as its device runs it, and the split deployed with an int8 device's stage quantized
  // (the CNNParted setting, where one device computes in 8 bits). Empty: the fp32 setting only.
  // Not with system_file (its devices declare their precision).
  std::vector<std::string> precisions;
  int64_t accuracy_samples = 32;  // random inputs the front's plans are scored on (reduced precision only)
};

struct PartitionSettings {
  bool pinned = false;  // each device's node (and its profile) on its own core
  std::string backend;
  double link_rate = 0, link_latency = 0;  // as emulated (from --system: its first link, headers off)
  std::string load_average_before, load_average_after;
};

// The exact search against NSGA-II on a chain of `devices`.
struct ChainExploration {
  int devices = 0;
  int64_t space_size = 0;
  double exact_ms = 0, nsga2_ms = 0;
  size_t exact_front = 0, nsga2_front = 0;
  double exact_best_ips = 0, nsga2_best_ips = 0;
};

struct FrontPlan {
  std::vector<std::string> devices, cut_after;
  double throughput_ips = 0, latency_ms = 0, energy_mj = 0, peak_memory_mb = 0;
  int64_t link_bytes = 0;
  bool deployed = false;  // the split this run deployed
  // Reduced precision only: top-1 agreement with the float model, and ||plan - float|| / ||float||
  // of the scores (informative where the model's top-1 hardly moves, as a random-weight zoo model's).
  std::optional<double> agreement, output_error;
};

// One deployment's node, predicted against measured.
struct MeasuredStage {
  std::string device;
  double predicted_ms = 0, measured_ms = 0, host_ms = 0;
  int64_t overruns = 0;
  std::string backend;
};

struct DeviceAlone {
  double predicted_ips = 0, measured_ips = 0;
  MeasuredStage stage;
  std::optional<double> agreement, output_error;  // the whole model at the device's precision (as FrontPlan's)
};

struct MeasuredSplit {
  std::string devices[2];
  std::string cut_after;
  int position = 0;
  std::vector<std::string> tensors;  // on the link
  int64_t link_bytes = 0;
  double link_busy_ms = 0, link_ms = 0;
  std::string predicted_bottleneck;  // "stage 1", "stage 2" or "the link"
  std::vector<MeasuredStage> stages;
  double energy_mj = 0, memory_mb[2] = {0, 0};
  int64_t failed = 0;
  double predicted_ips = 0, measured_ips = 0;
  // The pipeline model fed with the nodes' measured stage times instead of the profile's.
  double remodelled_ips = 0;
  double gain_predicted = 0, gain_measured = 0;  // over the best single device
  std::string gap;                               // what explains the gap between predicted and measured
};

struct PartitionModelResult {
  std::string model;
  std::vector<std::string> precisions;  // dev1's and dev2's
  std::string label;                    // the model, and its precisions unless all fp32
  std::string accuracy_samples;         // what `agreement` was measured on (reduced precision only)
  double explore_ms = 0;                // the two-device search
  size_t nodes = 0;
  std::vector<std::pair<double, double>> host_profile;  // per device: this host's total and run ms (not --system)
  std::vector<FrontPlan> front;
  std::string device_names[2];
  bool deployed = false;  // false: explore_only
  DeviceAlone alone[2];
  std::string single_device;  // the best measured
  double single_ips = 0, single_predicted_ips = 0, single_energy_mj = 0, single_memory_mb = 0;
  std::optional<MeasuredSplit> split;  // none on the front: every split dominated by a device alone
  std::optional<std::vector<ChainExploration>> exploration;  // not with system_file
};

struct PartitionReport {
  PartitionExperimentOptions options;
  PartitionSettings settings;
  std::vector<PartitionModelResult> models;
  double explore_total_ms = 0;  // every model's two-device search
  double chains_exact_ms = 0, chains_nsga2_ms = 0;
};

// Called as the experiment goes (from its thread), for progress output.
struct PartitionProgress {
  std::function<void(const PartitionSettings&)> started;
  std::function<void(const PartitionModelResult&)> model;
};

// Throws Error for a bad option (slowdowns, unknown model, a system file of other than two devices).
PartitionReport run_partition_experiment(const PartitionExperimentOptions& options,
                                         const PartitionProgress& progress = {});

}  // namespace fluidedge::experiment
