// What `fluidedge bench partition` prints: the experiment's report as the JSON that `--json`
// prints and the HTML report reads (its keys are a contract: tests/cli hold them), and the
// lines a person reads as it goes.

#include <algorithm>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "cli/bench_partition.h"

namespace fluidedge::cli {
namespace {

using namespace fluidedge::experiment;

Json stage_json(const MeasuredStage& s, bool with_device) {
  Json j;
  if (with_device) j["device"] = s.device;
  j["predicted_ms"] = s.predicted_ms;
  j["measured_ms"] = s.measured_ms;
  j["host_ms"] = s.host_ms;
  j["overruns"] = s.overruns;
  j["backend"] = s.backend;
  return j;
}

Json exploration_json(const std::optional<std::vector<ChainExploration>>& chains) {
  if (!chains) return Json();  // --system: no longer chains to explore
  Json runs = Json::array();
  for (const auto& c : *chains)
    runs.push_back(Json{{"devices", c.devices},
                        {"space_size", c.space_size},
                        {"exact_ms", c.exact_ms},
                        {"exact_front", c.exact_front},
                        {"exact_best_ips", c.exact_best_ips},
                        {"nsga2_ms", c.nsga2_ms},
                        {"nsga2_front", c.nsga2_front},
                        {"nsga2_best_ips", c.nsga2_best_ips},
                        {"exact_over_nsga2_time", c.exact_ms / std::max(1e-9, c.nsga2_ms)}});
  return runs;
}

Json settings_json(const PartitionReport& r) {
  const auto& o = r.options;
  const auto& s = r.settings;
  return Json{
      {"devices", 2},
      {"system", o.system_file.empty() ? Json() : Json(std::filesystem::absolute(o.system_file).string())},
      {"slowdowns", o.system_file.empty() ? Json(o.slowdowns) : Json()},
      {"cores_per_device", 1},
      {"pinned", s.pinned},
      {"link", fmt::format("dev1 -> dev2 only, emulated on dev2's side: {} Mbit/s + {} ms each way; dev1 "
                           "holds the input (no link emulation)",
                           s.link_rate, s.link_latency)},
      {"max_batch", 1},
      {"concurrency", o.concurrency},
      {"seconds_per_run", o.seconds},
      {"backend", s.backend},
      {"tls", o.tls ? "mutual TLS (a throwaway CA; every node and the client with a certificate)" : "off (plaintext)"},
      {"profile", o.system_file.empty()
                      ? fmt::format("{} backend, 1 thread, median of {} timed runs per step, measured in the "
                                    "bench process for each device{}, scaled by its slowdown; each node "
                                    "emulates its profile (node --emulate)",
                                    s.backend, o.repeats, s.pinned ? " on the core its node is pinned to" : "")
                      : fmt::format("none: the devices of {} as declared, each node emulating one (node --emulate)",
                                    o.system_file)},
      {"paper_efficientnet_b0_gain", kPaperEfficientNetGain},
      {"load_average_before", s.load_average_before},
      {"load_average_after", s.load_average_after}};
}

Json model_json(const PartitionModelResult& m) {
  Json profile = Json::array();
  for (auto [total, run] : m.host_profile) profile.push_back(Json{{"total_ms", total}, {"run_ms", run}});
  Json row{{"model", m.model},           {"label", m.label}, {"precisions", m.precisions},
           {"explore_ms", m.explore_ms}, {"nodes", m.nodes}, {"host_profile", profile}};
  if (!m.accuracy_samples.empty()) row["accuracy_samples"] = m.accuracy_samples;
  Json front = Json::array();
  for (const auto& p : m.front) {
    front.push_back(Json{{"devices", p.devices},
                         {"cut_after", p.cut_after},
                         {"throughput_ips", p.throughput_ips},
                         {"latency_ms", p.latency_ms},
                         {"energy_mj", p.energy_mj},
                         {"link_bytes", p.link_bytes},
                         {"peak_memory_mb", p.peak_memory_mb},
                         {"deployed", p.deployed}});
    if (p.agreement) front.back()["agreement"] = *p.agreement;
    if (p.output_error) front.back()["output_error"] = *p.output_error;
  }
  row["front"] = front;
  row["device_names"] = {m.device_names[0], m.device_names[1]};
  if (!m.deployed) {
    row["exploration"] = exploration_json(m.exploration);
    return row;
  }
  for (int d = 0; d < 2; ++d) {
    Json alone{{"predicted_ips", m.alone[d].predicted_ips}, {"measured_ips", m.alone[d].measured_ips}};
    alone.update(stage_json(m.alone[d].stage, false));
    if (m.alone[d].agreement) alone["agreement"] = *m.alone[d].agreement;
    if (m.alone[d].output_error) alone["output_error"] = *m.alone[d].output_error;
    row[fmt::format("dev{}_alone", d + 1)] = alone;
  }
  row["single_device"] = m.single_device;
  row["single_ips"] = m.single_ips;
  row["single_predicted_ips"] = m.single_predicted_ips;
  row["single_energy_mj"] = m.single_energy_mj;
  row["single_memory_mb"] = m.single_memory_mb;
  if (!m.split) {
    row["split"] = nullptr;
    row["note"] = "no two-stage plan on the front: every split is dominated by a single device";
    row["exploration"] = exploration_json(m.exploration);
    return row;
  }
  const MeasuredSplit& s = *m.split;
  Json stages = Json::array();
  for (const auto& st : s.stages) stages.push_back(stage_json(st, true));
  row["split_remodelled_ips"] = s.remodelled_ips;
  row["split"] = Json{{"devices", {s.devices[0], s.devices[1]}},
                      {"cut_after", s.cut_after},
                      {"position", s.position},
                      {"tensors", s.tensors},
                      {"link_bytes", s.link_bytes},
                      {"link_busy_ms", s.link_busy_ms},
                      {"link_ms", s.link_ms},
                      {"predicted_bottleneck", s.predicted_bottleneck},
                      {"stages", stages},
                      {"energy_mj", s.energy_mj},
                      {"memory_mb", {s.memory_mb[0], s.memory_mb[1]}},
                      {"failed", s.failed}};
  row["split_predicted_ips"] = s.predicted_ips;
  row["split_measured_ips"] = s.measured_ips;
  row["predicted_over_measured"] = s.predicted_ips / s.measured_ips;
  row["gain_predicted"] = s.gain_predicted;
  row["gain_measured"] = s.gain_measured;
  row["gap"] = s.gap;
  row["exploration"] = exploration_json(m.exploration);
  return row;
}

// The deployed split's agreement with the float model, as " agreement 0.969" (reduced precision only).
std::string split_agreement(const PartitionModelResult& m) {
  for (const auto& p : m.front)
    if (p.deployed && p.agreement)
      return fmt::format("  agreement {:.3f} (output error {:.3f})", *p.agreement, p.output_error.value_or(0));
  return "";
}

void print_exploration(const PartitionModelResult& m) {
  if (!m.exploration) return;
  std::string line = fmt::format("  {:<16} exploration", m.label);
  for (const auto& c : *m.exploration)
    line += fmt::format("  {} devices: exact {:.2f} ms (NSGA-II {:.1f} ms, best {:.1f} vs {:.1f}/s)", c.devices,
                        c.exact_ms, c.nsga2_ms, c.exact_best_ips, c.nsga2_best_ips);
  std::cout << line << "\n";
}

}  // namespace

Json partition_report_json(const PartitionReport& report) {
  Json rows = Json::array();
  size_t explored = 0;  // models explored on longer chains (their fp32 setting)
  for (const auto& m : report.models) {
    rows.push_back(model_json(m));
    explored += m.exploration.has_value();
  }
  Json exploration_total{{"models", explored},
                         {"devices", {2, 3, 4}},
                         {"exact_ms", report.chains_exact_ms},
                         {"nsga2_ms", report.chains_nsga2_ms},
                         {"exact_over_nsga2_time", report.chains_exact_ms / std::max(1e-9, report.chains_nsga2_ms)}};
  return Json{{"settings", settings_json(report)},
              {"models", rows},
              {"explore_ms_total", report.explore_total_ms},
              {"exploration_total", exploration_total}};
}

void print_partition_started(const PartitionExperimentOptions& o, const PartitionSettings& s) {
  std::cout << fmt::format(
      "bench partition: 2 devices (1 core each{}, {} backend, {}), dev1 -> dev2 link {:.1f} Mbit/s + {} ms, {}\n",
      s.pinned ? ", pinned" : "", s.backend,
      o.system_file.empty() ? fmt::format("this core slowed down {} and {} times", o.slowdowns[0], o.slowdowns[1])
                            : "emulating the devices of " + o.system_file,
      s.link_rate, s.link_latency,
      o.explore_only ? "exploration only (nothing deployed)"
                     : fmt::format("batch 1, {} in flight, {} s per run", o.concurrency, o.seconds));
}

void print_partition_model(const PartitionModelResult& m) {
  if (m.deployed && !m.split)
    std::cout << fmt::format("  {:<16} single {:8.2f}/s measured ({}), no split on the front\n", m.label, m.single_ips,
                             m.single_device);
  if (m.deployed && m.split) {
    const MeasuredSplit& s = *m.split;
    std::cout << fmt::format(
        "  {:<16} single {:8.2f}/s ({})  split predicted {:8.2f}/s measured {:8.2f}/s "
        "(pred/meas {:.2f})  gain measured {:+.1f} % predicted {:+.1f} %  cut after {} ({:.0f} KB)  "
        "explore {:.2f} ms{}\n    {}\n",
        m.label, m.single_ips, m.single_device, s.predicted_ips, s.measured_ips, s.predicted_ips / s.measured_ips,
        100 * s.gain_measured, 100 * s.gain_predicted, s.cut_after, s.link_bytes / 1024.0, m.explore_ms,
        split_agreement(m), s.gap);
  }
  if (m.deployed && !m.accuracy_samples.empty())
    std::cout << fmt::format(
        "    alone: dev1 ({}) agreement {:.3f} (output error {:.3f}), dev2 ({}) agreement {:.3f} (output error "
        "{:.3f}), on {}\n",
        m.precisions[0], m.alone[0].agreement.value_or(1), m.alone[0].output_error.value_or(0), m.precisions[1],
        m.alone[1].agreement.value_or(1), m.alone[1].output_error.value_or(0), m.accuracy_samples);
  if (!m.deployed || m.split) print_exploration(m);
}

void print_partition_summary(const PartitionReport& report, const std::string& plot) {
  const auto& o = report.options;
  if (o.system_file.empty())
    std::cout << fmt::format(
        "exploration of {} models on 2, 3 and 4 devices: exact {:.1f} ms in total, NSGA-II {:.1f} ms "
        "(exact/NSGA-II time {:.3f})\n",
        std::count_if(report.models.begin(), report.models.end(),
                      [](const auto& m) { return m.exploration.has_value(); }),
        report.chains_exact_ms, report.chains_nsga2_ms,
        report.chains_exact_ms / std::max(1e-9, report.chains_nsga2_ms));
  if (o.explore_only) return;
  for (const auto& m : report.models)
    if (m.model == "efficientnet_b0" && m.split)
      std::cout << fmt::format(
          "EfficientNet-B0 gain of the best split over the best single device: measured {:+.1f} %, "
          "predicted {:+.1f} % (paper: {:+.1f} %, on its devices)\n",
          100 * m.split->gain_measured, 100 * m.split->gain_predicted, 100 * kPaperEfficientNetGain);
  std::cout << fmt::format("exploration time, all models: {:.2f} ms\nload average before {}, after {}\n",
                           report.explore_total_ms, report.settings.load_average_before,
                           report.settings.load_average_after);
  if (!plot.empty()) std::cout << "plot: " << plot << "\n";
}

}  // namespace fluidedge::cli
