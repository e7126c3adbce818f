// `fluidedge train`: trains a Static, Dynamic or Fluid model on a dataset and writes the full
// model, one ONNX file per deployable part, the combiners, and metrics.json.
#include <filesystem>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/json_output.h"
#include "cli/model_source.h"
#include "cluster/model_directory.h"
#include "common/atomic_file.h"
#include "common/files.h"
#include "data/dataset.h"
#include "graph/cost.h"
#include "graph/onnx_io.h"
#include "train/deploy.h"
#include "train/procedures.h"

namespace fluidedge::cli {

namespace {

struct TrainOptions {
  std::string variant = "fluid";
  int groups = 2;
  std::string data = "mnist";
  std::string model = "zoo:paper_cnn";
  std::string out;
  train::TrainConfig config;
  bool json = false;
};

Json write_part(const graph::Graph& g, const std::filesystem::path& file, const std::string& role) {
  graph::save_onnx(g, file.string());
  auto cost = graph::graph_cost(g);
  Json inputs = Json::array(), outputs = Json::array();
  for (const auto& in : g.inputs) inputs.push_back(value_json(g, in));
  for (const auto& out : g.outputs) outputs.push_back(value_json(g, out));
  return Json{{"file", file.filename().string()},
              {"role", role},
              {"params", cost.params},
              {"macs", cost.macs},
              {"inputs", inputs},
              {"outputs", outputs}};
}

void run_train(const TrainOptions& o) {
  train::Variant variant = train::variant_from_name(o.variant);
  namespace fs = std::filesystem;
  graph::Graph base = load_model(o.model);
  data::Dataset data = data::load_dataset(o.data);
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) fail("--out {}: cannot create: {}", o.out, ec.message());
  const graph::Shape& in = base.value(base.inputs.at(0)).shape;
  if (in.size() != 4 || in[1] != data.train.images.dim(1) || in[2] != data.train.images.dim(2) ||
      in[3] != data.train.images.dim(3))
    fail("model {} takes input {}, but dataset '{}' has images of {}x{}x{}", o.model, graph::shape_str(in), o.data,
         data.train.images.dim(1), data.train.images.dim(2), data.train.images.dim(3));

  train::TrainConfig config = o.config;
  if (config.checkpoint_dir.empty()) config.checkpoint_dir = (fs::path(o.out) / "checkpoints").string();
  train::TrainResult r = train::train_variant(base, variant, o.groups, data, config);
  const train::SplitModel& m = r.model;
  const graph::Graph& g = m.graph;
  fs::path dir(o.out);
  graph::save_onnx(g, (dir / "model.onnx").string());

  // Deployable parts, and the manifest.
  cluster::ModelManifest manifest;
  manifest.variant = o.variant;
  for (const train::Part& p : train::deployable_parts(m)) {
    cluster::ManifestPart part{(p.name + ".onnx"), p.key, write_part(p.graph, dir / (p.name + ".onnx"), p.role)};
    (p.name.starts_with("combiner") ? manifest.combiners : manifest.parts).push_back(std::move(part));
  }
  for (const auto& key : train::subset_keys(variant, m.groups)) manifest.accuracy[key] = r.accuracy.at(key);
  Json stages = Json::array();
  for (const auto& s : r.stages)
    stages.push_back(Json{{"stage", s.label},
                          {"epochs", s.epochs},
                          {"seconds", s.seconds},
                          {"final_loss", s.final_loss},
                          {"from_checkpoint", s.from_checkpoint}});
  for (const auto& [key, value] : m.predictions) manifest.outputs[key] = value;
  auto total = graph::graph_cost(g);
  manifest.dataset = o.data;
  manifest.train_seconds = r.train_seconds;
  manifest.params = total.params;
  manifest.macs = total.macs;
  manifest.extra = {{"groups", m.groups},
                    {"base_model", o.model},
                    {"stages", stages},
                    {"config",
                     {{"epochs", o.config.epochs},
                      {"batch", o.config.batch},
                      {"optimizer", o.config.optimizer},
                      {"learning_rate", o.config.learning_rate},
                      {"max_shift", o.config.max_shift},
                      {"max_rotation", o.config.max_rotation},
                      {"max_scale", o.config.max_scale},
                      {"label_smoothing", o.config.label_smoothing},
                      {"teacher", o.config.teacher},
                      {"distill_weight", o.config.distill_weight},
                      {"distill_temperature", o.config.distill_temperature},
                      {"seed", o.config.seed}}}};
  if (r.teacher_accuracy >= 0) manifest.extra["teacher_accuracy"] = r.teacher_accuracy;
  const cluster::ModelDirectory model_dir(dir.string());
  model_dir.write(manifest);
  if (o.json) {
    print_json(Json::parse(read_file(model_dir.manifest_path(), "the manifest just written")));
    return;
  }
  fmt::print("trained {} ({} groups) on {} in {:.1f} s; wrote {}\n", o.variant, m.groups, o.data, r.train_seconds,
             o.out);
  for (const auto& [key, a] : manifest.accuracy) fmt::print("  accuracy {:<8} {:.2f} %\n", key, 100.0 * a);
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  auto* cmd = app.add_subcommand("train", "Train a Static, Dynamic or Fluid model and write its deployable parts");
  cmd->add_option("--variant", o->variant, "static, dynamic or fluid (default fluid)")
      ->check(CLI::IsMember({"static", "dynamic", "fluid"}));
  cmd->add_option("--groups", o->groups, "Channel groups / sub-networks, 2 to 4 (default 2)")->check(CLI::Range(1, 4));
  cmd->add_option("--data", o->data, "mnist, fashion-mnist or a directory of IDX files (default mnist)");
  cmd->add_option("--model", o->model, "Base CNN: zoo:NAME or an ONNX file (default zoo:paper_cnn)");
  cmd->add_option("--epochs", o->config.epochs, "Epochs per stage (default 15)")->check(CLI::PositiveNumber);
  cmd->add_option("--batch", o->config.batch, "Mini-batch size (default 64)")->check(CLI::PositiveNumber);
  cmd->add_option("--optimizer", o->config.optimizer, "adam or sgd (default adam)")
      ->check(CLI::IsMember({"adam", "sgd"}));
  cmd->add_option("--lr", o->config.learning_rate, "Peak learning rate, cosine-decayed (default 4e-3)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--shift", o->config.max_shift, "Random shift augmentation in pixels (default 2)")
      ->check(CLI::Range(0, 8));
  cmd->add_option("--rotate", o->config.max_rotation, "Random rotation augmentation in degrees (default 10)")
      ->check(CLI::Range(0.0, 180.0));
  cmd->add_option("--scale", o->config.max_scale, "Random zoom augmentation, a fraction (default 0.1)")
      ->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--label-smoothing", o->config.label_smoothing, "Label smoothing (default 0.1)")
      ->check(CLI::Range(0.0, 0.99));
  cmd->add_option("--checkpoints", o->config.checkpoint_dir,
                  "Where the model is saved after every stage (default OUT/checkpoints)");
  cmd->add_flag("--resume", o->config.resume,
                "Load the stages whose checkpoint exists instead of training them (after an interrupted run)");
  cmd->add_option("--teacher", o->config.teacher,
                  "Dynamic/Fluid: distil from 'none', 'static' (trained first, same recipe) or a model ONNX file");
  cmd->add_option("--distill", o->config.distill_weight, "Weight of the distillation loss, 0 to 1 (default 0: off)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--temperature", o->config.distill_temperature, "Distillation temperature (default 4)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", o->config.seed, "Seed of weights, shuffling and augmentation (default 1)");
  cmd->add_option("--out,-o", o->out, "Output directory")->required();
  cmd->add_flag("--json", o->json, "Print metrics.json to stdout too");
  cmd->callback([o] { run_train(*o); });
}

}  // namespace fluidedge::cli
