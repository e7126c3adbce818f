#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "runtime/reference/reference_session.h"
#include "train/deploy.h"
#include "train/procedures.h"
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

// `n` random images labelled 0, 1, ..., 9, 0, 1, ...
data::Split labelled_images(int64_t n, uint32_t seed) {
  data::Split split;
  split.images = random_images(n, seed);
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = i % 10;
  split.labels = graph::Tensor::from_vector<int64_t>({n}, labels);
  return split;
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
  data::Split d = labelled_images(64, 4);
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
    if (stage == 2)
      changed += !same;
    else
      EXPECT_TRUE(same) << name << " (stage " << stage << ") changed while training stage 2";
  }
  EXPECT_GT(changed, 0);
  // Accuracy is a fraction per output.
  auto acc = trainer.accuracy(d, {m.predictions.at("1"), m.predictions.at("2")});
  for (const auto& [k, a] : acc) {
    EXPECT_GE(a, 0.0);
    EXPECT_LE(a, 1.0);
  }
}

// Images of one shape drawn at the centre of a 28x28 frame: a disc of radius 6, or a horizontal
// bar 2 pixels high and 20 wide.
graph::Tensor centred(const std::string& shape, int64_t n) {
  graph::Tensor t(graph::DType::kFloat32, {n, 1, 28, 28});
  for (int64_t i = 0; i < n; ++i)
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) {
        float dy = static_cast<float>(y) - 13.5f, dx = static_cast<float>(x) - 13.5f;
        bool on = shape == "disc" ? dx * dx + dy * dy <= 36.f : (y == 13 || y == 14) && x >= 4 && x < 24;
        t.data<float>()[(i * 28 + y) * 28 + x] = on ? 1.f : 0.f;
      }
  return t;
}

float max_abs_diff(const graph::Tensor& a, const graph::Tensor& b, int64_t image) {
  float m = 0;
  for (int64_t p = image * 784; p < (image + 1) * 784; ++p)
    m = std::max(m, std::abs(a.data<float>()[p] - b.data<float>()[p]));
  return m;
}

TEST(Augmentation, OffLeavesImagesUnchangedAndShiftsMoveWholePixels) {
  graph::Tensor x = random_images(4, 7);
  TrainConfig off;
  off.max_shift = 0;
  off.max_rotation = 0;
  off.max_scale = 0;
  EXPECT_TRUE(augment_images(x, off, 1).equals(x));
  // Integer shifts keep every pixel value of a centred bar (nothing is cut off), and move it.
  TrainConfig shift = off;
  shift.max_shift = 2;
  graph::Tensor bar = centred("bar", 16);
  graph::Tensor moved = augment_images(bar, shift, 3);
  int changed = 0;
  for (int64_t i = 0; i < 16; ++i) {
    float sum = 0;
    for (int64_t p = i * 784; p < (i + 1) * 784; ++p) sum += moved.data<float>()[p];
    EXPECT_FLOAT_EQ(sum, 40.f) << i;
    changed += max_abs_diff(moved, bar, i) > 0.5f;
  }
  EXPECT_GT(changed, 0);
}

// Rotation about the centre leaves a centred disc (almost) as it is but turns a bar; the same
// seed gives the same distortion.
TEST(Augmentation, RotationTurnsImagesAboutTheirCentre) {
  TrainConfig rotate;
  rotate.max_shift = 0;
  rotate.max_scale = 0;
  rotate.max_rotation = 90;
  graph::Tensor disc = centred("disc", 8), bar = centred("bar", 8);
  graph::Tensor disc_r = augment_images(disc, rotate, 5), bar_r = augment_images(bar, rotate, 5);
  int bars_turned = 0;
  for (int64_t i = 0; i < 8; ++i) {
    double diff = 0;
    for (int64_t p = i * 784; p < (i + 1) * 784; ++p) diff += std::abs(disc_r.data<float>()[p] - disc.data<float>()[p]);
    EXPECT_LT(diff / 113.0, 0.15) << "disc " << i << " changed by rotation";  // 113: the disc's area
    bars_turned += max_abs_diff(bar_r, bar, i) > 0.5f;
  }
  EXPECT_GE(bars_turned, 6);
  EXPECT_TRUE(augment_images(bar, rotate, 5).equals(bar_r));
  EXPECT_FALSE(augment_images(bar, rotate, 6).equals(bar_r));
}

// With the whole loss on distillation, a model learns the teacher's answer (3), not the
// labels (7); without it, the labels.
TEST(Trainer, DistillationFollowsTheTeacher) {
  SplitModel m = width_split(zoo::build_model("paper_cnn"), Variant::kFluid, 2, 4);
  data::Split d;
  d.images = random_images(64, 8);
  d.labels = graph::Tensor::from_vector<int64_t>({64}, std::vector<int64_t>(64, 7));
  graph::Tensor teacher(graph::DType::kFloat32, {64, 10});
  for (int64_t i = 0; i < 64; ++i)
    for (int c = 0; c < 10; ++c) teacher.data<float>()[i * 10 + c] = c == 3 ? 8.f : 0.f;
  std::set<std::string> stage1;
  for (const auto& [name, stage] : m.param_stage)
    if (stage == 1) stage1.insert(name);
  auto share_of_class3 = [&](double weight) {
    Trainer trainer(m.graph);
    TrainConfig c;
    c.epochs = 3;
    c.batch = 16;
    c.distill_weight = weight;
    trainer.train(d, stage1, {m.predictions.at("1")}, c, "test", teacher);
    graph::Tensor logits = trainer.predict(d, m.predictions.at("1"));
    EXPECT_EQ(logits.shape(), (graph::Shape{64, 10}));
    int hits = 0;
    for (int64_t i = 0; i < 64; ++i) {
      const float* row = logits.data<float>() + i * 10;
      hits += std::max_element(row, row + 10) - row == 3;
    }
    return hits / 64.0;
  };
  EXPECT_GT(share_of_class3(1.0), 0.9);
  EXPECT_LT(share_of_class3(0.0), 0.1);
}

TEST(Procedures, DistillationNeedsATeacherAndAWeight) {
  data::Dataset d;
  d.train.images = random_images(8, 1);
  d.train.labels = graph::Tensor::from_vector<int64_t>({8}, std::vector<int64_t>(8, 1));
  d.test = d.train;
  TrainConfig c;
  c.epochs = 1;
  c.distill_weight = 0.5;  // no teacher
  EXPECT_THROW(train_variant(zoo::build_model("paper_cnn"), Variant::kFluid, 2, d, c), Error);
  c.distill_weight = 0;
  c.teacher = "static";  // no weight
  EXPECT_THROW(train_variant(zoo::build_model("paper_cnn"), Variant::kFluid, 2, d, c), Error);
  c.distill_weight = 0.5;
  c.teacher = "/nonexistent/teacher.onnx";
  EXPECT_THROW(train_variant(zoo::build_model("paper_cnn"), Variant::kFluid, 2, d, c), Error);
  c.teacher = "static";
  EXPECT_THROW(train_variant(zoo::build_model("paper_cnn"), Variant::kStatic, 1, d, c), Error);
}

// `--teacher static` trains the teacher first and reports it as a stage of its own.
TEST(Procedures, StaticTeacherIsTrainedFirst) {
  data::Dataset d;
  d.train = labelled_images(32, 2);
  d.test = d.train;
  TrainConfig c;
  c.epochs = 1;
  c.batch = 16;
  c.teacher = "static";
  c.distill_weight = 0.5;
  TrainResult r = train_variant(zoo::build_model("paper_cnn"), Variant::kFluid, 2, d, c);
  ASSERT_EQ(r.stages.size(), 4u);
  EXPECT_EQ(r.stages[0].label, "teacher (static)");
  EXPECT_EQ(r.stages[1].label, "fluid stage 1");
  EXPECT_GE(r.teacher_accuracy, 0.0);
  EXPECT_LE(r.teacher_accuracy, 1.0);
  EXPECT_EQ(r.accuracy.count("1+2"), 1u);
}

// After every stage the model is saved; an interrupted run resumed from the checkpoints it left
// ends with the same model as an uninterrupted one, and a checkpoint of another model is refused.
TEST(Procedures, CheckpointsAfterEveryStageAndResumeLoadsThem) {
  namespace fs = std::filesystem;
  data::Dataset d;
  d.train = labelled_images(32, 4);
  d.test = d.train;
  fs::path dir = fs::temp_directory_path() / ("fluidedge_checkpoints_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  TrainConfig c;
  c.epochs = 1;
  c.batch = 16;
  c.checkpoint_dir = dir.string();
  auto base = zoo::build_model("paper_cnn");
  TrainResult whole = train_variant(base, Variant::kFluid, 2, d, c);
  for (int k = 1; k <= 3; ++k) EXPECT_TRUE(fs::exists(dir / ("stage-" + std::to_string(k) + ".onnx"))) << k;

  fs::remove(dir / "stage-3.onnx");  // interrupted while training the combiners
  c.resume = true;
  TrainResult resumed = train_variant(base, Variant::kFluid, 2, d, c);
  ASSERT_EQ(resumed.stages.size(), 3u);
  EXPECT_TRUE(resumed.stages[0].from_checkpoint);
  EXPECT_TRUE(resumed.stages[1].from_checkpoint);
  EXPECT_FALSE(resumed.stages[2].from_checkpoint);
  for (const auto& [name, t] : whole.model.graph.initializers) {
    const auto& r = resumed.model.graph.initializers.at(name);
    ASSERT_EQ(r.shape(), t.shape()) << name;
    EXPECT_EQ(std::memcmp(r.raw(), t.raw(), t.nbytes()), 0) << name << " differs after resuming";
  }
  EXPECT_EQ(resumed.accuracy, whole.accuracy);

  try {
    train_variant(base, Variant::kStatic, 1, d, c);  // stage-1.onnx is the Fluid model's
    ADD_FAILURE() << "a Fluid checkpoint was loaded into a Static model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stage-1.onnx"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
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
  std::set<std::string> all;
  for (const auto& [name, stage] : m.param_stage) all.insert(name);
  auto bad = [&](auto change) {
    TrainConfig b;
    change(b);
    EXPECT_THROW(trainer.train(d, all, {m.predictions.at("full")}, b, "bad"), Error);
  };
  bad([](TrainConfig& b) { b.label_smoothing = 1.0; });
  bad([](TrainConfig& b) { b.max_rotation = -5; });
  bad([](TrainConfig& b) { b.max_scale = 1.5; });
  bad([](TrainConfig& b) { b.distill_weight = 2; });
  bad([](TrainConfig& b) { b.distill_temperature = 0; });
  // Teacher logits must have one row per training image.
  EXPECT_THROW(trainer.train(d, all, {m.predictions.at("full")}, TrainConfig{}, "bad",
                             graph::Tensor(graph::DType::kFloat32, {3, 10})),
               Error);
}

}  // namespace
}  // namespace fluidedge::train
