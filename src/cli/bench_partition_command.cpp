// `fluidedge bench partition`: the partitioner's experiment, end to end, with real device-node
// processes. Two heterogeneous devices are profiled on this host (each on the core its node will
// run on, scaled by its --slowdowns) and declared in a system.yaml; the partitioner finds the best
// single device and the best two-stage split; both are deployed for real through the
// coordinator's Static pipeline on `fluidedge-node` processes that emulate those devices
// (`node --emulate`: each part takes what its profile says; the second device is behind an
// emulated link), and predicted throughput is set against measured, per model, with the stage or
// link that explains any gap.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "cli/bench_partition.h"
#include "cli/commands.h"
#include "cli/error_boundary.h"
#include "cli/json_output.h"
#include "cli/report/sections.h"
#include "cli/tool_paths.h"
#include "cluster/model_directory.h"
#include "common/atomic_file.h"
#include "common/cpu_affinity.h"
#include "common/error.h"
#include "experiment/node_process.h"
#include "experiment/pipeline_measurement.h"
#include "graph/onnx_io.h"
#include "partition/cut.h"
#include "partition/device_profiler.h"
#include "partition/search.h"
#include "partition/transfer_accuracy.h"
#include "runtime/backends.h"
#include "zoo/zoo.h"

namespace fluidedge::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace fluidedge::partition;

// The paper's CNNs (CNNParted's seven), and its EfficientNet-B0 gain of the best two-device split.
const char* const kPaperModels = "alexnet,efficientnet_b0,googlenet,regnet_x_400mf,resnet50,squeezenet1_1,vgg16";
constexpr double kPaperEfficientNetGain = 0.475;

// One device: a fluidedge-node process on its own core, emulating `emulate` (SYSTEM.yaml:DEVICE,
// the device the partitioner planned on).
experiment::NodeProcess start_device(const std::string& name, const PartitionBenchOptions& o, int cpu,
                                     const std::string& emulate, double link_rate, double link_latency) {
  experiment::DeviceSettings d{1, link_rate, link_latency, emulate, o.backend, o.certs->node_arguments(name), cpu};
  return experiment::NodeProcess({node_binary()}, name, experiment::device_arguments(d));
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
// link the bench's link.
std::string system_yaml(const PartitionBenchOptions& o, int devices = 2) {
  std::string yaml =
      fmt::format("# written by fluidedge bench partition: {} emulated devices on this machine\ndevices:\n", devices);
  for (int d = 0; d < devices; ++d)
    yaml += fmt::format("  - {{name: dev{0}, profile: dev{0}.json, active_power_w: 6.4, idle_power_w: 2.7}}\n", d + 1);
  yaml += "links:\n";
  for (int l = 0; l + 1 < devices; ++l)
    yaml += fmt::format(
        "  - {{rate_mbps: {}, latency_ms: {}, overhead: 0, energy_nj_per_bit: 0.6, bidirectional: false}}\n",
        o.link_rate > 0 ? o.link_rate : 1e6, o.link_latency);
  yaml += "objectives: [throughput, latency]\n";
  return yaml;
}

// The exploration on 2, 3 and 4 devices (dev3 is another board like dev1, dev4 like dev2): the
// exact search against NSGA-II (the bench's peer: the heuristic the paper's framework uses) on
// the same system, each timed. The exact front's best throughput is never below NSGA-II's.
Json explore_chains(const graph::Graph& g, const fs::path& dir, const PartitionBenchOptions& o, double& exact_total_ms,
                    double& nsga2_total_ms) {
  Json runs = Json::array();
  for (int devices = 2; devices <= 4; ++devices) {
    const fs::path file = dir / fmt::format("system-{}.yaml", devices);
    write_file_atomically(file.string(), "", system_yaml(o, devices));
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
    exact_total_ms += e.seconds * 1000;
    nsga2_total_ms += h.seconds * 1000;
    runs.push_back(Json{{"devices", devices},
                        {"space_size", e.space_size},
                        {"exact_ms", e.seconds * 1000},
                        {"exact_front", e.front.size()},
                        {"exact_best_ips", best(e)},
                        {"nsga2_ms", h.seconds * 1000},
                        {"nsga2_front", h.front.size()},
                        {"nsga2_best_ips", best(h)},
                        {"exact_over_nsga2_time", e.seconds / std::max(1e-12, h.seconds)}});
  }
  return runs;
}

void print_exploration(const std::string& name, const Json& chains) {
  if (chains.is_null()) return;  // --system: no longer chains to explore
  std::string line = fmt::format("  {:<16} exploration", name);
  for (const auto& c : chains)
    line += fmt::format("  {} devices: exact {:.2f} ms (NSGA-II {:.1f} ms, best {:.1f} vs {:.1f}/s)",
                        c["devices"].get<int>(), c["exact_ms"].get<double>(), c["nsga2_ms"].get<double>(),
                        c["exact_best_ips"].get<double>(), c["nsga2_best_ips"].get<double>());
  std::cout << line << "\n";
}

}  // namespace

Json run_bench_partition(PartitionBenchOptions o) {
  if (o.backend.empty()) o.backend = runtime::default_backend();
  o.certs = std::make_shared<cluster::LocalCertificates>(o.tls == "on" && !o.explore_only,
                                                         std::vector<std::string>{"dev1", "dev2"}, "bench-partition");
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
  }
  if (o.slowdowns.size() != 2) fail("--slowdowns: give two values, one per device (got {})", o.slowdowns.size());
  for (double s : o.slowdowns)
    if (s < 1) fail("--slowdowns: {} is below 1 (a node can only be emulated slower)", s);
  std::vector<std::string> models = o.models;
  if (models.empty()) {
    std::string all = kPaperModels;
    for (size_t p = 0; p != std::string::npos;) {
      size_t q = all.find(',', p);
      models.push_back(all.substr(p, q == std::string::npos ? q : q - p));
      p = q == std::string::npos ? q : q + 1;
    }
  }
  for (const auto& m : models)
    if (!zoo::zoo_has(m)) fail("--models: unknown model '{}'; see `fluidedge zoo list`", m);
  fs::create_directories(o.out);
  const std::string load_before = load_average();
  const bool pin = std::thread::hardware_concurrency() >= 2;

  Json settings{
      {"devices", 2},
      {"system", o.system_file.empty() ? Json() : Json(fs::absolute(o.system_file).string())},
      {"slowdowns", o.system_file.empty() ? Json(o.slowdowns) : Json()},
      {"cores_per_device", 1},
      {"pinned", pin},
      {"link", fmt::format("dev1 -> dev2 only, emulated on dev2's side: {} Mbit/s + {} ms each way; dev1 "
                           "holds the input (no link emulation)",
                           o.link_rate, o.link_latency)},
      {"max_batch", 1},
      {"concurrency", o.concurrency},
      {"seconds_per_run", o.seconds},
      {"backend", o.backend},
      {"tls",
       o.tls == "on" ? "mutual TLS (a throwaway CA; every node and the client with a certificate)" : "off (plaintext)"},
      {"profile", o.system_file.empty()
                      ? fmt::format("{} backend, 1 thread, median of {} timed runs per step, measured in the "
                                    "bench process for each device{}, scaled by its slowdown; each node "
                                    "emulates its profile (node --emulate)",
                                    o.backend, o.repeats, pin ? " on the core its node is pinned to" : "")
                      : fmt::format("none: the devices of {} as declared, each node emulating one (node --emulate)",
                                    o.system_file)},
      {"paper_efficientnet_b0_gain", kPaperEfficientNetGain}};
  if (!o.json)
    std::cout << fmt::format(
        "bench partition: 2 devices (1 core each{}, {} backend, {}), dev1 -> dev2 "
        "link {:.1f} Mbit/s + {} ms, {}\n",
        pin ? ", pinned" : "", o.backend,
        o.system_file.empty() ? fmt::format("this core slowed down {} and {} times", o.slowdowns[0], o.slowdowns[1])
                              : "emulating the devices of " + o.system_file,
        o.link_rate, o.link_latency,
        o.explore_only ? "exploration only (nothing deployed)"
                       : fmt::format("batch 1, {} in flight, {} s per run", o.concurrency, o.seconds));

  Json rows = Json::array();
  double explore_total_ms = 0, explore_chains_ms = 0, nsga2_chains_ms = 0;
  for (const auto& name : models) {
    spdlog::info("bench partition: {}", name);
    const graph::Graph g = partitionable_graph(zoo::build_model(name));
    fs::path dir = fs::path(o.out) / name;
    fs::create_directories(dir);
    // The devices: those of --system as declared, or this host profiled and scaled.
    fs::path system_path = o.system_file.empty() ? dir / "system.yaml" : fs::absolute(o.system_file);
    Json profile_ms = Json::array();
    if (o.system_file.empty()) {
      ProfileOptions po;
      po.repeats = o.repeats;
      po.backend = o.backend;
      // Each device is profiled where its node will run: on its own core (a shared VM's cores do
      // not run at the same speed, seen here 25 % apart), then scaled by its slowdown.
      for (int d = 0; d < 2; ++d) {
        std::optional<ScopedThreadPin> on_core;
        if (pin) on_core.emplace(d);
        MeasuredProfile base = measure_device_profile(g, po);
        profile_ms.push_back(Json{{"total_ms", base.total_ms}, {"run_ms", base.run_ms}});
        // dev3 and dev4 (exploration on longer chains only) are boards like dev1 and dev2.
        for (int copy : {d, d + 2})
          write_file_atomically((dir / fmt::format("dev{}.json", copy + 1)).string(), "",
                                scaled(base, fmt::format("dev{}", copy + 1), o.slowdowns[d]).json());
      }
      write_file_atomically(system_path.string(), "", system_yaml(o));
    }
    SystemDescription system = load_system(system_path);
    // Each node emulates the device it stands for, as the system file declares it: a stage takes
    // there what the cost model says, so a gap between predicted and measured is the pipeline's
    // own (links, queues, the coordinator), not this host's speed at the moment.
    auto emulate = [&](int d) { return fmt::format("{}:{}", system_path.string(), system.devices.at(d).name); };
    auto chains = [&] {
      return o.system_file.empty() ? explore_chains(g, dir, o, explore_chains_ms, nsga2_chains_ms) : Json();
    };

    SearchOptions so;
    so.max_stages = 2;
    SearchResult result = search_plans(g, system, so);
    const double explore_ms = result.seconds * 1000;
    explore_total_ms += explore_ms;
    std::vector<Cut> cuts = enumerate_cuts(g);
    PlanEvaluator evaluator(g, cuts, system);
    PlanCost single[2] = {evaluator.evaluate({{}, {0}}), evaluator.evaluate({{}, {1}})};
    const PlanCost* split = best_plan(result.front, Objective::kThroughput, 2);

    runtime::TensorMap input = random_samples(g, 1, 1).inputs;
    Json row{{"model", name}, {"explore_ms", explore_ms}, {"nodes", g.nodes.size()}, {"host_profile", profile_ms}};
    // The front the split is chosen from (up to two stages), each plan as the report shows it.
    Json front = Json::array();
    for (const auto& p : result.front) {
      Json devices = Json::array(), cut_after = Json::array();
      for (int d : p.plan.devices) devices.push_back(system.devices.at(d).name);
      for (int position : p.plan.positions) cut_after.push_back(g.nodes.at(position - 1).name);
      front.push_back(Json{{"devices", devices},
                           {"cut_after", cut_after},
                           {"throughput_ips", p.throughput_fps},
                           {"latency_ms", p.latency_ms},
                           {"energy_mj", p.energy_mj},
                           {"link_bytes", p.total_link_bytes},
                           {"peak_memory_mb", p.peak_memory_bytes / (1024.0 * 1024.0)},
                           {"deployed", &p == split}});
    }
    row["front"] = front;
    row["device_names"] = {system.devices.at(0).name, system.devices.at(1).name};
    if (o.explore_only) {
      row["exploration"] = chains();
      rows.push_back(row);
      if (!o.json) print_exploration(name, row["exploration"]);
      continue;
    }

    // Best split first, closest in time to the profiles its prediction comes from (this VM's
    // cores change speed over tens of seconds): stage 1 on dev1, which holds the input, stage 2
    // behind the link.
    std::optional<experiment::PipelineMeasurement> split_measured;
    if (split) {
      std::vector<graph::Graph> stages = split_stages(g, split->plan.positions);
      cluster::ModelDirectory((dir / "split").string())
          .write_static(stages, g.outputs.at(0), "fluidedge bench partition");
      int d1 = split->plan.devices[0], d2 = split->plan.devices[1];
      // Each device's node on the core it was profiled on.
      experiment::NodeProcess n1 = start_device(fmt::format("dev{}", d1 + 1), o, pin ? d1 : -1, emulate(d1), 0, 0);
      experiment::NodeProcess n2 =
          start_device(fmt::format("dev{}", d2 + 1), o, pin ? d2 : -1, emulate(d2), o.link_rate, o.link_latency);
      split_measured =
          experiment::measure_pipeline((dir / "split").string(), {&n1, &n2}, input, o.concurrency, o.seconds, *o.certs);
    }

    // Best single device: the whole model on each device alone (input local, no link).
    cluster::ModelDirectory((dir / "single").string()).write_static({g}, g.outputs.at(0), "fluidedge bench partition");
    double single_ips[2] = {0, 0};
    for (int d = 0; d < 2; ++d) {
      experiment::NodeProcess node = start_device(fmt::format("dev{}", d + 1), o, pin ? d : -1, emulate(d), 0, 0);
      experiment::PipelineMeasurement m =
          experiment::measure_pipeline((dir / "single").string(), {&node}, input, o.concurrency, o.seconds, *o.certs);
      single_ips[d] = m.ips;
      row[fmt::format("dev{}_alone", d + 1)] = Json{{"predicted_ips", single[d].throughput_fps},
                                                    {"measured_ips", m.ips},
                                                    {"predicted_ms", single[d].stage_ms[0]},
                                                    {"measured_ms", m.node_ms.at(0)},
                                                    {"host_ms", m.host_ms.at(0)},
                                                    {"overruns", m.overruns.at(0)},
                                                    {"backend", m.backends.at(0)}};
    }
    int best_single = single_ips[1] > single_ips[0] ? 1 : 0;
    int best_single_predicted = single[1].throughput_fps > single[0].throughput_fps ? 1 : 0;
    row["single_device"] = fmt::format("dev{}", best_single + 1);
    row["single_ips"] = single_ips[best_single];
    row["single_predicted_ips"] = single[best_single_predicted].throughput_fps;
    row["single_energy_mj"] = single[best_single_predicted].energy_mj;
    row["single_memory_mb"] = single[best_single_predicted].peak_memory_bytes / (1024.0 * 1024.0);

    if (!split) {
      row["split"] = nullptr;
      row["note"] = "no two-stage plan on the front: every split is dominated by a single device";
      row["exploration"] = chains();
      rows.push_back(row);
      if (!o.json)
        std::cout << fmt::format("  {:<16} single {:8.2f}/s measured (dev{}), no split on the front\n", name,
                                 single_ips[best_single], best_single + 1);
      continue;
    }

    const experiment::PipelineMeasurement& m = *split_measured;
    const int d1 = split->plan.devices[0], d2 = split->plan.devices[1];

    const int cut = split->plan.positions[0];
    double link_busy = split->link_busy_ms[0];
    Json stages_json = Json::array();
    for (int s = 0; s < 2; ++s)
      stages_json.push_back(Json{{"device", fmt::format("dev{}", split->plan.devices[s] + 1)},
                                 {"predicted_ms", split->stage_ms[s]},
                                 {"measured_ms", m.node_ms.at(s)},
                                 {"host_ms", m.host_ms.at(s)},
                                 {"overruns", m.overruns.at(s)},
                                 {"backend", m.backends.at(s)}});
    // What explains the gap: the predicted bottleneck and whichever stage (or the link, which the
    // nodes' times do not contain) is furthest from its prediction.
    double measured_period = 1000.0 / m.ips;
    std::string bottleneck = split->period_ms == split->stage_ms[0]   ? "stage 1"
                             : split->period_ms == split->stage_ms[1] ? "stage 2"
                                                                      : "the link";
    std::string gap;
    double worst = 1;
    for (int s = 0; s < 2; ++s) {
      double off = m.node_ms[s] / split->stage_ms[s];
      if (gap.empty() || std::abs(std::log(off)) > std::abs(std::log(worst))) {
        worst = off;
        gap = fmt::format("stage {} on dev{} takes {:.2f} ms per request, {:.0f} % of the predicted {:.2f} ms", s + 1,
                          split->plan.devices[s] + 1, m.node_ms[s], 100 * off, split->stage_ms[s]);
      }
    }
    // The pipeline model fed with the nodes' measured stage times instead of the profile's: if it
    // matches the measured throughput, the model of the pipeline holds and the gap is in the
    // stages' compute; if not, the link or the hand-off between stages is what it misses.
    double slowest_node = std::max(m.node_ms[0], m.node_ms[1]);
    double remodelled_ips = 1000.0 / std::max(slowest_node, link_busy);
    if (remodelled_ips <= 1.15 * m.ips)
      gap += fmt::format(
          "; with the nodes' measured stage times the pipeline model predicts {:.2f}/s ({:+.0f} % of "
          "measured): the gap is the stages' compute on the nodes, not the link",
          remodelled_ips, 100 * (remodelled_ips / m.ips - 1));
    else
      gap += fmt::format(
          "; even with the nodes' measured stage times the model predicts {:.2f}/s: the pipeline's beat "
          "({:.2f} ms) is above every stage's time, so the link ({:.2f} ms busy per frame predicted) and "
          "the hand-off through the coordinator cost more than modelled",
          remodelled_ips, measured_period, link_busy);
    for (int s = 0; s < 2; ++s)
      if (m.overruns[s] > 0)
        gap += fmt::format(
            "; stage {}'s node overran the emulated device in {} run{} (the host was busier than the "
            "profile leaves room for: raise --slowdowns)",
            s + 1, m.overruns[s], m.overruns[s] == 1 ? "" : "s");
    row["split_remodelled_ips"] = remodelled_ips;

    row["split"] =
        Json{{"devices", {fmt::format("dev{}", d1 + 1), fmt::format("dev{}", d2 + 1)}},
             {"cut_after", g.nodes[cut - 1].name},
             {"position", cut},
             {"tensors", cuts[cut - 1].tensors},
             {"link_bytes", split->link_bytes[0]},
             {"link_busy_ms", link_busy},
             {"link_ms", split->link_ms[0]},
             {"predicted_bottleneck", bottleneck},
             {"stages", stages_json},
             {"energy_mj", split->energy_mj},
             {"memory_mb", {split->memory_bytes[0] / (1024.0 * 1024.0), split->memory_bytes[1] / (1024.0 * 1024.0)}},
             {"failed", m.failed}};
    row["split_predicted_ips"] = split->throughput_fps;
    row["split_measured_ips"] = m.ips;
    row["predicted_over_measured"] = split->throughput_fps / m.ips;
    row["gain_predicted"] = split->throughput_fps / single[best_single_predicted].throughput_fps - 1;
    row["gain_measured"] = m.ips / single_ips[best_single] - 1;
    row["gap"] = gap;
    row["exploration"] = chains();
    rows.push_back(row);
    if (!o.json)
      std::cout << fmt::format(
          "  {:<16} single {:8.2f}/s (dev{})  split predicted {:8.2f}/s measured {:8.2f}/s "
          "(pred/meas {:.2f})  gain measured {:+.1f} % predicted {:+.1f} %  cut after {} ({:.0f} KB)  "
          "explore {:.2f} ms\n    {}\n",
          name, single_ips[best_single], best_single + 1, split->throughput_fps, m.ips, split->throughput_fps / m.ips,
          100 * row["gain_measured"].get<double>(), 100 * row["gain_predicted"].get<double>(), g.nodes[cut - 1].name,
          split->link_bytes[0] / 1024.0, explore_ms, gap);
    if (!o.json) print_exploration(name, row["exploration"]);
  }

  settings["load_average_before"] = load_before;
  settings["load_average_after"] = load_average();
  Json exploration_total{{"models", models.size()},
                         {"devices", {2, 3, 4}},
                         {"exact_ms", explore_chains_ms},
                         {"nsga2_ms", nsga2_chains_ms},
                         {"exact_over_nsga2_time", explore_chains_ms / std::max(1e-9, nsga2_chains_ms)}};
  Json out{{"settings", settings},
           {"models", rows},
           {"explore_ms_total", explore_total_ms},
           {"exploration_total", exploration_total}};
  if (!o.explore_only && !o.plot.empty()) {
    out["plot"] = o.plot;
    report::draw_partition_figure(o.plot, out);
  }
  if (o.json) return out;
  if (o.system_file.empty())
    std::cout << fmt::format(
        "exploration of {} models on 2, 3 and 4 devices: exact {:.1f} ms in total, NSGA-II {:.1f} ms "
        "(exact/NSGA-II time {:.3f})\n",
        models.size(), explore_chains_ms, nsga2_chains_ms, exploration_total["exact_over_nsga2_time"].get<double>());
  if (o.explore_only) return out;
  for (const auto& r : rows)
    if (r["model"] == "efficientnet_b0" && r.contains("gain_measured"))
      std::cout << fmt::format(
          "EfficientNet-B0 gain of the best split over the best single device: measured {:+.1f} %, "
          "predicted {:+.1f} % (paper: {:+.1f} %, on its devices)\n",
          100 * r["gain_measured"].get<double>(), 100 * r["gain_predicted"].get<double>(),
          100 * kPaperEfficientNetGain);
  std::cout << fmt::format("exploration time, all models: {:.2f} ms\nload average before {}, after {}\n",
                           explore_total_ms, load_before, settings["load_average_after"].get<std::string>());
  if (!o.plot.empty()) std::cout << "plot: " << o.plot << "\n";
  return out;
}

void add_bench_partition_command(CLI::App& bench) {
  auto* cmd = bench.add_subcommand("partition",
                                   "The partitioner's experiment: best single device vs best split on two emulated "
                                   "devices, predicted and measured");
  auto o = std::make_shared<PartitionBenchOptions>();
  cmd->add_option("--models", o->models, fmt::format("Zoo models (default: {})", kPaperModels))->delimiter(',');
  cmd->add_option("--slowdowns", o->slowdowns,
                  "How much slower than this host's core dev1 and dev2 are: their profiles are this host's, scaled by "
                  "these (the nodes emulate the profiles)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--link-rate", o->link_rate, "Emulated dev1 -> dev2 link rate, Mbit/s (0 = none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--link-latency", o->link_latency, "Emulated one-way latency of that link, ms")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--seconds", o->seconds, "Measured streaming time per deployment")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--concurrency", o->concurrency, "Requests in flight")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--repeats", o->repeats, "Timed runs of the profile")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Directory for profiles, system.yaml and stage files per model")
      ->capture_default_str();
  cmd->add_option("--system", o->system_file,
                  "Plan for and emulate the two devices of this system.yaml as declared (e.g. examples/"
                  "two_boards_100mbit.yaml), instead of this host's profile scaled by --slowdowns")
      ->excludes("--slowdowns")
      ->excludes("--link-rate")
      ->excludes("--link-latency");
  cmd->add_option("--plot", o->plot,
                  "Where to write the PNG chart of predicted against measured throughput (its "
                  "data and gnuplot script beside it)")
      ->capture_default_str();
  cmd->add_option("--report", o->report, "Also write an HTML report of this run to DIR/index.html (plots beside it)");
  cmd->add_flag("--explore-only", o->explore_only, "Profile and explore (2, 3 and 4 devices) only; deploy nothing");
  cmd->add_option("--tls", o->tls,
                  "on: mutual TLS between the client and the nodes, as deployed; off: plaintext "
                  "(to measure what TLS costs)")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd->add_option("--backend", o->backend, kNodeBackendHelp)->check(CLI::IsMember(kNodeBackends));
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o] {
    if (!o->report.empty()) check_writable_dir(o->report, "--report");
    Json result = run_bench_partition(*o);
    if (o->json) print_json(result);
    if (!o->report.empty()) {
      report::write_bench_report(o->report, "fluidedge bench partition",
                                 report::partition_sections(result, o->report, invoked_command()));
      if (!o->json) std::cout << "report: " << (fs::path(o->report) / "index.html").string() << "\n";
    }
  });
}

}  // namespace fluidedge::cli
