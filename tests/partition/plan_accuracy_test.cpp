// The accuracy of a plan. Under quantized transfer: the encodings do what a sender would (fp16
// rounding, per-frame affine int8), fp16 transfer leaves a zoo model's predictions as they are,
// int8 adds measurable but bounded noise, labels are scored, and min_accuracy drops the plans
// below it. At the devices' precisions: a stage on an int8 device runs its quantized graph
// (calibrated on the float model's tensors at its inputs), an fp16 one its rounded weights, and
// min_accuracy drops a plan whose int8 device loses what the threshold does not allow.
#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "common/error.h"
#include "graph/half.h"
#include "graph/shape_inference.h"
#include "partition/cut.h"
#include "partition/plan_accuracy.h"
#include "partition/search.h"
#include "partition/system.h"
#include "runtime/fast/fast_session.h"
#include "zoo_models.h"

namespace fluidedge::partition {
namespace {

class PlanAccuracyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { runtime::fast::register_fast_backend(); }
};

graph::Tensor random_tensor(graph::Shape shape, float lo, float hi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  graph::Tensor t(graph::DType::kFloat32, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

TEST(TransferEncoding, Fp16RoundsToHalfPrecision) {
  graph::Tensor t = graph::Tensor::from_vector<float>({1, 4}, {1.0f, 0.5f, 1.0f + 1e-4f, 70000.0f});
  graph::Tensor encoded = transfer_round_trip(t, Precision::kFp16);
  auto r = encoded.values<float>();
  EXPECT_EQ(r[0], 1.0f);
  EXPECT_EQ(r[1], 0.5f);
  EXPECT_EQ(r[2], 1.0f);          // below half's resolution at 1 (2^-10)
  EXPECT_TRUE(std::isinf(r[3]));  // beyond half's range (65504)
  EXPECT_TRUE(transfer_round_trip(t, Precision::kFp32).equals(t));
}

TEST(TransferEncoding, Int8IsAffinePerFrame) {
  // Two frames of very different ranges: each gets its own scale.
  graph::Tensor t = random_tensor({2, 1000}, -1.0f, 3.0f, 1);
  float* d = t.data<float>();
  for (int i = 0; i < 1000; ++i) d[1000 + i] *= 1e-3f;
  d[5] = 0.0f;
  graph::Tensor r = transfer_round_trip(t, Precision::kInt8);
  const float* q = r.data<float>();
  for (int f = 0; f < 2; ++f) {
    AffineInt8 p = affine_int8_parameters(d + f * 1000, 1000);
    EXPECT_GT(p.scale, 0);
    EXPECT_LE(p.scale, (f == 0 ? 4.0f : 4e-3f) / 255.0f * 1.001f);
    std::set<float> levels;
    for (int i = 0; i < 1000; ++i) {
      EXPECT_LE(std::abs(q[f * 1000 + i] - d[f * 1000 + i]), p.scale / 2 * 1.001f) << f << " " << i;
      levels.insert(q[f * 1000 + i]);
    }
    EXPECT_LE(levels.size(), 256u);
  }
  EXPECT_EQ(q[5], 0.0f);  // zero (padding, ReLU output) is exact
  // Integer tensors are not touched.
  graph::Tensor ints = graph::Tensor::from_vector<int64_t>({3}, {1, 2, 3});
  EXPECT_TRUE(transfer_round_trip(ints, Precision::kInt8).equals(ints));
}

TEST(TransferEncoding, ConstantFrameSurvives) {
  graph::Tensor t = graph::Tensor::from_vector<float>({1, 3}, {2.5f, 2.5f, 2.5f});
  graph::Tensor encoded = transfer_round_trip(t, Precision::kInt8);
  for (float v : encoded.values<float>()) EXPECT_NEAR(v, 2.5f, 2.5f / 255);
}

// A two-stage plan through the middle of the model (a single-tensor cut, so the whole activation
// is quantized once).
std::vector<int> middle_cut(const graph::Graph& g) {
  auto cuts = single_tensor_cuts(g);
  return {cuts[cuts.size() / 2].position};
}

TEST_F(PlanAccuracyTest, Fp16KeepsPredictionsInt8AddsBoundedNoise) {
  const graph::Graph g = partitionable_graph(testing::zoo_model("resnet18"));
  PlanAccuracyEvaluator ev(g, random_samples(g, 16, 3));
  std::vector<int> plan = middle_cut(g);

  PlanAccuracy fp32 = ev.evaluate(plan, Precision::kFp32);
  PlanAccuracy fp16 = ev.evaluate(plan, Precision::kFp16);
  PlanAccuracy int8 = ev.evaluate(plan, Precision::kInt8);
  EXPECT_EQ(fp32.samples, 16);
  EXPECT_EQ(fp32.agreement, 1.0);
  EXPECT_LT(fp32.output_relative_error, 1e-5);
  EXPECT_GE(fp16.agreement, 15.0 / 16);
  EXPECT_LT(fp16.output_relative_error, 5e-3);
  // int8 moves the outputs measurably more than fp16, but not into noise.
  EXPECT_GT(int8.output_relative_error, 2 * fp16.output_relative_error);
  EXPECT_GT(int8.output_relative_error, 1e-4);
  EXPECT_LT(int8.output_relative_error, 0.2);
  EXPECT_GE(int8.agreement, 0.5);
  // The single-device plan sends nothing: nothing to lose.
  EXPECT_EQ(ev.evaluate({}, Precision::kInt8).agreement, 1.0);
  EXPECT_EQ(ev.evaluate({}, Precision::kInt8).output_relative_error, 0.0);
}

TEST_F(PlanAccuracyTest, LabelsAreScored) {
  const graph::Graph g = partitionable_graph(testing::zoo_model("paper_cnn"));
  AccuracySamples random = random_samples(g, 40, 5);
  const graph::Tensor& images = random.inputs.begin()->second;
  // Labels: the float model's own predictions, except the first ten are shifted by one class.
  auto session = runtime::make_session("fast", g);
  std::vector<int64_t> predicted = top1(session->run(random.inputs).at(g.outputs[0]));
  for (int i = 0; i < 10; ++i) predicted[i] = (predicted[i] + 1) % 10;
  graph::Tensor labels = graph::Tensor::from_vector<int64_t>({40}, predicted);
  PlanAccuracyEvaluator ev(g, dataset_samples(g, images, labels, 0, "test images"));
  PlanAccuracy a = ev.evaluate(middle_cut(g), Precision::kFp16);
  ASSERT_TRUE(a.accuracy.has_value());
  EXPECT_DOUBLE_EQ(*a.float_accuracy, 0.75);
  EXPECT_NEAR(*a.accuracy, 0.75, 1.0 / 40);
  EXPECT_EQ(a.score(), *a.accuracy);
  // A count keeps the first images only.
  EXPECT_EQ(dataset_samples(g, images, labels, 8, "test images").size(), 8);
  // Images of the wrong shape are an error naming both shapes.
  graph::Tensor wrong(graph::DType::kFloat32, {4, 3, 28, 28});
  try {
    dataset_samples(g, wrong, labels, 0, "mnist test split");
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("mnist test split"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[3,28,28]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[1,28,28]"), std::string::npos) << msg;
  }
}

TEST_F(PlanAccuracyTest, MinAccuracyDropsThePlansBelowIt) {
  // logits = (x + 0) * 1, cut between the two nodes. For x = [1, 1.001, -100] the int8 step
  // (~0.4) merges the two top classes, so the split plan's top-1 changes; x = [5, 0, -1] keeps it.
  graph::Graph g;
  g.inputs = {"x"};
  g.values["x"] = graph::ValueInfo{graph::DType::kFloat32, {1, 3}, true};
  g.set_initializer("zero", graph::Tensor::from_vector<float>({3}, {0, 0, 0}));
  g.set_initializer("one", graph::Tensor::from_vector<float>({3}, {1, 1, 1}));
  auto node = [&](const std::string& op, std::vector<std::string> in, const std::string& out) {
    graph::Node n;
    n.name = op;
    n.op_type = op;
    n.inputs = std::move(in);
    n.outputs = {out};
    g.values.try_emplace(out);
    g.nodes.push_back(std::move(n));
  };
  node("Add", {"x", "zero"}, "y");
  node("Mul", {"y", "one"}, "logits");
  g.outputs = {"logits"};
  graph::infer_shapes(g);

  AccuracySamples samples;
  samples.inputs["x"] = graph::Tensor::from_vector<float>({2, 3}, {1.0f, 1.001f, -100.0f, 5.0f, 0.0f, -1.0f});
  PlanAccuracyEvaluator ev(g, samples);
  std::vector<PlanCost> front(2);
  front[0].plan = {{}, {0}};
  front[1].plan = {{1}, {0, 1}};
  EXPECT_EQ(ev.evaluate({1}, Precision::kInt8).agreement, 0.5);
  EXPECT_EQ(ev.evaluate({1}, Precision::kFp16).agreement, 1.0);

  SystemDescription system = parse_system(R"(
devices:
  - {name: a, peak_gflops: 1, memory_bandwidth_gbps: 1}
  - {name: b, peak_gflops: 1, memory_bandwidth_gbps: 1}
links: {rate_mbps: 1000}
constraints: {min_accuracy: 0.9}
objectives: [throughput, latency]
)",
                                          "pair.yaml");
  AccuracyFiltered f = filter_by_accuracy(front, ev, system, Precision::kInt8, 0.9);
  ASSERT_EQ(f.kept.size(), 1u);
  EXPECT_TRUE(f.kept[0].plan.positions.empty());
  ASSERT_EQ(f.dropped.size(), 1u);
  EXPECT_EQ(f.dropped[0].plan.positions, std::vector<int>{1});
  EXPECT_EQ(f.dropped_accuracy[0].score(), 0.5);
  // In fp16 both plans pass; with no threshold nothing is dropped.
  EXPECT_EQ(filter_by_accuracy(front, ev, system, Precision::kFp16, 0.9).kept.size(), 2u);
  EXPECT_EQ(filter_by_accuracy(front, ev, system, Precision::kInt8, 0).kept.size(), 2u);

  // The search enforces the system's min_accuracy itself: its front never holds the split plan
  // under int8, which goes to below_min_accuracy with its score.
  SearchOptions options;
  options.transfer = Precision::kInt8;
  options.accuracy = &ev;
  int64_t scored = 0;
  options.on_accuracy = [&](int64_t done, int64_t total) {
    scored = done;
    EXPECT_LE(done, total);
  };
  SearchResult r = search_plans(g, system, options);
  ASSERT_FALSE(r.front.empty());
  ASSERT_EQ(r.front.size(), r.front_accuracy.size());
  for (size_t i = 0; i < r.front.size(); ++i) {
    EXPECT_TRUE(r.front[i].plan.positions.empty()) << "a split plan kept below min_accuracy";
    EXPECT_GE(r.front_accuracy[i].score(), 0.9);
  }
  bool split_dropped = false;
  for (size_t i = 0; i < r.below_min_accuracy.size(); ++i)
    split_dropped |=
        r.below_min_accuracy[i].plan.positions == std::vector<int>{1} && r.below_accuracy[i].score() == 0.5;
  EXPECT_TRUE(split_dropped);
  EXPECT_EQ(scored, static_cast<int64_t>(r.front.size() + r.below_min_accuracy.size()));
  // Given no samples, the search measures min_accuracy on random inputs rather than ignore it.
  options.accuracy = nullptr;
  options.on_accuracy = nullptr;
  SearchResult unscored = search_plans(g, system, options);
  EXPECT_EQ(unscored.front.size() + unscored.below_min_accuracy.size(), r.front.size() + r.below_min_accuracy.size());
  EXPECT_EQ(unscored.front_accuracy.size(), unscored.front.size());
}

TEST_F(PlanAccuracyTest, StagesRunAtTheirDevicesPrecision) {
  const graph::Graph g = partitionable_graph(testing::zoo_model("squeezenet1_1"));
  PlanAccuracyEvaluator ev(g, random_samples(g, 8, 3));
  const std::vector<int> plan = middle_cut(g);
  const int cut = plan[0], n = static_cast<int>(g.nodes.size());

  // What an int8 device is given: the stage in QDQ form, its weights int8 (and the graph's inputs
  // and outputs those of the float stage, so that it chains with its neighbours).
  for (auto [begin, end] : {std::pair{0, cut}, std::pair{cut, n}}) {
    const graph::Graph& fp32 = ev.stage(begin, end, Precision::kFp32);
    const graph::Graph& int8 = ev.stage(begin, end, Precision::kInt8);
    int quantize = 0, int8_weights = 0;
    for (const auto& node : int8.nodes) quantize += node.op_type == "QuantizeLinear";
    for (const auto& [name, t] : int8.initializers) int8_weights += t.dtype() == graph::DType::kInt8 && t.rank() == 4;
    EXPECT_GT(quantize, 0) << begin;
    EXPECT_GT(int8_weights, 0) << begin;
    EXPECT_EQ(int8.inputs, fp32.inputs);
    EXPECT_EQ(int8.outputs, fp32.outputs);
  }
  // fp16: every float weight holds a half-precision value.
  for (const auto& [name, t] : ev.stage(cut, n, Precision::kFp16).initializers) {
    if (t.dtype() != graph::DType::kFloat32) continue;
    for (float v : t.values<float>()) ASSERT_EQ(v, graph::half_to_float(graph::float_to_half(v))) << name;
  }

  PlanAccuracy fp32 = ev.evaluate(plan, Precision::kFp32, {Precision::kFp32, Precision::kFp32});
  PlanAccuracy second_int8 = ev.evaluate(plan, Precision::kFp32, {Precision::kFp32, Precision::kInt8});
  PlanAccuracy both_int8 = ev.evaluate(plan, Precision::kFp32, {Precision::kInt8, Precision::kInt8});
  PlanAccuracy fp16 = ev.evaluate(plan, Precision::kFp32, {Precision::kFp16, Precision::kFp16});
  EXPECT_TRUE(fp32.precisions.empty()) << "all fp32 is the float plan";
  EXPECT_LT(fp32.output_relative_error, 1e-5);
  EXPECT_EQ(second_int8.precisions, (std::vector<Precision>{Precision::kFp32, Precision::kInt8}));
  // Quantizing half the network moves the scores, the whole network more, but neither into noise;
  // fp16 much less than int8.
  EXPECT_GT(second_int8.output_relative_error, 1e-3);
  EXPECT_GT(both_int8.output_relative_error, second_int8.output_relative_error);
  EXPECT_LT(both_int8.output_relative_error, 0.3);
  EXPECT_LT(fp16.output_relative_error, 0.2 * second_int8.output_relative_error);
  EXPECT_GE(both_int8.agreement, 0.5);
  // The whole model on one int8 device is quantized as well (a plan without a cut).
  EXPECT_GT(ev.evaluate({}, Precision::kFp32, {Precision::kInt8}).output_relative_error, 1e-3);
  // Precisions that do not match the plan's stages are an error.
  EXPECT_THROW(ev.evaluate(plan, Precision::kFp32, {Precision::kInt8}), Error);
}

// A front's stages are cached, and what they hold (weights and their sessions' activation
// arenas, one per batch size run) stays under the runner's limit: a stage beyond it pushes out
// the least recently used ones, and one needed again is built again, computing the same.
TEST_F(PlanAccuracyTest, StageRunnerHoldsNoMoreThanItsLimit) {
  const graph::Graph g = partitionable_graph(testing::zoo_model("squeezenet1_1"));
  const int cut = middle_cut(g)[0], n = static_cast<int>(g.nodes.size());
  runtime::TensorMap batch8 = random_samples(g, 8, 3).inputs;
  StageRunner runner(g);

  runtime::TensorMap whole = runner.run({}, batch8);
  int64_t weights = 0;
  for (const auto& [name, t] : runner.stage(0, n).initializers) weights += static_cast<int64_t>(t.nbytes());
  // The activations of 8 images at 224x224 are counted besides the weights.
  EXPECT_GT(runner.held_bytes(), weights + 8 * 3 * 224 * 224 * 4);
  runtime::TensorMap split = runner.run({cut}, batch8);
  EXPECT_EQ(runner.cached_stages(), 3u);
  const int64_t all_three = runner.held_bytes();

  // Room for the stage in use only: each run leaves one stage held, and rebuilds what it needs.
  runner.set_cache_limit(1);
  runtime::TensorMap again = runner.run({cut}, batch8);
  EXPECT_EQ(runner.cached_stages(), 1u);
  EXPECT_LT(runner.held_bytes(), all_three);
  const int64_t built = runner.built_stages();
  runner.run({}, batch8);
  EXPECT_EQ(runner.built_stages(), built + 1) << "the whole-model stage was dropped, and is built again";
  EXPECT_EQ(runner.cached_stages(), 1u);
  const std::string out = g.outputs[0];
  EXPECT_TRUE(again.at(out).equals(split.at(out))) << "a rebuilt stage computes what it did";
  auto a = split.at(out).values<float>(), b = whole.at(out).values<float>();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-3f * (1 + std::abs(b[i]))) << i;
}

TEST_F(PlanAccuracyTest, MinAccuracyDropsAPlanWhoseInt8DeviceLosesTooMuch) {
  // logits = x @ I. Calibrated on these two inputs, x's int8 step is 105 / 255 ~ 0.41, which
  // merges 1 and 1.001: an int8 device's top-1 changes on the first, never on the second.
  graph::Graph g;
  g.inputs = {"x"};
  g.values["x"] = graph::ValueInfo{graph::DType::kFloat32, {1, 3}, true};
  g.set_initializer("eye", graph::Tensor::from_vector<float>({3, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1}));
  graph::Node matmul;
  matmul.name = "matmul";
  matmul.op_type = "MatMul";
  matmul.inputs = {"x", "eye"};
  matmul.outputs = {"logits"};
  g.nodes.push_back(matmul);
  g.values.try_emplace("logits");
  g.outputs = {"logits"};
  graph::infer_shapes(g);
  AccuracySamples samples;
  samples.inputs["x"] = graph::Tensor::from_vector<float>({2, 3}, {1.0f, 1.001f, -100.0f, 5.0f, 0.0f, -1.0f});
  PlanAccuracyEvaluator ev(g, samples);
  SystemDescription system = parse_system(R"(
devices:
  - {name: float, peak_gflops: 1, memory_bandwidth_gbps: 1, active_power_w: 1}
  - {name: int8, peak_gflops: 4, memory_bandwidth_gbps: 4, active_power_w: 100, precision: int8}
links: {rate_mbps: 1000}
constraints: {min_accuracy: 0.9}
)",
                                          "mixed.yaml");
  std::vector<PlanCost> front(2);
  front[0].plan = {{}, {0}};
  front[1].plan = {{}, {1}};
  EXPECT_TRUE(has_reduced_precision(system));
  EXPECT_EQ(stage_precisions(front[1].plan, system), std::vector<Precision>{Precision::kInt8});
  AccuracyFiltered f = filter_by_accuracy(front, ev, system, Precision::kFp32, 0.9);
  ASSERT_EQ(f.kept.size(), 1u);
  EXPECT_EQ(f.kept[0].plan.devices, std::vector<int>{0});
  EXPECT_EQ(f.kept_accuracy[0].agreement, 1.0);
  ASSERT_EQ(f.dropped.size(), 1u);
  EXPECT_EQ(f.dropped[0].plan.devices, std::vector<int>{1});
  EXPECT_EQ(f.dropped_accuracy[0].agreement, 0.5);

  // The search does the same with the system's min_accuracy: the int8 device alone is faster (the
  // float one spends less energy, so both are on the front before accuracy), and gone from it.
  SearchOptions options;
  options.accuracy = &ev;
  SearchResult r = search_plans(g, system, options);
  ASSERT_FALSE(r.front.empty());
  for (size_t i = 0; i < r.front.size(); ++i) {
    EXPECT_EQ(std::count(r.front[i].plan.devices.begin(), r.front[i].plan.devices.end(), 1), 0)
        << "a plan computing on the int8 device kept below min_accuracy";
    EXPECT_GE(r.front_accuracy[i].score(), 0.9);
  }
  EXPECT_FALSE(r.below_min_accuracy.empty());
}

}  // namespace
}  // namespace fluidedge::partition
