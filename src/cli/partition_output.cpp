#include "cli/partition_output.h"

#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/json_output.h"
#include "cli/report/charts.h"
#include "partition/cut.h"

namespace fluidedge::cli {

using namespace fluidedge::partition;

namespace {
namespace fs = std::filesystem;
constexpr double kMiB = 1024.0 * 1024.0;
}  // namespace

// Which constraint of system.yaml a failure reason is about.
std::string constraint_of(const std::string& reason) {
  if (reason.find("MB limit") != std::string::npos) return "constraints.max_memory_mb (or the devices' memory_mb)";
  if (reason.find("Mbit/s") != std::string::npos) return "constraints.target_fps (or the links' rate_mbps)";
  if (reason.find("latency") != std::string::npos) return "constraints.max_latency_ms";
  return "";
}

std::string device_names(const SystemDescription& s, const PipelinePlan& p) {
  std::vector<std::string> names;
  for (int d : p.devices) names.push_back(s.devices[d].name);
  return fmt::format("{}", fmt::join(names, ">"));
}

// Names of the last node before each cut ("after NODE").
std::vector<std::string> cut_names(const graph::Graph& g, const PipelinePlan& p) {
  std::vector<std::string> names;
  for (int pos : p.positions) names.push_back(g.nodes[pos - 1].name);
  return names;
}

Json accuracy_json(const PlanAccuracy& a) {
  std::vector<std::string> precisions;  // per stage; empty: every stage in fp32
  for (Precision p : a.precisions) precisions.push_back(precision_name(p));
  Json j{{"transfer", precision_name(a.transfer)},
         {"stage_precisions", precisions},
         {"samples", a.samples},
         {"agreement", a.agreement},
         {"output_relative_error", a.output_relative_error}};
  if (a.accuracy) {
    j["accuracy"] = *a.accuracy;
    j["float_accuracy"] = *a.float_accuracy;
  }
  return j;
}

Json plan_summary_json(const graph::Graph& g, const SystemDescription& s, const Evaluated& e, int index, bool chosen) {
  const PlanCost& c = e.cost;
  std::vector<double> memory_mb;
  for (auto b : c.memory_bytes) memory_mb.push_back(static_cast<double>(b) / kMiB);
  std::vector<std::string> devices;
  for (int d : c.plan.devices) devices.push_back(s.devices[d].name);
  Json j{{"index", index},
         {"chosen", chosen},
         {"stages", c.plan.devices.size()},
         {"devices", devices},
         {"positions", c.plan.positions},
         {"cut_after", cut_names(g, c.plan)},
         {"throughput_fps", c.throughput_fps},
         {"period_ms", c.period_ms},
         {"latency_ms", c.latency_ms},
         {"energy_mj", c.energy_mj},
         {"peak_memory_mb", static_cast<double>(c.peak_memory_bytes) / kMiB},
         {"total_link_bytes", c.total_link_bytes},
         {"stage_ms", c.stage_ms},
         {"link_ms", c.link_ms},
         {"link_bytes", c.link_bytes},
         {"memory_mb", memory_mb}};
  if (e.accuracy) j["accuracy"] = accuracy_json(*e.accuracy);
  return j;
}

std::string front_csv(const graph::Graph& g, const SystemDescription& s, const std::vector<Evaluated>& front,
                      size_t chosen) {
  std::ostringstream o;
  o << "index,chosen,stages,devices,positions,cut_after,throughput_fps,period_ms,latency_ms,energy_mj,peak_memory_mb,"
       "total_link_bytes,agreement,accuracy\n";
  auto quote = [](const std::string& text) {
    std::string q = "\"";
    for (char c : text) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  for (size_t i = 0; i < front.size(); ++i) {
    const PlanCost& c = front[i].cost;
    o << fmt::format(
        "{},{},{},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{},{},{}\n", i + 1, i == chosen ? 1 : 0,
        c.plan.devices.size(), quote(device_names(s, c.plan)),
        quote(fmt::format("{}", fmt::join(c.plan.positions, " "))),
        quote(fmt::format("{}", fmt::join(cut_names(g, c.plan), " "))), c.throughput_fps, c.period_ms, c.latency_ms,
        c.energy_mj, static_cast<double>(c.peak_memory_bytes) / kMiB, c.total_link_bytes,
        front[i].accuracy ? fmt::format("{:.6g}", front[i].accuracy->agreement) : "",
        front[i].accuracy && front[i].accuracy->accuracy ? fmt::format("{:.6g}", *front[i].accuracy->accuracy) : "");
  }
  return o.str();
}

// The front as a PNG: throughput against latency, one colour per number of stages, the chosen
// plan ringed, plans dropped by min_accuracy apart.
void draw_front(const std::string& image, const std::string& model, const SystemDescription& s,
                const std::vector<Evaluated>& front, const std::vector<Evaluated>& dropped, size_t chosen,
                const std::string& chosen_by) {
  report::Scatter chart;
  chart.title = fmt::format("{}: Pareto front on {}", model, fs::path(s.source).filename().string());
  chart.x_label = "end-to-end latency (ms)";
  chart.y_label = "pipeline throughput (inferences/s)";
  size_t max_stages = 0;
  for (const auto& e : front) max_stages = std::max(max_stages, e.cost.plan.devices.size());
  for (size_t k = 1; k <= max_stages; ++k)
    chart.series.push_back({fmt::format("{} stage{}", k, k == 1 ? "" : "s"), {}, {}, {}});
  // Labels only while they stay readable.
  const bool labelled = front.size() <= 16;
  for (size_t i = 0; i < front.size(); ++i) {
    const PlanCost& c = front[i].cost;
    auto& series = chart.series[c.plan.devices.size() - 1];
    series.x.push_back(c.latency_ms);
    series.y.push_back(c.throughput_fps);
    if (labelled) series.labels.push_back(fmt::format("#{} {}", i + 1, device_names(s, c.plan)));
    if (i == chosen) {
      chart.highlighted = {
          "chosen (" + chosen_by + ")", {c.latency_ms}, {c.throughput_fps}, {fmt::format("#{}", i + 1)}};
    }
  }
  for (auto& series : chart.series)
    if (!series.labels.empty() && series.labels.size() != series.x.size()) series.labels.clear();
  if (!dropped.empty()) {
    report::ScatterSeries below{"below min_accuracy (dropped)", {}, {}, {}};
    for (const auto& e : dropped) {
      below.x.push_back(e.cost.latency_ms);
      below.y.push_back(e.cost.throughput_fps);
    }
    chart.series.push_back(below);
  }
  report::draw_scatter(image, chart);
}

Json chosen_plan_json(const graph::Graph& g, const SystemDescription& system, const Evaluated& plan, size_t chosen,
                      const std::vector<graph::Graph>& stages, const std::vector<std::string>& stage_files,
                      const std::string& model, Objective chosen_by, Precision transfer) {
  Json plan_json{{"model", model},
                 {"system", system.source},
                 {"chosen_by", objective_name(chosen_by)},
                 {"transfer", precision_name(transfer)},
                 {"nodes", g.nodes.size()}};
  plan_json["summary"] = plan_summary_json(g, system, plan, static_cast<int>(chosen) + 1, true);
  const PlanCost& c = plan.cost;
  const std::vector<int> bounds = stage_bounds(c.plan.positions, static_cast<int>(g.nodes.size()));
  Json stage_list = Json::array(), link_list = Json::array(), cut_list = Json::array();
  for (size_t s = 0; s < stages.size(); ++s) {
    Json inputs = Json::array(), outputs = Json::array();
    for (const auto& v : stages[s].inputs) inputs.push_back(value_json(stages[s], v));
    for (const auto& v : stages[s].outputs) outputs.push_back(value_json(stages[s], v));
    stage_list.push_back(Json{{"stage", s + 1},
                              {"device", system.devices[c.plan.devices[s]].name},
                              {"precision", precision_name(system.devices[c.plan.devices[s]].precision)},
                              {"file", stage_files[s]},
                              {"first_node", g.nodes[bounds[s]].name},
                              {"last_node", g.nodes[bounds[s + 1] - 1].name},
                              {"node_range", {bounds[s], bounds[s + 1]}},
                              {"compute_ms", c.stage_ms[s]},
                              {"memory_mb", static_cast<double>(c.memory_bytes[s]) / kMiB},
                              {"inputs", inputs},
                              {"outputs", outputs}});
  }
  std::vector<Cut> all_cuts = enumerate_cuts(g);
  for (size_t k = 0; k < c.plan.positions.size(); ++k) {
    const Cut& cut = all_cuts[c.plan.positions[k] - 1];
    cut_list.push_back(Json{{"position", cut.position},
                            {"after_node", g.nodes[cut.position - 1].name},
                            {"tensors", cut.tensors},
                            {"fp32_bytes", cut.bytes}});
    link_list.push_back(Json{{"from", system.devices[c.plan.devices[k]].name},
                             {"to", system.devices[c.plan.devices[k + 1]].name},
                             {"tensors", cut.tensors},
                             {"bytes", c.link_bytes[k]},
                             {"transfer_ms", c.link_ms[k]},
                             {"busy_ms", c.link_busy_ms[k]},
                             {"utilisation", c.link_utilisation[k]}});
  }
  plan_json["devices"] = plan_summary_json(g, system, plan, 0, true)["devices"];
  plan_json["cuts"] = cut_list;
  plan_json["stages"] = stage_list;
  plan_json["links"] = link_list;

  return plan_json;
}

}  // namespace fluidedge::cli
