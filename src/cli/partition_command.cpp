// `fluidedge partition MODEL --system system.yaml --out DIR`: the automated partitioner from the
// command line. Searches the model's cut points on the described devices and links, enforces
// every constraint of system.yaml (min_accuracy included, measured under the chosen transfer
// format), and writes the Pareto front (CSV, JSON, SVG), the chosen plan and one ONNX file per
// stage. DIR is also a Static model directory for `fluidedge infer` (metrics.json).

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/json_output.h"
#include "cli/model_source.h"
#include "cli/partition_output.h"
#include "cli/report/charts.h"
#include "cluster/model_directory.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/progress.h"
#include "data/dataset.h"
#include "graph/onnx_io.h"
#include "partition/cut.h"
#include "partition/plan_accuracy.h"
#include "partition/search.h"

namespace fluidedge::cli {
namespace {

namespace fs = std::filesystem;
using namespace fluidedge::partition;
constexpr double kMiB = 1024.0 * 1024.0;

struct PartitionOptions {
  std::string model, system, out, plot;
  bool json = false;
  std::vector<std::string> objectives;
  std::string algorithm = "auto";
  std::string transfer = "fp32";
  std::string choose = "throughput";
  int max_stages = 0;
  bool single_tensor_cuts = false;
  int accuracy_inputs = 0;
  std::string accuracy_data;
  int accuracy_samples = 1000;
  uint64_t seed = 1;
};

SearchAlgorithm parse_algorithm(const std::string& text) {
  for (SearchAlgorithm a : {SearchAlgorithm::kAuto, SearchAlgorithm::kExact, SearchAlgorithm::kNsga2})
    if (text == search_algorithm_name(a)) return a;
  fail("--algorithm: unknown search algorithm '{}'; expected auto, exact or nsga2", text);
}

void run_partition(const PartitionOptions& o) {
  // Everything a user can get wrong is checked before the work starts.
  std::vector<Objective> objectives;
  for (const auto& text : o.objectives) {
    Objective obj = parse_objective(text, "--objectives");
    if (std::find(objectives.begin(), objectives.end(), obj) != objectives.end())
      fail("--objectives: '{}' is listed twice", text);
    objectives.push_back(obj);
  }
  Objective chosen_by = parse_objective(o.choose, "--choose");
  SearchAlgorithm algorithm = parse_algorithm(o.algorithm);
  Precision transfer = parse_precision(o.transfer, "--transfer");
  graph::Graph model = load_model(o.model);
  SystemDescription system = load_system(o.system);
  const fs::path out(o.out);
  check_writable_dir(out, "--out");
  const std::string plot = o.plot.empty() ? (out / "front.png").string() : o.plot;
  if (!o.plot.empty() && fs::path(plot).has_parent_path()) check_writable_dir(fs::path(plot).parent_path(), "--plot");
  std::optional<data::Dataset> dataset;
  if (!o.accuracy_data.empty()) dataset = data::load_dataset(o.accuracy_data);

  const graph::Graph g = partitionable_graph(model);
  SearchOptions options;
  options.algorithm = algorithm;
  options.objectives = objectives;
  options.transfer = transfer;
  options.single_tensor_cuts_only = o.single_tensor_cuts;
  options.max_stages = o.max_stages;
  options.nsga2.seed = o.seed;
  // Accuracy, each stage at its device's precision and the links in the transfer format:
  // measured when it can differ from the float model's, when min_accuracy asks for it, or when
  // the user asked for an estimate. The search scores its front and drops the plans below
  // min_accuracy. Int8 stages are calibrated on the dataset's train split, else on the inputs
  // they are evaluated on.
  const double min_accuracy = system.constraints.min_accuracy;
  const bool reduced = has_reduced_precision(system);
  const bool measure = transfer != Precision::kFp32 || reduced || min_accuracy > 0 || o.accuracy_inputs > 0 || dataset;
  std::optional<PlanAccuracyEvaluator> evaluator;
  std::optional<ProgressBar> bar;
  std::string samples_description;
  if (measure) {
    AccuracySamples samples =
        dataset ? dataset_samples(g, dataset->test.images, dataset->test.labels, o.accuracy_samples,
                                  fmt::format("{} test split", dataset->name))
                : random_samples(g, o.accuracy_inputs > 0 ? o.accuracy_inputs : kDefaultAccuracySamples, o.seed);
    samples_description = samples.description;
    AccuracySamples calibration;
    if (dataset)
      calibration =
          dataset_samples(g, dataset->train.images, dataset->train.labels, PlanAccuracyEvaluator::kCalibrationSamples,
                          fmt::format("{} train split", dataset->name));
    evaluator.emplace(g, std::move(samples), std::move(calibration));
    options.accuracy = &*evaluator;
    options.on_accuracy = [&bar](int64_t done, int64_t total) {
      if (!bar) bar.emplace("accuracy", total);
      bar->advance();
      if (done == total) bar->finish();
    };
  }
  SearchResult result = search_plans(g, system, options);
  const double explore_ms = result.seconds * 1000;

  if (result.front.empty() && result.below_min_accuracy.empty()) {
    std::set<std::string> relax;
    for (const auto& e : result.infeasible_examples)
      if (auto c = constraint_of(e); !c.empty()) relax.insert(c);
    fail("{}: no plan of {} meets the constraints ({}); relax {}", system.source, o.model,
         fmt::join(result.infeasible_examples, "; "),
         relax.empty() ? std::string("the constraints") : fmt::format("{}", fmt::join(relax, " or ")));
  }
  for (size_t d = 0; d < result.missing_profile_nodes.size(); ++d)
    if (result.missing_profile_nodes[d] > 0)
      spdlog::warn(
          "device '{}': its profile names none of {} nodes of this model (costed 0 ms); was it profiled on "
          "this model?",
          system.devices[d].name, result.missing_profile_nodes[d]);

  std::vector<Evaluated> front, dropped;
  for (size_t i = 0; i < result.front.size(); ++i)
    front.push_back({result.front[i], measure ? std::optional(result.front_accuracy[i]) : std::nullopt});
  for (size_t i = 0; i < result.below_min_accuracy.size(); ++i)
    dropped.push_back({result.below_min_accuracy[i], result.below_accuracy[i]});
  if (front.empty()) {
    double best = 0;
    for (const auto& e : dropped) best = std::max(best, e.accuracy->score());
    fail(
        "{}: no plan reaches constraints.min_accuracy {} with {} transfer{} (best {:.4f} {} on {}); relax "
        "constraints.min_accuracy{}",
        system.source, min_accuracy, precision_name(transfer),
        reduced ? " and each stage at its device's precision" : "", best,
        dataset ? "accuracy" : "agreement with the float model", samples_description,
        transfer != Precision::kFp32
            ? fmt::format(" or choose --transfer {}", transfer == Precision::kInt8 ? "fp16" : "fp32")
            : (reduced ? " or raise a device's precision" : ""));
  }
  for (const auto& e : dropped)
    spdlog::info("dropped plan {} ({}): {} {:.4f} below min_accuracy {}", fmt::join(e.cost.plan.positions, ","),
                 device_names(system, e.cost.plan), dataset ? "accuracy" : "agreement", e.accuracy->score(),
                 min_accuracy);

  std::vector<PlanCost> kept;
  for (const auto& e : front) kept.push_back(e.cost);
  const PlanCost& best = choose(kept, chosen_by);
  size_t chosen = 0;
  for (size_t i = 0; i < kept.size(); ++i)
    if (&kept[i] == &best) chosen = i;
  const Evaluated& plan = front[chosen];

  // Stage files, then the reports that point at them. A stage for an int8 device is the
  // quantized graph its accuracy was measured with.
  const PlanCost& c = plan.cost;
  const std::vector<int> bounds = stage_bounds(c.plan.positions, static_cast<int>(g.nodes.size()));
  std::vector<graph::Graph> stages = split_stages(g, c.plan.positions);
  const std::vector<Precision> precisions = stage_precisions(c.plan, system);
  for (size_t s = 0; s < stages.size(); ++s) {
    if (precisions[s] == Precision::kInt8) stages[s] = evaluator->stage(bounds[s], bounds[s + 1], Precision::kInt8);
    stages[s].name = fmt::format("{}_stage_{}", g.name, s + 1);
  }
  // DIR is also a Static model directory for `fluidedge infer`.
  const std::vector<std::string> stage_files =
      cluster::ModelDirectory(out.string()).write_static(stages, g.outputs.at(0), "fluidedge partition");

  Json plan_json = chosen_plan_json(g, system, plan, chosen, stages, stage_files, o.model, chosen_by, transfer);
  const std::vector<Cut> all_cuts = enumerate_cuts(g);

  Json front_list = Json::array(), dropped_list = Json::array();
  for (size_t i = 0; i < front.size(); ++i)
    front_list.push_back(plan_summary_json(g, system, front[i], static_cast<int>(i) + 1, i == chosen));
  for (size_t i = 0; i < dropped.size(); ++i)
    dropped_list.push_back(plan_summary_json(g, system, dropped[i], 0, false));
  std::vector<std::string> objective_names;
  for (Objective obj : result.objectives) objective_names.push_back(objective_name(obj));
  Json front_json{{"model", o.model},
                  {"system", system.source},
                  {"algorithm", search_algorithm_name(result.algorithm)},
                  {"objectives", objective_names},
                  {"transfer", precision_name(transfer)},
                  {"explore_ms", explore_ms},
                  {"space_size", result.space_size},
                  {"evaluated", result.evaluated},
                  {"front", front_list}};
  if (measure) {
    front_json["accuracy_samples"] = samples_description;
    if (reduced) front_json["int8_calibration"] = evaluator->calibration_description();
    front_json["min_accuracy"] = min_accuracy;
    front_json["dropped_by_min_accuracy"] = dropped_list;
  }

  const std::string plan_file = (out / "plan.json").string();
  write_file_atomically((out / "front.json").string(), "", front_json.dump(2) + "\n");
  write_file_atomically((out / "front.csv").string(), "", front_csv(g, system, front, chosen));
  write_file_atomically(plan_file, "", plan_json.dump(2) + "\n");
  draw_front(plot, o.model, system, front, dropped, chosen, objective_name(chosen_by));
  spdlog::info("wrote {} stage file(s), plan.json, front.json, front.csv and metrics.json to {}; plot {}",
               stages.size(), out.string(), plot);

  if (o.json) {
    Json j = front_json;
    j["chosen"] = static_cast<int>(chosen) + 1;
    j["plan"] = plan_json;
    j["files"] = Json{{"plan", plan_file},
                      {"front_json", (out / "front.json").string()},
                      {"front_csv", (out / "front.csv").string()},
                      {"plot", plot},
                      {"stages", stage_files}};
    print_json(j);
    return;
  }

  std::cout << fmt::format("{} on {} ({} devices): {} nodes, {} candidate plans, {} search over {} in {:.1f} ms\n",
                           o.model, system.source, system.devices.size(), g.nodes.size(), result.space_size,
                           search_algorithm_name(result.algorithm), fmt::join(objective_names, ", "), explore_ms);
  if (measure)
    std::cout << fmt::format("accuracy with {} transfer{} on {}{}\n", precision_name(transfer),
                             reduced ? fmt::format(", each stage at its device's precision (int8 calibrated on {})",
                                                   evaluator->calibration_description())
                                     : "",
                             samples_description,
                             min_accuracy > 0 ? fmt::format(" (min_accuracy {})", min_accuracy) : "");
  std::cout << fmt::format("{:>3}  {:<28} {:>9} {:>11} {:>10} {:>10} {:>10}{}  {}\n", "#", "devices", "fps",
                           "latency ms", "energy mJ", "memory MB", "link KB",
                           measure ? (dataset ? "  accuracy" : "     agree") : "", "cut after");
  for (size_t i = 0; i < front.size(); ++i) {
    const PlanCost& p = front[i].cost;
    std::string acc;
    if (front[i].accuracy) acc = fmt::format("{:>10.4f}", front[i].accuracy->score());
    std::cout << fmt::format("{:>3}{} {:<28} {:>9.2f} {:>11.2f} {:>10.2f} {:>10.1f} {:>10.1f}{}  {}\n", i + 1,
                             i == chosen ? "*" : " ", device_names(system, p.plan), p.throughput_fps, p.latency_ms,
                             p.energy_mj, static_cast<double>(p.peak_memory_bytes) / kMiB,
                             static_cast<double>(p.total_link_bytes) / 1024.0, acc,
                             p.plan.positions.empty() ? "-" : fmt::format("{}", fmt::join(cut_names(g, p.plan), ", ")));
  }
  if (!dropped.empty())
    std::cout << fmt::format("{} plan(s) dropped: {} below min_accuracy {} with {} transfer\n", dropped.size(),
                             dataset ? "accuracy" : "agreement", min_accuracy, precision_name(transfer));
  std::cout << fmt::format("chosen: #{} (best {}), {:.2f} inferences/s, {:.2f} ms\n", chosen + 1,
                           objective_name(chosen_by), c.throughput_fps, c.latency_ms);
  for (size_t s = 0; s < stages.size(); ++s) {
    std::cout << fmt::format("  stage {} on {:<12} {} nodes {}..{} ({} .. {}): {:.2f} ms, {:.1f} MB -> {}\n", s + 1,
                             system.devices[c.plan.devices[s]].name, precision_name(precisions[s]), bounds[s],
                             bounds[s + 1] - 1, g.nodes[bounds[s]].name, g.nodes[bounds[s + 1] - 1].name, c.stage_ms[s],
                             static_cast<double>(c.memory_bytes[s]) / kMiB, stage_files[s]);
    if (s + 1 < stages.size())
      std::cout << fmt::format("  link {} -> {}: {} tensor(s), {:.1f} KB, {:.3f} ms\n",
                               system.devices[c.plan.devices[s]].name, system.devices[c.plan.devices[s + 1]].name,
                               all_cuts[c.plan.positions[s] - 1].tensors.size(), c.link_bytes[s] / 1024.0,
                               c.link_ms[s]);
  }
  std::cout << "plan: " << plan_file << "\nplot: " << plot << "\n";
}

}  // namespace

void add_partition_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("partition", "Find the Pareto-optimal ways to split a model over a chain of devices");
  auto o = std::make_shared<PartitionOptions>();
  cmd->add_option("MODEL", o->model, kModelHelp)->required();
  cmd->add_option("--system", o->system, "system.yaml: devices, links, constraints, objectives (see examples/)")
      ->required();
  cmd->add_option("--out", o->out, "Directory for front.csv, front.json, plan.json, stage_N.onnx and the plot")
      ->required();
  cmd->add_flag("--json", o->json, "Print one JSON object (explore_ms, front, chosen plan with its stage files)");
  cmd->add_option("--objectives", o->objectives,
                  "Objectives of the Pareto front: throughput, latency, energy, memory, link_bytes (default: the "
                  "system's)")
      ->delimiter(',');
  cmd->add_option("--algorithm", o->algorithm, "auto (exact up to 4 devices), exact or nsga2")->capture_default_str();
  cmd->add_option("--transfer", o->transfer, "Format of tensors sent between devices: fp32, fp16 or int8")
      ->capture_default_str();
  cmd->add_option("--choose", o->choose, "Which plan of the front becomes plan.json: the best at this objective")
      ->capture_default_str();
  cmd->add_option("--max-stages", o->max_stages, "At most this many stages (0: one per device)")
      ->check(CLI::Range(0, 64));
  cmd->add_flag("--single-tensor-cuts", o->single_tensor_cuts, "Only cut where a single tensor crosses");
  cmd->add_option("--accuracy-inputs", o->accuracy_inputs,
                  "Random inputs for the accuracy estimate (default 32 when one is needed: int8/fp16 transfer or "
                  "min_accuracy)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--accuracy-data", o->accuracy_data,
                  "Estimate accuracy against labels on this dataset's test split (mnist, fashion-mnist or an IDX "
                  "directory)");
  cmd->add_option("--accuracy-samples", o->accuracy_samples, "Test images used from --accuracy-data")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  cmd->add_option(
      "--plot", o->plot,
      "Where to write the PNG plot of the front, its data and gnuplot script beside it (default: DIR/front.png)");
  cmd->add_option("--seed", o->seed, "Seed of NSGA-II and of the random accuracy inputs")->capture_default_str();
  cmd->callback([o] { run_partition(*o); });
}

}  // namespace fluidedge::cli
