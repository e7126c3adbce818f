#include "train/procedures.h"

#include <chrono>

#include "common/error.h"
#include "graph/onnx_io.h"

namespace fluidedge::train {

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
  auto params_of_stage = [&](int stage) {
    std::set<std::string> s;
    for (const auto& [name, st] : m.param_stage)
      if (st == stage) s.insert(name);
    return s;
  };
  if (variant == Variant::kStatic) {
    std::set<std::string> all;
    for (const auto& [name, st] : m.param_stage) all.insert(name);
    result.stages.push_back(trainer.train(data.train, all, {m.predictions.at("full")}, config, "static"));
  } else {
    auto keys = subset_keys(variant, m.groups);
    for (int j = 1; j <= m.groups; ++j) {
      // Dynamic stage j: head over groups 1..j (key j-1 in order); Fluid: sub-network j alone.
      std::string key = variant == Variant::kDynamic ? keys[j - 1] : std::to_string(j);
      TrainConfig c = config;
      c.seed = config.seed + static_cast<uint64_t>(j);
      result.stages.push_back(trainer.train(data.train, params_of_stage(j), {m.predictions.at(key)}, c,
                                            fmt::format("{} stage {}", variant_name(variant), j), teacher_logits));
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
      result.stages.push_back(
          trainer.train(data.train, params_of_stage(m.groups + 1), combiners, c, "fluid combiners", teacher_logits));
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
