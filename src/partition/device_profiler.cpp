#include "partition/device_profiler.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/statistics.h"
#include "graph/shape_inference.h"
#include "partition/plan_accuracy.h"
#include "quantize/post_training.h"
#include "runtime/backends.h"

namespace fluidedge::partition {

namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == 0) return "this-machine";
  return buf;
}

// Random inputs are enough to calibrate a model that is only timed: the kernels run the same
// whatever the ranges.
constexpr int64_t kTimingCalibrationSamples = 4;

// The node of `model` each node of `quantized` stands for: itself where the QDQ writer kept its
// name; a QuantizeLinear or DequantizeLinear the writer added stands for the node that computes
// the activation it converts (for a graph input, the first node that reads it), a node that
// survives in every stage file holding that activation (the emulation of a device sums a
// stage's profile times by its node names).
std::map<std::string, std::string> original_owners(const graph::Graph& model, const graph::Graph& quantized) {
  std::set<std::string> names;
  std::map<std::string, std::string> first_reader;
  for (const auto& n : model.nodes) {
    names.insert(n.name);
    for (const auto& i : n.inputs) first_reader.try_emplace(i, n.name);
  }
  std::map<std::string, std::string> owner, value_owner;  // value of `quantized` -> its producer's owner
  for (const auto& n : quantized.nodes) {
    std::string who;
    if (names.count(n.name)) {
      who = n.name;
    } else {
      for (const auto& in : n.inputs) {
        if (auto v = value_owner.find(in); v != value_owner.end())
          who = v->second;
        else if (auto r = first_reader.find(in); r != first_reader.end() && !quantized.initializer(in))
          who = r->second;
        if (!who.empty()) break;
      }
    }
    if (who.empty()) continue;  // works on constants only: folded away
    owner[n.name] = who;
    for (const auto& o : n.outputs) value_owner[o] = who;
  }
  return owner;
}

}  // namespace

MeasuredProfile measure_device_profile(const graph::Graph& model, const ProfileOptions& options) {
  if (options.repeats < 1) fail("--repeats must be at least 1 (got {})", options.repeats);
  if (options.threads < 1) fail("--threads must be at least 1 (got {})", options.threads);
  if (!(options.scale > 0)) fail("the profile scale must be positive (got {})", options.scale);
  graph::Graph g = model;
  if (graph::graph_batch(g) != 1) graph::set_batch(g, 1);

  MeasuredProfile m;
  m.model = g.name;
  m.options = options;
  if (m.options.device.empty()) m.options.device = host_name();

  runtime::SessionOptions so;
  so.threads = options.threads;
  if (m.options.backend.empty()) m.options.backend = runtime::default_backend();
  // What is timed, and which node of the model each of its nodes stands for (itself in fp32).
  graph::Graph timed;
  std::map<std::string, std::string> owner;
  if (options.precision == Precision::kFp16)
    fail("--precision fp16: no fluidedge backend runs fp16; describe an fp16 device analytically in system.yaml");
  if (options.precision == Precision::kInt8) {
    timed = quantize::quantize_model(g, random_samples(g, kTimingCalibrationSamples, options.seed), {}).graph;
    owner = original_owners(g, timed);
  }
  auto owner_of = [&owner](const std::string& name) -> const std::string& {
    auto it = owner.find(name);
    return it == owner.end() ? name : it->second;
  };
  runtime::register_lean_backends();
  std::unique_ptr<runtime::Session> owned =
      runtime::make_session(m.options.backend, options.precision == Precision::kInt8 ? timed : g, so);
  runtime::Session& session = *owned;
  runtime::TensorMap inputs = random_samples(g, 1, options.seed).inputs;
  std::vector<runtime::StepTiming> steps = session.profile(inputs, options.repeats);
  m.steps = static_cast<int64_t>(steps.size());

  // Attribution: reorders go to the kernel that follows them (it asked for the layout).
  std::map<std::string, double> ms;
  std::map<std::string, int> reorders;
  std::map<std::string, std::string> fused_into;
  double pending = 0;
  int pending_reorders = 0;
  std::string last_kernel;
  for (const auto& s : steps) {
    if (s.op_type == "Reorder") {
      pending += s.ms;
      ++pending_reorders;
      continue;
    }
    const std::string& name = owner_of(s.name);
    ms[name] += s.ms + pending;
    reorders[name] += pending_reorders;
    pending = 0;
    pending_reorders = 0;
    last_kernel = name;
    for (const auto& f : s.fused)
      if (owner_of(f) != name) fused_into[owner_of(f)] = name;
  }
  if (pending > 0 && !last_kernel.empty()) {
    ms[last_kernel] += pending;
    reorders[last_kernel] += pending_reorders;
  }

  for (const auto& node : g.nodes) {
    ProfiledNode p;
    p.name = node.name;
    p.op_type = node.op_type;
    if (auto it = ms.find(node.name); it != ms.end()) {
      p.ms = it->second * options.scale;
      p.reorders = reorders[node.name];
    } else if (auto f = fused_into.find(node.name); f != fused_into.end()) {
      p.fused_into = f->second;
    } else {
      p.folded = true;
    }
    m.total_ms += p.ms;
    m.nodes.push_back(std::move(p));
  }

  // Whole runs, as a node serves them (no synchronisation between steps).
  std::vector<double> runs;
  for (int r = 0; r < options.repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    session.run(inputs);
    runs.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  m.run_ms = percentile(runs, 0.5) * options.scale;
  return m;
}

DeviceProfile MeasuredProfile::profile() const {
  DeviceProfile p;
  p.device = options.device;
  p.batch = 1;
  p.precision = options.precision;
  p.total_ms = total_ms;
  for (const auto& n : nodes) p.node_ms[n.name] += n.ms;
  return p;
}

std::string MeasuredProfile::json() const {
  nlohmann::ordered_json j;
  j["device"] = options.device;
  j["model"] = model;
  j["backend"] = options.backend;
  j["batch"] = 1;
  j["precision"] = precision_name(options.precision);
  j["threads"] = options.threads;
  j["repeats"] = options.repeats;
  j["scale"] = options.scale;
  j["total_ms"] = total_ms;
  j["run_ms"] = run_ms;
  j["steps"] = steps;
  auto list = nlohmann::ordered_json::array();
  for (const auto& n : nodes) {
    nlohmann::ordered_json e{{"name", n.name}, {"op_type", n.op_type}, {"ms", n.ms}};
    if (!n.fused_into.empty()) e["fused_into"] = n.fused_into;
    if (n.folded) e["folded"] = true;
    if (n.reorders > 0) e["reorders"] = n.reorders;
    list.push_back(std::move(e));
  }
  j["nodes"] = std::move(list);
  return j.dump(1) + "\n";
}

}  // namespace fluidedge::partition
