#include "experiment/partition_experiment.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cluster/model_directory.h"
#include "cluster/tls.h"
#include "common/atomic_file.h"
#include "common/cpu_affinity.h"
#include "common/error.h"
#include "experiment/node_process.h"
#include "experiment/pipeline_measurement.h"
#include "partition/cut.h"
#include "partition/device_profiler.h"
#include "partition/plan_accuracy.h"
#include "partition/search.h"
#include "runtime/backends.h"
#include "zoo/zoo.h"

namespace fluidedge::experiment {
namespace {

namespace fs = std::filesystem;
using namespace fluidedge::partition;

// One device: a fluidedge-node process on its own core, emulating `emulate` (SYSTEM.yaml:DEVICE,
// the device the partitioner planned on).
NodeProcess start_device(const std::string& name, const PartitionExperimentOptions& o,
                         const cluster::LocalCertificates& certs, int cpu, const std::string& emulate, double link_rate,
                         double link_latency) {
  DeviceSettings d{1, link_rate, link_latency, emulate, o.backend, certs.node_arguments(name), cpu};
  return NodeProcess({o.node_binary}, name, device_arguments(d));
}

// /proc/loadavg's 1, 5 and 15 minute averages: the machine is shared, and other work on its cores
// moves every measurement here.
std::string load_average() {
  std::ifstream in("/proc/loadavg");
  double a = 0, b = 0, c = 0;
  if (!(in >> a >> b >> c)) return "unknown";
  return fmt::format("{:.2f} {:.2f} {:.2f} on {} cores", a, b, c, std::thread::hardware_concurrency());
}

// The profile measured here, as a device `slowdown` times slower would show it.
MeasuredProfile scaled(const MeasuredProfile& base, const std::string& device, double slowdown) {
  MeasuredProfile p = base;
  p.options.device = device;
  p.options.scale = slowdown;
  p.total_ms = 0;
  for (auto& n : p.nodes) {
    n.ms *= slowdown;
    p.total_ms += n.ms;
  }
  p.run_ms *= slowdown;
  return p;
}

// A chain of `devices` emulated devices (profiles dev1.json ... devN.json next to the file), every
// link the experiment's link; device d computes in precisions[d % 2].
std::string system_yaml(const PartitionExperimentOptions& o, const std::vector<Precision>& precisions,
                        int devices = 2) {
  std::string yaml =
      fmt::format("# written by fluidedge bench partition: {} emulated devices on this machine\ndevices:\n", devices);
  for (int d = 0; d < devices; ++d)
    yaml += fmt::format(
        "  - {{name: dev{0}, profile: dev{0}.json, active_power_w: 6.4, idle_power_w: 2.7, precision: {1}}}\n", d + 1,
        precision_name(precisions[static_cast<size_t>(d % 2)]));
  yaml += "links:\n";
  for (int l = 0; l + 1 < devices; ++l)
    yaml += fmt::format(
        "  - {{rate_mbps: {}, latency_ms: {}, overhead: 0, energy_nj_per_bit: 0.6, bidirectional: false}}\n",
        o.link_rate > 0 ? o.link_rate : 1e6, o.link_latency);
  yaml += "objectives: [throughput, latency]\n";
  return yaml;
}

// The exploration on 2, 3 and 4 devices (dev3 is another board like dev1, dev4 like dev2): the
// exact search against NSGA-II (the peer: the heuristic the paper's framework uses) on the same
// system, each timed. The exact front's best throughput is never below NSGA-II's.
std::vector<ChainExploration> explore_chains(const graph::Graph& g, const fs::path& dir,
                                             const PartitionExperimentOptions& o, PartitionReport& report) {
  std::vector<ChainExploration> runs;
  for (int devices = 2; devices <= 4; ++devices) {
    const fs::path file = dir / fmt::format("system-{}.yaml", devices);
    write_file_atomically(file.string(), "", system_yaml(o, {Precision::kFp32, Precision::kFp32}, devices));
    SystemDescription system = load_system(file);
    SearchOptions exact, heuristic;
    exact.algorithm = SearchAlgorithm::kExact;
    heuristic.algorithm = SearchAlgorithm::kNsga2;
    SearchResult e = search_plans(g, system, exact);
    SearchResult h = search_plans(g, system, heuristic);
    auto best = [](const SearchResult& r) {
      double fps = 0;
      for (const auto& p : r.front) fps = std::max(fps, p.throughput_fps);
      return fps;
    };
    report.chains_exact_ms += e.seconds * 1000;
    report.chains_nsga2_ms += h.seconds * 1000;
    runs.push_back({devices, static_cast<int64_t>(e.space_size), e.seconds * 1000, h.seconds * 1000, e.front.size(),
                    h.front.size(), best(e), best(h)});
  }
  return runs;
}

MeasuredStage measured_stage(const std::string& device, double predicted_ms, const PipelineMeasurement& m, size_t s) {
  return {device, predicted_ms, m.node_ms.at(s), m.host_ms.at(s), m.overruns.at(s), m.backends.at(s)};
}

// What explains the gap between a split's predicted and measured throughput: the stage (or the
// link, which the nodes' times do not contain) furthest from its prediction, and whether the
// pipeline model holds when fed the nodes' measured stage times.
void explain_gap(const PlanCost& split, const PipelineMeasurement& m, MeasuredSplit& out) {
  std::string gap;
  double worst = 1;
  for (int s = 0; s < 2; ++s) {
    double off = m.node_ms[s] / split.stage_ms[s];
    if (gap.empty() || std::abs(std::log(off)) > std::abs(std::log(worst))) {
      worst = off;
      gap = fmt::format("stage {} on dev{} takes {:.2f} ms per request, {:.0f} % of the predicted {:.2f} ms", s + 1,
                        split.plan.devices[s] + 1, m.node_ms[s], 100 * off, split.stage_ms[s]);
    }
  }
  // If the model fed with measured stage times matches the measured throughput, the model of the
  // pipeline holds and the gap is in the stages' compute; if not, the link or the hand-off
  // between stages is what it misses.
  const double measured_period = 1000.0 / m.ips;
  const double slowest_node = std::max(m.node_ms[0], m.node_ms[1]);
  out.remodelled_ips = 1000.0 / std::max(slowest_node, out.link_busy_ms);
  if (out.remodelled_ips <= 1.15 * m.ips)
    gap += fmt::format(
        "; with the nodes' measured stage times the pipeline model predicts {:.2f}/s ({:+.0f} % of "
        "measured): the gap is the stages' compute on the nodes, not the link",
        out.remodelled_ips, 100 * (out.remodelled_ips / m.ips - 1));
  else
    gap += fmt::format(
        "; even with the nodes' measured stage times the model predicts {:.2f}/s: the pipeline's beat "
        "({:.2f} ms) is above every stage's time, so the link ({:.2f} ms busy per frame predicted) and "
        "the hand-off through the coordinator cost more than modelled",
        out.remodelled_ips, measured_period, out.link_busy_ms);
  for (int s = 0; s < 2; ++s)
    if (m.overruns[s] > 0)
      gap += fmt::format(
          "; stage {}'s node overran the emulated device in {} run{} (the host was busier than the "
          "profile leaves room for: raise --slowdowns)",
          s + 1, m.overruns[s], m.overruns[s] == 1 ? "" : "s");
  out.gap = gap;
}

std::vector<std::string> model_list(const std::vector<std::string>& given) {
  std::vector<std::string> models = given;
  if (models.empty()) {
    std::string all = kPartitionPaperModels;
    for (size_t p = 0; p != std::string::npos;) {
      size_t q = all.find(',', p);
      models.push_back(all.substr(p, q == std::string::npos ? q : q - p));
      p = q == std::string::npos ? q : q + 1;
    }
  }
  for (const auto& m : models)
    if (!zoo::zoo_has(m)) fail("--models: unknown model '{}'; see `fluidedge zoo list`", m);
  return models;
}

// One model in one precision setting: profiles (or the declared devices), the search, and unless
// explore_only the best split and each device alone deployed and measured.
PartitionModelResult run_setting(const std::string& name, const graph::Graph& g,
                                 const std::vector<Precision>& precisions, PartitionReport& report,
                                 const cluster::LocalCertificates& certs) {
  const PartitionExperimentOptions& o = report.options;
  const bool pin = report.settings.pinned;
  const bool all_fp32 =
      std::all_of(precisions.begin(), precisions.end(), [](Precision p) { return p == Precision::kFp32; });
  PartitionModelResult row;
  row.model = name;
  row.nodes = g.nodes.size();
  for (Precision p : precisions) row.precisions.push_back(precision_name(p));
  row.label = all_fp32 ? name : fmt::format("{} {}+{}", name, row.precisions[0], row.precisions[1]);
  fs::path dir = fs::path(o.out) / name;
  if (!all_fp32) dir /= fmt::format("{}-{}", row.precisions[0], row.precisions[1]);
  fs::create_directories(dir);
  // The devices: those of --system as declared, or this host profiled (in each device's precision)
  // and scaled.
  fs::path system_path = o.system_file.empty() ? dir / "system.yaml" : fs::absolute(o.system_file);
  if (o.system_file.empty()) {
    ProfileOptions po;
    po.repeats = o.repeats;
    po.backend = o.backend;
    // Each device is profiled where its node will run: on its own core (a shared VM's cores do
    // not run at the same speed, seen here 25 % apart), then scaled by its slowdown.
    for (int d = 0; d < 2; ++d) {
      std::optional<ScopedThreadPin> on_core;
      if (pin) on_core.emplace(d);
      po.precision = precisions[static_cast<size_t>(d)];
      MeasuredProfile base = measure_device_profile(g, po);
      row.host_profile.emplace_back(base.total_ms, base.run_ms);
      // dev3 and dev4 (exploration on longer chains only) are boards like dev1 and dev2.
      for (int copy : {d, d + 2})
        write_file_atomically((dir / fmt::format("dev{}.json", copy + 1)).string(), "",
                              scaled(base, fmt::format("dev{}", copy + 1), o.slowdowns[d]).json());
    }
    write_file_atomically(system_path.string(), "", system_yaml(o, precisions));
  }
  SystemDescription system = load_system(system_path);
  // Each node emulates the device it stands for, as the system file declares it: a stage takes
  // there what the cost model says, so a gap between predicted and measured is the pipeline's
  // own (links, queues, the coordinator), not this host's speed at the moment.
  auto emulate = [&](int d) { return fmt::format("{}:{}", system_path.string(), system.devices.at(d).name); };
  auto explore = [&] {
    if (o.system_file.empty() && all_fp32) row.exploration = explore_chains(g, dir, o, report);
  };

  SearchOptions so;
  so.max_stages = 2;
  // With a device below fp32, the front's plans are scored as the paper does: each stage at its
  // device's precision (an int8 stage quantized, calibrated on the same inputs).
  std::optional<PlanAccuracyEvaluator> accuracy;
  if (has_reduced_precision(system)) {
    accuracy.emplace(g, random_samples(g, o.accuracy_samples, 1));
    row.accuracy_samples = accuracy->samples().description;
    so.accuracy = &*accuracy;
  }
  SearchResult result = search_plans(g, system, so);
  row.explore_ms = result.seconds * 1000;
  report.explore_total_ms += row.explore_ms;
  std::vector<Cut> cuts = enumerate_cuts(g);
  PlanEvaluator evaluator(g, cuts, system);
  PlanCost single[2] = {evaluator.evaluate({{}, {0}}), evaluator.evaluate({{}, {1}})};
  const PlanCost* split = best_plan(result.front, Objective::kThroughput, 2);
  runtime::TensorMap input = random_samples(g, 1, 1).inputs;
  // The front the split is chosen from (up to two stages).
  for (size_t i = 0; i < result.front.size(); ++i) {
    const PlanCost& p = result.front[i];
    FrontPlan plan;
    for (int d : p.plan.devices) plan.devices.push_back(system.devices.at(d).name);
    for (int position : p.plan.positions) plan.cut_after.push_back(g.nodes.at(position - 1).name);
    plan.throughput_ips = p.throughput_fps;
    plan.latency_ms = p.latency_ms;
    plan.energy_mj = p.energy_mj;
    plan.link_bytes = p.total_link_bytes;
    plan.peak_memory_mb = p.peak_memory_bytes / (1024.0 * 1024.0);
    plan.deployed = &p == split;
    if (accuracy) {
      plan.agreement = result.front_accuracy[i].agreement;
      plan.output_error = result.front_accuracy[i].output_relative_error;
    }
    row.front.push_back(std::move(plan));
  }
  row.device_names[0] = system.devices.at(0).name;
  row.device_names[1] = system.devices.at(1).name;
  if (o.explore_only) {
    explore();
    return row;
  }
  row.deployed = true;
  // What a device of its precision is given for nodes [begin, end): an int8 device the stage
  // quantized as its accuracy was scored.
  auto stage_for = [&](int device, int begin, int end) {
    const Precision p = system.devices.at(static_cast<size_t>(device)).precision;
    if (p == Precision::kInt8 && accuracy) return accuracy->stage(begin, end, p);
    return split_stage(g, begin, end);
  };
  const int n = static_cast<int>(g.nodes.size());

  // Best split first, closest in time to the profiles its prediction comes from (this VM's
  // cores change speed over tens of seconds): stage 1 on dev1, which holds the input, stage 2
  // behind the link.
  std::optional<PipelineMeasurement> split_measured;
  if (split) {
    int d1 = split->plan.devices[0], d2 = split->plan.devices[1];
    const int cut = split->plan.positions[0];
    cluster::ModelDirectory((dir / "split").string())
        .write_static({stage_for(d1, 0, cut), stage_for(d2, cut, n)}, g.outputs.at(0), "fluidedge bench partition");
    // Each device's node on the core it was profiled on.
    NodeProcess n1 = start_device(fmt::format("dev{}", d1 + 1), o, certs, pin ? d1 : -1, emulate(d1), 0, 0);
    NodeProcess n2 =
        start_device(fmt::format("dev{}", d2 + 1), o, certs, pin ? d2 : -1, emulate(d2), o.link_rate, o.link_latency);
    split_measured = measure_pipeline((dir / "split").string(), {&n1, &n2}, input, o.concurrency, o.seconds, certs);
  }

  // Best single device: the whole model on each device alone (input local, no link), at its
  // precision.
  for (int d = 0; d < 2; ++d) {
    const std::string device = fmt::format("dev{}", d + 1);
    const fs::path alone_dir = dir / fmt::format("single-{}", device);
    cluster::ModelDirectory(alone_dir.string())
        .write_static({stage_for(d, 0, n)}, g.outputs.at(0), "fluidedge bench partition");
    NodeProcess node = start_device(device, o, certs, pin ? d : -1, emulate(d), 0, 0);
    PipelineMeasurement m = measure_pipeline(alone_dir.string(), {&node}, input, o.concurrency, o.seconds, certs);
    row.alone[d] = {single[d].throughput_fps, m.ips, measured_stage(device, single[d].stage_ms[0], m, 0), {}, {}};
    if (accuracy) {
      PlanAccuracy a = accuracy->evaluate(PipelinePlan{{}, {d}}, system, Precision::kFp32);
      row.alone[d].agreement = a.agreement;
      row.alone[d].output_error = a.output_relative_error;
    }
  }
  const int best_single = row.alone[1].measured_ips > row.alone[0].measured_ips ? 1 : 0;
  const int best_predicted = single[1].throughput_fps > single[0].throughput_fps ? 1 : 0;
  row.single_device = fmt::format("dev{}", best_single + 1);
  row.single_ips = row.alone[best_single].measured_ips;
  row.single_predicted_ips = single[best_predicted].throughput_fps;
  row.single_energy_mj = single[best_predicted].energy_mj;
  row.single_memory_mb = single[best_predicted].peak_memory_bytes / (1024.0 * 1024.0);

  if (split) {
    const PipelineMeasurement& m = *split_measured;
    MeasuredSplit s;
    const int cut = split->plan.positions[0];
    for (int k = 0; k < 2; ++k) {
      s.devices[k] = fmt::format("dev{}", split->plan.devices[k] + 1);
      s.stages.push_back(measured_stage(s.devices[k], split->stage_ms[k], m, static_cast<size_t>(k)));
      s.memory_mb[k] = split->memory_bytes[k] / (1024.0 * 1024.0);
    }
    s.cut_after = g.nodes[cut - 1].name;
    s.position = cut;
    s.tensors = cuts[cut - 1].tensors;
    s.link_bytes = split->link_bytes[0];
    s.link_busy_ms = split->link_busy_ms[0];
    s.link_ms = split->link_ms[0];
    s.predicted_bottleneck = split->period_ms == split->stage_ms[0]   ? "stage 1"
                             : split->period_ms == split->stage_ms[1] ? "stage 2"
                                                                      : "the link";
    s.energy_mj = split->energy_mj;
    s.failed = m.failed;
    s.predicted_ips = split->throughput_fps;
    s.measured_ips = m.ips;
    s.gain_predicted = split->throughput_fps / row.single_predicted_ips - 1;
    s.gain_measured = m.ips / row.single_ips - 1;
    explain_gap(*split, m, s);
    row.split = std::move(s);
  }
  explore();
  return row;
}

}  // namespace

PartitionReport run_partition_experiment(const PartitionExperimentOptions& options, const PartitionProgress& progress) {
  PartitionReport report;
  PartitionExperimentOptions& o = report.options;
  o = options;
  if (o.backend.empty()) o.backend = runtime::default_backend();
  // The settings run per model: all fp32, then --precision's beside it (or --system's as declared).
  std::vector<std::vector<Precision>> settings_run{{Precision::kFp32, Precision::kFp32}};
  if (!o.precisions.empty()) {
    if (!o.system_file.empty())
      fail("--precision with --system {}: declare each device's precision in the system file", o.system_file);
    if (o.precisions.size() != 2) fail("--precision: give two values, one per device (got {})", o.precisions.size());
    std::vector<Precision> chosen;
    for (const auto& text : o.precisions) {
      Precision p = parse_precision(text, "--precision");
      if (p == Precision::kFp16)
        fail(
            "--precision fp16: no fluidedge backend runs fp16, so this host cannot profile an fp16 device; give "
            "fp32 or int8 (or an analytic fp16 device with --system)");
      chosen.push_back(p);
    }
    if (chosen != settings_run[0]) settings_run.push_back(chosen);
  }
  if (o.accuracy_samples < 1) fail("--accuracy-samples must be at least 1 (got {})", o.accuracy_samples);
  if (!o.system_file.empty()) {
    SystemDescription declared = load_system(o.system_file);
    if (declared.devices.size() != 2 || declared.links.empty())
      fail(
          "--system {}: bench partition deploys on two devices and the link between them; the file has {} device{} "
          "and {} link{}",
          o.system_file, declared.devices.size(), declared.devices.size() == 1 ? "" : "s", declared.links.size(),
          declared.links.size() == 1 ? "" : "s");
    // The node's link emulation sends the payload at its rate; the cost model also counts the
    // headers (overhead) on top of it, so the emulated rate is the declared one without them.
    const auto& link = declared.links[0];
    o.link_rate = link.rate_mbps / (1 + link.overhead);
    o.link_latency = link.latency_ms;
    settings_run = {{declared.devices[0].precision, declared.devices[1].precision}};
  }
  if (o.slowdowns.size() != 2) fail("--slowdowns: give two values, one per device (got {})", o.slowdowns.size());
  for (double s : o.slowdowns)
    if (s < 1) fail("--slowdowns: {} is below 1 (a node can only be emulated slower)", s);
  o.models = model_list(o.models);
  const cluster::LocalCertificates certs(o.tls && !o.explore_only, {"dev1", "dev2"}, "bench-partition");
  fs::create_directories(o.out);
  PartitionSettings& settings = report.settings;
  settings.load_average_before = load_average();
  settings.pinned = std::thread::hardware_concurrency() >= 2;
  settings.backend = o.backend;
  settings.link_rate = o.link_rate;
  settings.link_latency = o.link_latency;
  if (progress.started) progress.started(settings);

  for (const auto& name : o.models) {
    spdlog::info("bench partition: {}", name);
    const graph::Graph g = partitionable_graph(zoo::build_model(name));
    for (const auto& precisions : settings_run) {
      report.models.push_back(run_setting(name, g, precisions, report, certs));
      if (progress.model) progress.model(report.models.back());
    }
  }
  settings.load_average_after = load_average();
  return report;
}

}  // namespace fluidedge::experiment
