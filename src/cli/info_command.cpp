// `fluidedge info MODEL`: what a model is and what it costs, before running anything.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/json_output.h"
#include "cli/model_source.h"
#include "graph/cost.h"
#include "graph/shape_inference.h"

namespace fluidedge::cli {

namespace {

struct InfoOptions {
  std::string model;
  int64_t batch = 0;
  bool json = false;
};

std::string human(double v) {
  if (v >= 1e9) return fmt::format("{:.2f} G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.2f} k", v / 1e3);
  return fmt::format("{:.0f} ", v);
}

void run_info(const InfoOptions& o) {
  graph::Graph g = load_model(o.model);
  if (o.batch > 0) graph::set_batch(g, o.batch);
  graph::GraphCost cost = graph::graph_cost(g);
  if (o.json) {
    Json j;
    j["model"] = o.model;
    j["name"] = g.name;
    j["opset"] = g.opset;
    j["batch"] = graph::graph_batch(g);
    j["params"] = cost.params;
    j["macs"] = cost.macs;
    j["nodes"] = g.nodes.size();
    j["weight_bytes"] = cost.weight_bytes;
    j["activation_bytes"] = cost.activation_bytes;
    j["largest_activation_bytes"] = cost.largest_activation_bytes;
    j["ops"] = cost.op_histogram;
    j["inputs"] = Json::array();
    for (const auto& in : g.inputs) j["inputs"].push_back(value_json(g, in));
    j["outputs"] = Json::array();
    for (const auto& out : g.outputs) j["outputs"].push_back(value_json(g, out));
    print_json(j);
    return;
  }
  fmt::print("model       {}\n", o.model);
  fmt::print("graph       {} (opset {}, {} nodes)\n", g.name, g.opset, g.nodes.size());
  for (const auto& in : g.inputs) {
    const auto& v = g.value(in);
    fmt::print("input       {} {} {}\n", in, graph::dtype_name(v.dtype), graph::shape_str(v.shape));
  }
  for (const auto& out : g.outputs) {
    const auto& v = g.value(out);
    fmt::print("output      {} {} {}\n", out, graph::dtype_name(v.dtype), graph::shape_str(v.shape));
  }
  fmt::print("params      {}({})\n", human(static_cast<double>(cost.params)), cost.params);
  fmt::print("MACs        {}({}) at batch {}\n", human(static_cast<double>(cost.macs)), cost.macs,
             graph::graph_batch(g));
  fmt::print("weights     {}B\n", human(static_cast<double>(cost.weight_bytes)));
  fmt::print("activations {}B in total, largest {}B\n", human(static_cast<double>(cost.activation_bytes)),
             human(static_cast<double>(cost.largest_activation_bytes)));
  std::string ops;
  for (const auto& [op, n] : cost.op_histogram) ops += fmt::format("{}{} {}", ops.empty() ? "" : ", ", op, n);
  fmt::print("ops         {}\n", ops);
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto opts = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand("info", "Show a model's inputs, outputs, parameters, MACs and operators");
  cmd->add_option("MODEL", opts->model, kModelHelp)->required();
  cmd->add_option("--batch", opts->batch, "Batch size for MACs and activation sizes (default: the model's)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", opts->json, "Print one JSON object to stdout");
  cmd->callback([opts] { run_info(*opts); });
}

}  // namespace fluidedge::cli
