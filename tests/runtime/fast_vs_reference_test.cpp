// Differential test: every zoo model through the fast and the reference backend on fresh
// random inputs, at batch 1 and another batch; fast's buffers are poisoned with NaN before each
// run, so anything it leaves unwritten fails.
#include <random>
#include <thread>

#include <oneapi/dnnl/dnnl.hpp>

#include <gtest/gtest.h>

#include "common/error.h"
#include "compare.h"
#include "graph/qdq_transforms.h"
#include "qdq_graphs.h"
#include "runtime/fast/fast_session.h"
#include "runtime/reference/reference_session.h"
#include "zoo/graph_builder.h"
#include "zoo/zoo.h"

namespace fluidedge::runtime {
namespace {

graph::Tensor random_input(graph::Shape shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n;
  graph::Tensor t(graph::DType::kFloat32, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = n(rng);
  return t;
}

class FastVsReference : public ::testing::TestWithParam<std::string> {};

TEST_P(FastVsReference, SameOutputs) {
  reference::register_reference_backend();
  graph::Graph g = zoo::build_model(GetParam(), 3);
  fast::FastSession fast(g, {});
  fast.set_poison_buffers(true);
  EXPECT_EQ(fast.plan_stats(1).fallback_steps, 0) << "every zoo op has a fast kernel";
  auto reference = make_session("reference", g);
  bool small = GetParam() == "paper_cnn" || GetParam() == "lenet5";
  for (int64_t batch : {int64_t{1}, small ? int64_t{17} : int64_t{2}}) {
    graph::Shape shape = g.value("input").shape;
    shape[0] = batch;
    graph::Tensor x = random_input(shape, static_cast<uint32_t>(batch) * 7919u);
    auto want = reference->run({{"input", x}}).at("output");
    auto got = fast.run({{"input", x}}).at("output");
    ASSERT_EQ(got.shape(), want.shape());
    EXPECT_LE(testing::relative_error(got, want), 1e-4) << GetParam() << " at batch " << batch;
    // A second run on the same plan gives the same answer (no state carried between runs).
    EXPECT_TRUE(fast.run({{"input", x}}).at("output").equals(got));
  }
}

INSTANTIATE_TEST_SUITE_P(Zoo, FastVsReference, ::testing::ValuesIn(zoo::zoo_names()),
                         [](const auto& info) { return info.param; });

// Both activation layouts compute the same function: convolutions with residual sums (ResNet-18),
// channel concatenations copied in chunks (SqueezeNet, GoogLeNet) and depthwise convolutions
// (MobileNetV2), each planned channels-last and nChw16c.
class FastLayouts : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(FastLayouts, GiveTheReferenceOutputs) {
  reference::register_reference_backend();
  const auto& [model, layout] = GetParam();
  graph::Graph g = zoo::build_model(model, 5);
  SessionOptions options;
  options.layout = layout;
  fast::FastSession fast(g, options);
  fast.set_poison_buffers(true);
  EXPECT_EQ(fast.plan_stats(2).layout, layout);
  auto reference = make_session("reference", g);
  graph::Shape shape = g.value("input").shape;
  shape[0] = 2;
  graph::Tensor x = random_input(shape, 4242u);
  auto want = reference->run({{"input", x}}).at("output");
  auto got = fast.run({{"input", x}}).at("output");
  EXPECT_LE(testing::relative_error(got, want), 1e-4) << model << " planned " << layout;
}

INSTANTIATE_TEST_SUITE_P(Zoo, FastLayouts,
                         ::testing::Combine(::testing::Values("resnet18", "squeezenet1_1", "googlenet", "mobilenet_v2"),
                                            ::testing::Values("library", "blocked")),
                         [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

// A concat whose inputs come in different layouts (a convolution's nChw16c output and the plain
// graph input) is not a chunk copy: the elements of each chunk are ordered differently.
TEST(FastLayouts, ConcatOfMixedLayoutsKeepsEachInputsElements) {
  reference::register_reference_backend();
  zoo::GraphBuilder b("mixed_concat", {2, 16, 8, 8}, 3);
  std::string y = b.concat({b.relu(b.conv(b.input(), "conv", 32, 3, 1, 1)), b.input()});
  graph::Graph g = b.finish(b.flatten(b.global_avg_pool(b.conv(y, "mix", 8, 1))));
  for (std::string layout : {"blocked", "library"}) {
    SessionOptions options;
    options.layout = layout;
    fast::FastSession fast(g, options);
    fast.set_poison_buffers(true);
    graph::Tensor x = random_input({2, 16, 8, 8}, 99u);
    auto want = make_session("reference", g)->run({{"input", x}}).at("output");
    EXPECT_LE(testing::relative_error(fast.run({{"input", x}}).at("output"), want), 1e-4) << layout;
  }
}

// Winograd's algorithm on the 3x3 stride-1 convolutions computes what the direct one does, with
// residual sums (ResNet-18), concatenations (SqueezeNet, GoogLeNet) and fused ReLUs; it runs on
// exactly those convolutions (not the strided, pointwise or 7x7 ones), and "direct" uses it on none.
class FastWinograd : public ::testing::TestWithParam<std::tuple<std::string, std::string, int64_t>> {};

TEST_P(FastWinograd, GivesTheReferenceOutputsOnEvery3x3Stride1Convolution) {
  if (dnnl::get_effective_cpu_isa() < dnnl::cpu_isa::avx512_core)
    GTEST_SKIP() << "oneDNN 2.6 has Winograd kernels for AVX-512 only";
  reference::register_reference_backend();
  const auto& [model, layout, eligible] = GetParam();
  graph::Graph g = zoo::build_model(model, 6);
  SessionOptions options;
  options.layout = layout;  // "auto" plans them channel-blocked, where the Winograd kernels run
  options.conv_algorithm = "winograd";
  fast::FastSession fast(g, options);
  fast.set_poison_buffers(true);
  EXPECT_EQ(fast.plan_stats(2).winograd_convolutions, eligible);
  graph::Shape shape = g.value("input").shape;
  shape[0] = 2;
  graph::Tensor x = random_input(shape, 777u);
  auto want = make_session("reference", g)->run({{"input", x}}).at("output");
  EXPECT_LE(testing::relative_error(fast.run({{"input", x}}).at("output"), want), 1e-4) << model;
  options.conv_algorithm = "direct";
  EXPECT_EQ(fast::FastSession(g, options).plan_stats(2).winograd_convolutions, 0);
}

INSTANTIATE_TEST_SUITE_P(Zoo, FastWinograd,
                         ::testing::Values(std::make_tuple("resnet18", "auto", 13),         // all but 3 strided
                                           std::make_tuple("squeezenet1_1", "blocked", 8),  // one per fire module
                                           std::make_tuple("googlenet", "blocked", 19)),  // conv3 and two per inception
                         [](const auto& info) { return std::get<0>(info.param); });

// A plan made on one thread runs on another (a device node loads its part on one gRPC thread and
// serves on others): the Winograd kernels' scratch memory is the plan's, not the creating thread's.
TEST(FastWinograd, APlanRunsOnAnotherThreadThanTheOneThatMadeIt) {
  if (dnnl::get_effective_cpu_isa() < dnnl::cpu_isa::avx512_core)
    GTEST_SKIP() << "oneDNN 2.6 has Winograd kernels for AVX-512 only";
  zoo::GraphBuilder b("winograd_threads", {1, 32, 13, 13}, 7);
  graph::Graph g = b.finish(b.flatten(b.global_avg_pool(b.relu(b.conv(b.input(), "conv", 64, 3, 1, 1)))));
  SessionOptions options;
  options.layout = "blocked";
  options.conv_algorithm = "winograd";
  fast::FastSession fast(g, options);
  ASSERT_EQ(fast.plan_stats(1).winograd_convolutions, 1);
  EXPECT_EQ(fast.plan_stats(4).winograd_convolutions, 1);
  graph::Tensor x1 = random_input({1, 32, 13, 13}, 5u), x4 = random_input({4, 32, 13, 13}, 6u);
  auto want1 = fast.run({{"input", x1}}).at("output"), want4 = fast.run({{"input", x4}}).at("output");
  graph::Tensor got1, got4;
  std::thread([&] {
    got1 = fast.run({{"input", x1}}).at("output");
    got4 = fast.run({{"input", x4}}).at("output");
  }).join();
  EXPECT_TRUE(got1.equals(want1));
  EXPECT_TRUE(got4.equals(want4));
}

// An algorithm the fast backend does not know, or Winograd's with channels-last activations
// (its kernels need channel-blocked ones), is an error naming it.
TEST(FastWinograd, RejectsUnknownAlgorithmsAndTheLibraryLayout) {
  graph::Graph g = zoo::build_model("lenet5");
  auto message = [&](const SessionOptions& options) -> std::string {
    try {
      fast::FastSession session(g, options);
    } catch (const Error& e) {
      return e.what();
    }
    return "accepted";
  };
  SessionOptions unknown;
  unknown.conv_algorithm = "fft";
  EXPECT_NE(message(unknown).find("convolution algorithm 'fft'"), std::string::npos) << message(unknown);
  SessionOptions library;
  library.conv_algorithm = "winograd";
  library.layout = "library";
  EXPECT_NE(message(library).find("layout 'library'"), std::string::npos) << message(library);
}

// "auto" measures and plans each convolution's layout; a layout it does not know is an error.
TEST(FastLayoutPlanning, ReportsWhatItChoseAndRejectsUnknownLayouts) {
  graph::Graph g = zoo::build_model("mobilenet_v2");
  fast::FastSession fast(g, {});
  auto stats = fast.plan_stats(1);
  EXPECT_TRUE(stats.layout == "library" || stats.layout == "blocked" || stats.layout == "mixed") << stats.layout;
  EXPECT_EQ(stats.blocked_convolutions > 0, stats.layout != "library");
  EXPECT_GT(stats.layout_planning_ms, 0);
  SessionOptions uniform;
  uniform.layout = "blocked";
  fast::FastSession blocked(g, uniform);
  EXPECT_EQ(blocked.plan_stats(1).layout, "blocked");
  EXPECT_EQ(blocked.plan_stats(1).blocked_convolutions, 52);  // every convolution of MobileNetV2
  EXPECT_EQ(blocked.plan_stats(1).layout_planning_ms, 0);
  SessionOptions options;
  options.layout = "diagonal";
  try {
    fast::FastSession bad(zoo::build_model("lenet5"), options);
    ADD_FAILURE() << "an unknown layout was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layout 'diagonal'"), std::string::npos) << e.what();
  }
}

// Concatenations whose inputs are contiguous ranges of the output (channels at batch 1 in
// nChw16c) are done by placement: the producers write into the output and no copy runs. Each
// rule that keeps a copy is exercised: a graph input or output among the parts, a value
// concatenated twice, parts that are views (Flatten) of other values; and the placed cases: a
// concatenation nested in another, a part read again after the concatenation (as a residual).
TEST(FastSession, WritesConcatenatedValuesInPlaceWhereTheyAreContiguous) {
  reference::register_reference_backend();
  zoo::GraphBuilder b("placed_concat", {1, 16, 8, 8}, 11);
  std::string x = b.input();
  std::string a = b.relu(b.conv(x, "a", 16, 3, 1, 1));
  std::string c = b.concat({a, b.relu(b.conv(x, "b", 32, 1))});  // placed
  std::string d = b.concat({c, b.relu(b.conv(x, "e", 16, 1))});  // placed, holds c
  std::string f = b.relu(b.add(b.conv(d, "f", 16, 1), a));       // a read after c and d
  std::string twice = b.concat({f, f});                          // copied: f twice
  std::string with_input = b.concat({x, a});                     // copied: graph input
  std::string k = b.relu(b.conv(x, "k", 16, 1));
  std::string with_output = b.concat({k, b.relu(b.conv(x, "k2", 16, 1))});  // copied: k is an output
  std::string views = b.concat({b.flatten(b.global_avg_pool(a)), b.flatten(b.global_avg_pool(f))});  // copied
  std::string sum =
      b.add(b.add(b.conv(twice, "m1", 16, 1), b.conv(with_input, "m2", 16, 1)), b.conv(with_output, "m3", 16, 1));
  graph::Graph g = b.finish(b.concat({b.flatten(b.global_avg_pool(sum)), views}));
  g.outputs.push_back(k);

  SessionOptions options;
  options.layout = "blocked";
  fast::FastSession fast(g, options);
  fast.set_poison_buffers(true);
  EXPECT_EQ(fast.plan_stats(1).elided_concats, 2);
  auto reference = make_session("reference", g);
  for (int64_t batch : {1, 2}) {
    graph::Tensor input = random_input({batch, 16, 8, 8}, 5u);
    auto want = reference->run({{"input", input}});
    auto got = fast.run({{"input", input}});
    for (const std::string& name : {std::string("output"), k})
      EXPECT_LE(testing::relative_error(got.at(name), want.at(name)), 1e-4) << name << " at batch " << batch;
  }
}

// y = Conv(x) + x with x read by nothing after: the residual sum's operand is also the
// convolution's source, so the sum must not accumulate in x's bytes (the convolution would
// overwrite its source while reading it).
TEST(FastSession, AResidualSumOnTheConvolutionsOwnInputIsNotDoneInPlace) {
  reference::register_reference_backend();
  zoo::GraphBuilder b("self_residual", {1, 16, 12, 12}, 21);
  std::string x = b.relu(b.conv(b.input(), "stem", 16, 3, 1, 1));
  std::string y = b.relu(b.add(b.conv(x, "body", 16, 3, 1, 1), x));
  graph::Graph g = b.finish(b.flatten(b.global_avg_pool(b.conv(y, "head", 8, 1))));
  auto reference = make_session("reference", g);
  for (std::string layout : {"blocked", "library"}) {
    SessionOptions options;
    options.layout = layout;
    options.conv_algorithm = "direct";
    fast::FastSession fast(g, options);
    fast.set_poison_buffers(true);
    for (int64_t batch : {1, 3}) {
      graph::Tensor input = random_input({batch, 16, 12, 12}, 77u);
      auto want = reference->run({{"input", input}}).at("output");
      EXPECT_LE(testing::relative_error(fast.run({{"input", input}}).at("output"), want), 1e-4)
          << layout << " at batch " << batch;
    }
  }
}

TEST(FastSession, SqueezeNetsFireModulesConcatenateWithoutCopiesAtBatch1) {
  SessionOptions options;
  options.layout = "blocked";
  fast::FastSession fast(zoo::build_model("squeezenet1_1"), options);
  EXPECT_EQ(fast.plan_stats(1).elided_concats, 8);
}

TEST(FastSession, ReusesActivationBuffers) {
  graph::Graph g = zoo::build_model("resnet18");
  fast::FastSession fast(g, {});
  auto stats = fast.plan_stats(1);
  EXPECT_GT(stats.fused_nodes, 0);
  EXPECT_LT(stats.activation_bytes, stats.unshared_activation_bytes / 2);
}

// QDQ convolutions, as PyTorch exports them, run as oneDNN int8 convolutions: within one
// output step of the reference (which computes them in float by ONNX's definition; the integer
// kernel rounds once, so a value on a rounding boundary may land on the other side).
TEST(FastQuantized, QdqConvolutionsRunAsInt8ConvolutionsWithinOneStepOfTheReference) {
  reference::register_reference_backend();
  const auto cases = fluidedge::testing::qdq_conv_cases();
  for (size_t k = 0; k < cases.size(); ++k) {
    graph::Graph g = fluidedge::testing::qdq_conv_graph(cases[k]);
    fast::FastSession fast(g, {});
    fast.set_poison_buffers(true);
    EXPECT_EQ(fast.plan_stats(1).fallback_steps, 0) << "case " << k;
    int qconvs = 0;
    for (const auto& n : fast.graph().nodes) qconvs += n.op_type == "QLinearConv";
    EXPECT_EQ(qconvs, 1) << "case " << k;
    graph::Tensor x = random_input(g.value("input").shape, static_cast<uint32_t>(k));
    auto want = make_session("reference", g)->run({{"input", x}}).at("output");
    auto got = fast.run({{"input", x}}).at("output");
    const double exact = fluidedge::testing::share_exact_within_one_step(got, want, 0.05f);
    EXPECT_GE(exact, 0.95) << "case " << k << " (-1: an element more than a step away)";
  }
}

// QDQ inner products (Gemm, either weight layout, per channel or per tensor) run as 1x1 int8
// convolutions, within one output step of the reference.
TEST(FastQuantized, QdqGemmsRunAsInt8ConvolutionsWithinOneStepOfTheReference) {
  reference::register_reference_backend();
  const auto cases = fluidedge::testing::qdq_gemm_cases();
  for (size_t k = 0; k < cases.size(); ++k) {
    graph::Graph g = fluidedge::testing::qdq_gemm_graph(cases[k]);
    fast::FastSession fast(g, {});
    fast.set_poison_buffers(true);
    EXPECT_EQ(fast.plan_stats(cases[k].rows).fallback_steps, 0) << "case " << k;
    int gemms = 0;
    for (const auto& n : fast.graph().nodes) gemms += n.op_type == "Gemm";
    EXPECT_EQ(gemms, 0) << "case " << k;
    graph::Tensor x = random_input(g.value("input").shape, static_cast<uint32_t>(k));
    auto want = make_session("reference", g)->run({{"input", x}}).at("output");
    auto got = fast.run({{"input", x}}).at("output");
    EXPECT_GE(fluidedge::testing::share_exact_within_one_step(got, want, 0.05f), 0.95) << "case " << k;
  }
}

// The same integer graph with int8 activations (zero points 128 lower) gives the same outputs.
TEST(FastQuantized, SignedActivationsGiveTheSameOutputs) {
  using fluidedge::testing::QdqConvOptions;
  for (bool per_channel : {true, false}) {
    QdqConvOptions o;
    o.per_channel = per_channel;
    o.relu = per_channel;
    o.output_zero_point = per_channel ? 0 : 131;
    graph::Graph g = fluidedge::testing::qdq_conv_graph(o);
    graph::fuse_qdq(g);
    graph::Graph signed_graph = g;
    ASSERT_GT(graph::to_signed_activations(signed_graph), 0);
    graph::Tensor x = random_input(g.value("input").shape, 4);
    auto a = fast::FastSession(g, {}).run({{"input", x}}).at("output");
    auto b = fast::FastSession(signed_graph, {}).run({{"input", x}}).at("output");
    EXPECT_TRUE(a.equals(b)) << "per channel " << per_channel;
  }
}

// A SiLU between a DequantizeLinear and a QuantizeLinear (EfficientNet's, as quantized) runs as
// one table lookup and gives what the float chain gives, element for element.
TEST(FastQuantized, ElementwiseChainsBetweenDqAndQBecomeTableLookups) {
  reference::register_reference_backend();
  zoo::GraphBuilder b("silu", {2, 8, 5, 5}, 1);
  auto scale = b.constant("s", graph::Tensor::scalar(0.03f));
  auto zp = b.constant("z", graph::Tensor::scalar<uint8_t>(120));
  auto out_scale = b.constant("os", graph::Tensor::scalar(0.02f));
  auto out_zp = b.constant("oz", graph::Tensor::scalar<uint8_t>(20));
  std::string q = b.node("QuantizeLinear", "q", {b.input(), scale, zp});
  std::string x = b.node("DequantizeLinear", "dq", {q, scale, zp});
  std::string silu = b.node("Mul", "mul", {x, b.node("Sigmoid", "sigmoid", {x})});
  std::string y = b.node("QuantizeLinear", "q2", {silu, out_scale, out_zp});
  graph::Graph g = b.finish(b.node("DequantizeLinear", "dq2", {y, out_scale, out_zp}));
  fast::FastSession fast(g, {});
  int lookups = 0, sigmoids = 0;
  for (const auto& n : fast.graph().nodes) {
    lookups += n.op_type == "QLinearLookup";
    sigmoids += n.op_type == "Sigmoid";
  }
  EXPECT_EQ(lookups, 1);
  EXPECT_EQ(sigmoids, 0);
  graph::Tensor in = random_input({2, 8, 5, 5}, 9);
  auto want = make_session("reference", g)->run({{"input", in}}).at("output");
  auto got = fast.run({{"input", in}}).at("output");
  int64_t differ = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    float d = std::fabs(got.data<float>()[i] - want.data<float>()[i]);
    ASSERT_LE(d, 0.02f * 1.001f) << i;  // at most a step (the reference's sigmoid rounds its own way)
    differ += d > 0;
  }
  EXPECT_LE(differ, got.numel() / 100);
}

}  // namespace
}  // namespace fluidedge::runtime
