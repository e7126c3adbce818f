#include "train/procedures.h"

#include <chrono>
#include <filesystem>
#include <functional>

#include "common/error.h"
#include "graph/onnx_io.h"

namespace fluidedge::train {
namespace {
namespace fs = std::filesystem;

// Written next to its final name, then renamed: a checkpoint is whole or absent.
void save_checkpoint(const graph::Graph& graph, const fs::path& file) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) fail("checkpoint directory {}: cannot create: {}", file.parent_path().string(), ec.message());
  fs::path partial = file.string() + ".partial";
  graph::save_onnx(graph, partial.string());
  fs::rename(partial, file, ec);
  if (ec) fail("checkpoint {}: cannot write: {}", file.string(), ec.message());
}

// Every trainable parameter of `m` from the checkpoint, which must hold each with its shape.
void load_checkpoint(Trainer& trainer, const SplitModel& m, const std::string& file) {
  graph::Graph saved = graph::load_onnx(file);
  for (const auto& [name, stage] : m.param_stage) {
    auto it = saved.initializers.find(name);
    graph::Tensor current = trainer.parameter(name);
    if (it == saved.initializers.end() || it->second.shape() != current.shape() ||
        it->second.dtype() != current.dtype())
      fail(
          "checkpoint {}: parameter '{}' is missing or has another shape: it was written for another model, "
          "variant or number of groups (delete it, or train without --resume)",
          file, name);
    trainer.set_parameter(name, it->second);
  }
}

}  // namespace

TrainResult train_variant(const graph::Graph& base, Variant variant, int groups, const data::Dataset& data,
                          const TrainConfig& config) {
  auto start = std::chrono::steady_clock::now();
  TrainResult result;
  result.model = width_split(base, variant, groups, config.seed);
  SplitModel& m = result.model;
  Trainer trainer(m.graph);
  // The teacher's logits on the (unshifted) training images, computed once.
  graph::Tensor teacher_logits;
  if ((config.teacher != "none") != (config.distill_weight > 0))
    fail("distillation needs both a teacher and a weight: got --teacher {} and --distill {}", config.teacher,
         config.distill_weight);
  if (variant == Variant::kStatic && config.teacher != "none")
    fail("--teacher applies to Dynamic and Fluid training, not to Static");
  if (config.teacher != "none") {
    graph::Graph teacher;
    if (config.teacher == "static") {
      TrainConfig c = config;
      c.teacher = "none";
      c.distill_weight = 0;
      if (!config.checkpoint_dir.empty()) c.checkpoint_dir = (fs::path(config.checkpoint_dir) / "teacher").string();
      TrainResult t = train_variant(base, Variant::kStatic, 1, data, c);
      result.stages.insert(result.stages.end(), t.stages.begin(), t.stages.end());
      result.stages.back().label = "teacher (static)";
      result.teacher_accuracy = t.accuracy.at("full");
      teacher = t.model.graph;
    } else {
      teacher = graph::load_onnx(config.teacher);
    }
    if (teacher.outputs.size() != 1)
      fail("teacher '{}' has {} outputs; a teacher must output one tensor of class logits", config.teacher,
           teacher.outputs.size());
    teacher_logits = Trainer(teacher).predict(data.train, teacher.outputs[0]);
    if (teacher_logits.rank() != 2 || teacher_logits.dim(1) != data.classes)
      fail("teacher '{}' outputs {}, not logits over {} classes", config.teacher,
           graph::shape_str(teacher_logits.shape()), data.classes);
  }
  // Runs stage `k` (or, resuming, loads its checkpoint), then saves the model as its checkpoint.
  int stage_number = 0;
  auto stage = [&](const std::string& label, const std::function<StageReport()>& train_it) {
    ++stage_number;
    fs::path file = config.checkpoint_dir.empty()
                        ? fs::path()
                        : fs::path(config.checkpoint_dir) / fmt::format("stage-{}.onnx", stage_number);
    if (config.resume && !file.empty() && fs::exists(file)) {
      load_checkpoint(trainer, m, file.string());
      StageReport r;
      r.label = label;
      r.from_checkpoint = true;
      result.stages.push_back(r);
      return;
    }
    result.stages.push_back(train_it());
    if (!file.empty()) save_checkpoint(trainer.graph(), file);
  };
  auto params_of_stage = [&](int stage) {
    std::set<std::string> s;
    for (const auto& [name, st] : m.param_stage)
      if (st == stage) s.insert(name);
    return s;
  };
  if (variant == Variant::kStatic) {
    std::set<std::string> all;
    for (const auto& [name, st] : m.param_stage) all.insert(name);
    stage("static", [&] { return trainer.train(data.train, all, {m.predictions.at("full")}, config, "static"); });
  } else {
    auto keys = subset_keys(variant, m.groups);
    for (int j = 1; j <= m.groups; ++j) {
      // Dynamic stage j: head over groups 1..j (key j-1 in order); Fluid: sub-network j alone.
      std::string key = variant == Variant::kDynamic ? keys[j - 1] : std::to_string(j);
      TrainConfig c = config;
      c.seed = config.seed + static_cast<uint64_t>(j);
      std::string label = fmt::format("{} stage {}", variant_name(variant), j);
      stage(label, [&] {
        return trainer.train(data.train, params_of_stage(j), {m.predictions.at(key)}, c, label, teacher_logits);
      });
    }
    if (variant == Variant::kFluid) {
      // Each combiner starts as the average of its members' heads (a logit-averaging ensemble,
      // usually better than its best member) and is then fine-tuned on the frozen trunks.
      std::vector<std::string> combiners;
      for (const auto& key : keys) {
        if (key.find('+') == std::string::npos) continue;
        combiners.push_back(m.predictions.at(key));
        std::vector<graph::Tensor> ws, bs;
        for (size_t p = 0; p < key.size(); p += 2) {
          std::string head = m.predictions.at(std::string(1, key[p]));
          ws.push_back(trainer.parameter(head + ".weight"));
          bs.push_back(trainer.parameter(head + ".bias"));
        }
        const std::string comb = m.predictions.at(key);
        graph::Tensor w = trainer.parameter(comb + ".weight"), b = trainer.parameter(comb + ".bias");
        int64_t classes = w.dim(0), offset = 0;
        float share = 1.f / static_cast<float>(ws.size());
        for (size_t i = 0; i < ws.size(); ++i) {
          int64_t cols = ws[i].dim(1);
          for (int64_t r = 0; r < classes; ++r)
            for (int64_t c = 0; c < cols; ++c)
              w.data<float>()[r * w.dim(1) + offset + c] = share * ws[i].data<float>()[r * cols + c];
          offset += cols;
        }
        for (int64_t r = 0; r < classes; ++r) {
          float sum = 0;
          for (const auto& bi : bs) sum += bi.data<float>()[r];
          b.data<float>()[r] = share * sum;
        }
        trainer.set_parameter(comb + ".weight", w);
        trainer.set_parameter(comb + ".bias", b);
      }
      TrainConfig c = config;
      c.seed = config.seed + 100;
      c.epochs = std::max(1, config.epochs / 3);
      c.learning_rate = config.learning_rate / 4;
      stage("fluid combiners", [&] {
        return trainer.train(data.train, params_of_stage(m.groups + 1), combiners, c, "fluid combiners",
                             teacher_logits);
      });
    }
  }
  m.graph = trainer.graph();
  std::vector<std::string> outputs;
  auto keys = subset_keys(variant, m.groups);
  for (const auto& k : keys) outputs.push_back(m.predictions.at(k));
  auto acc = trainer.accuracy(data.test, outputs);
  for (const auto& k : keys) result.accuracy[k] = acc.at(m.predictions.at(k));
  result.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace fluidedge::train
