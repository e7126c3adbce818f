// `fluidedge zoo list|export`: the built-in architectures, as ONNX files anyone can run.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/json_output.h"
#include "graph/cost.h"
#include "graph/onnx_io.h"
#include "zoo/zoo.h"

namespace fluidedge::cli {

namespace {

struct ZooOptions {
  std::string name;
  std::string out;
  uint64_t seed = 0;
  bool json = false;
};

void run_list(const ZooOptions& o) {
  Json models = Json::array();
  if (!o.json) fmt::print("{:<16} {:>12} {:>14}  {:<16} {}\n", "name", "params", "MACs", "input", "description");
  for (const auto& name : zoo::zoo_names()) {
    graph::Graph g = zoo::build_model(name);
    auto cost = graph::graph_cost(g);
    const auto& in = g.value(g.inputs.at(0));
    if (o.json) {
      models.push_back(Json{{"name", name},
                            {"params", cost.params},
                            {"macs", cost.macs},
                            {"input", in.shape},
                            {"description", zoo::zoo_description(name)}});
    } else {
      fmt::print("{:<16} {:>12} {:>14}  {:<16} {}\n", name, cost.params, cost.macs, graph::shape_str(in.shape),
                 zoo::zoo_description(name));
    }
  }
  if (o.json) print_json(Json{{"models", models}});
}

void run_export(const ZooOptions& o) {
  graph::Graph g = zoo::build_model(o.name, o.seed);
  graph::save_onnx(g, o.out);
  auto cost = graph::graph_cost(g);
  if (o.json) {
    print_json(Json{{"model", o.name}, {"out", o.out}, {"params", cost.params}, {"macs", cost.macs}});
  } else {
    fmt::print("wrote {} ({} params, {} MACs) to {}\n", o.name, cost.params, cost.macs, o.out);
  }
}

}  // namespace

void add_zoo_command(CLI::App& app) {
  auto opts = std::make_shared<ZooOptions>();
  auto* zoo = app.add_subcommand("zoo", "Built-in model architectures");
  zoo->require_subcommand(1);
  auto* list = zoo->add_subcommand("list", "List the built-in architectures");
  list->add_flag("--json", opts->json, "Print one JSON object to stdout");
  list->callback([opts] { run_list(*opts); });
  auto* exp = zoo->add_subcommand("export", "Write a built-in architecture (random weights) as ONNX");
  exp->add_option("NAME", opts->name, "Architecture name (see `fluidedge zoo list`)")->required();
  exp->add_option("--out,-o", opts->out, "Output ONNX file")->required();
  exp->add_option("--seed", opts->seed, "Seed of the random weights");
  exp->add_flag("--json", opts->json, "Print one JSON object to stdout");
  exp->callback([opts] { run_export(*opts); });
}

}  // namespace fluidedge::cli
