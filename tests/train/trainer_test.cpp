#include <random>

#include <gtest/gtest.h>

#include "runtime/reference/reference_session.h"
#include "train/deploy.h"
#include "train/trainer.h"
#include "train/width_split.h"
#include "zoo/zoo.h"

namespace fluidedge::train {
namespace {

graph::Tensor random_images(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  graph::Tensor t(graph::DType::kFloat32, {n, 1, 28, 28});
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

runtime::TensorMap run(const graph::Graph& g, const runtime::TensorMap& inputs) {
  runtime::reference::register_reference_backend();
  return runtime::make_session("reference", g)->run(inputs);
}

// Changing every weight of sub-network 2 leaves sub-network 1's output bit-identical, and the
// other way round.
TEST(FluidIndependence, ChangingOneSubnetworkLeavesTheOthersBitIdentical) {
  SplitModel m = width_split(zoo::build_model("paper_cnn"), Variant::kFluid, 2, 5);
  graph::Tensor x = random_images(3, 1);
  auto before = run(m.graph, {{"input", x}});
  for (int changed = 1; changed <= 2; ++changed) {
    graph::Graph g = m.graph;
    for (const auto& [name, stage] : m.param_stage)
      if (stage == changed) {
        graph::Tensor t = g.initializers.at(name).clone();
        for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] += 0.25f;
        g.set_initializer(name, t);
      }
    auto after = run(g, {{"input", x}});
    int other = 3 - changed;
    const std::string& kept = m.predictions.at(std::to_string(other));
    EXPECT_TRUE(after.at(kept).equals(before.at(kept))) << "sub-network " << other;
    const std::string& touched = m.predictions.at(std::to_string(changed));
    EXPECT_FALSE(after.at(touched).equals(before.at(touched)));
  }
}

// Dynamic: group 1's prediction computed without group 2 at all equals the full model's.
TEST(DynamicIndependence, RemovingTheLastGroupLeavesEarlierGroupsUnchanged) {
  SplitModel m = width_split(zoo::build_model("paper_cnn"), Variant::kDynamic, 2, 5);
  graph::Tensor x = random_images(2, 2);
  auto full = run(m.graph, {{"input", x}});
  auto parts = deployable_parts(m);
  const graph::Graph& group1 = parts.at(0).graph;
  for (const auto& [name, t] : group1.initializers)
    if (m.param_stage.count(name)) {
      EXPECT_EQ(m.param_stage.at(name), 1) << name;
    }
  auto alone = run(group1, {{"input", x}});
  EXPECT_TRUE(alone.at(m.predictions.at("1")).equals(full.at(m.predictions.at("1"))));
}

// The parts, run one after another as devices would, predict what the full model predicts.
TEST(DeployableParts, RunInSequenceEqualTheFullModel) {
  graph::Tensor x = random_images(4, 3);
  for (Variant v : {Variant::kFluid, Variant::kDynamic}) {
    SplitModel m = width_split(zoo::build_model("paper_cnn"), v, 2, 9);
    auto full = run(m.graph, {{"input", x}});
    runtime::TensorMap values{{"input", x}};
    for (const Part& p : deployable_parts(m)) {
      runtime::TensorMap feeds;
      for (const auto& in : p.graph.inputs) feeds[in] = values.at(in);
      auto out = run(p.graph, feeds);
      for (auto& [k, t] : out) values[k] = t;
      const std::string& pred = m.predictions.at(p.key);
      EXPECT_TRUE(values.at(pred).equals(full.at(pred))) << variant_name(v) << " " << p.name;
    }
  }
}

// Training one stage leaves the other stages' parameters bit-identical (freezing works).
TEST(Trainer, FreezesEverythingOutsideTheStage) {
  SplitModel m = width_split(zoo::build_model("paper_cnn"), Variant::kFluid, 2, 4);
  data::Split d;
  d.images = random_images(64, 4);
  std::vector<int64_t> labels(64);
  for (int i = 0; i < 64; ++i) labels[i] = i % 10;
  d.labels = graph::Tensor::from_vector<int64_t>({64}, labels);
  Trainer trainer(m.graph);
  std::set<std::string> stage2;
  for (const auto& [name, stage] : m.param_stage)
    if (stage == 2) stage2.insert(name);
  TrainConfig c;
  c.epochs = 2;
  c.batch = 16;
  auto report = trainer.train(d, stage2, {m.predictions.at("2")}, c, "test");
  EXPECT_GT(report.seconds, 0);
  graph::Graph trained = trainer.graph();
  int changed = 0;
  for (const auto& [name, stage] : m.param_stage) {
    bool same = trained.initializers.at(name).equals(m.graph.initializers.at(name));
    if (stage == 2) changed += !same;
    else EXPECT_TRUE(same) << name << " (stage " << stage << ") changed while training stage 2";
  }
  EXPECT_GT(changed, 0);
  // Accuracy is a fraction per output.
  auto acc = trainer.accuracy(d, {m.predictions.at("1"), m.predictions.at("2")});
  for (const auto& [k, a] : acc) {
    EXPECT_GE(a, 0.0);
    EXPECT_LE(a, 1.0);
  }
}

TEST(Trainer, BadConfigIsAnError) {
  SplitModel m = width_split(zoo::build_model("paper_cnn"), Variant::kStatic, 1, 4);
  data::Split d;
  d.images = random_images(8, 1);
  d.labels = graph::Tensor::from_vector<int64_t>({8}, std::vector<int64_t>(8, 1));
  Trainer trainer(m.graph);
  TrainConfig c;
  c.optimizer = "lion";
  EXPECT_THROW(trainer.train(d, {"x"}, {m.predictions.at("full")}, c, "bad"), Error);
  c.optimizer = "adam";
  EXPECT_THROW(trainer.train(d, {"not-a-parameter"}, {m.predictions.at("full")}, c, "bad"), Error);
}

}  // namespace
}  // namespace fluidedge::train
