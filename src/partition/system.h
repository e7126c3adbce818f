// The description of the devices and links a model is partitioned over (system.yaml): what
// each device can do (a measured per-node profile or an analytic roofline model), how the
// devices are chained by links, the constraints a plan must meet and the objectives to trade.
// Everything a user can get wrong in that file ends in one Error naming the file and the field.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fluidedge::partition {

// Numeric format of a device's arithmetic or of the tensors sent over a link.
enum class Precision { kFp32, kFp16, kInt8 };

// Bytes per element of a float tensor stored in `precision` (4, 2, 1).
int precision_bytes(Precision precision);
const char* precision_name(Precision precision);  // "fp32", "fp16", "int8"
// Parses "fp32" | "fp16" | "int8"; an Error naming `where` otherwise.
Precision parse_precision(const std::string& text, const std::string& where);

// What a plan is judged on. All are reported for every plan; the chosen ones span the front.
enum class Objective { kThroughput, kLatency, kEnergy, kMemory, kLinkBytes };

const char* objective_name(Objective objective);  // "throughput", "latency", ...
Objective parse_objective(const std::string& text, const std::string& where);

// Per-node latency measured on the device (`fluidedge profile`), keyed by node name.
struct DeviceProfile {
  std::string path;    // as resolved when loading, for messages
  std::string device;  // the "device" field of the file
  int batch = 1;
  // The arithmetic the nodes were timed in (`fluidedge profile --precision`); a device's
  // precision must be its profile's.
  Precision precision = Precision::kFp32;
  std::map<std::string, double> node_ms;
  double total_ms = 0;
};

struct DeviceSpec {
  std::string name;
  // Exactly one of the two ways of costing a node: a measured profile, or the analytic
  // roofline model (peak_gflops and memory_bandwidth_gbps both set).
  std::optional<DeviceProfile> profile;
  double peak_gflops = 0;            // at `precision`
  double memory_bandwidth_gbps = 0;  // GB/s
  double efficiency = 0.5;           // fraction of peak that conv/gemm reach
  double memory_mb = 0;              // 0: no limit stated
  double active_power_w = 0;
  double idle_power_w = 0;
  Precision precision = Precision::kFp32;

  bool analytic() const { return !profile.has_value(); }
};

// A link between two consecutive devices of the chain.
struct LinkSpec {
  double rate_mbps = 0;   // > 0
  double latency_ms = 0;  // one-way, per message
  double overhead = 0;    // framing bytes per payload byte (0.05 for Ethernet/IP/TCP)
  // Energy: per transmitted bit, or the transmitter's power while it sends (at most one).
  double energy_nj_per_bit = 0;
  double power_w = 0;
  // Whether data may flow either way; only then is the reversed chain order a candidate.
  bool bidirectional = true;
};

struct Constraints {
  // Per-device memory limit in MB (one entry per device; 0 = none). Overrides memory_mb.
  std::vector<double> max_memory_mb;
  double target_fps = 0;      // 0: none; else every link must carry this frame rate
  double max_latency_ms = 0;  // 0: none
  double min_accuracy = 0;    // 0: none; kept for the accuracy estimator, not used by the cost model
};

struct SystemDescription {
  std::string source;               // file name for messages ("system.yaml")
  std::vector<DeviceSpec> devices;  // in chain order: links[i] joins devices[i] and devices[i+1]
  std::vector<LinkSpec> links;      // devices.size() - 1 entries
  Constraints constraints;
  std::vector<Objective> objectives{Objective::kThroughput, Objective::kLatency, Objective::kEnergy};

  // The memory limit of device `d` in bytes, or 0 for none (constraint first, then device).
  double memory_limit_bytes(size_t d) const;
};

// Reads and validates a system file; relative profile paths are resolved against its directory.
SystemDescription load_system(const std::filesystem::path& path);

// The same from text; `source_name` names the file in messages and relative profile paths
// are resolved against `base_dir`.
SystemDescription parse_system(const std::string& yaml_text, const std::string& source_name,
                               const std::filesystem::path& base_dir = {});

// Reads a profile.json written by `fluidedge profile`.
DeviceProfile load_device_profile(const std::filesystem::path& path);

}  // namespace fluidedge::partition
