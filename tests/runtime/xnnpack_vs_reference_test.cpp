// The xnnpack backend against the reference one (the oracle): every zoo model on fresh random
// inputs at batch 1 and another batch with poisoned buffers, the paths only the xnnpack backend
// has (op_table_test.cpp holds every backend to every op), and quantized convolutions and inner
// products on XNNPACK's int8 kernels.
#include <random>

#include <gtest/gtest.h>

#include "compare.h"
#include "graph/op_schema.h"
#include "graph/shape_inference.h"
#include "qdq_graphs.h"
#include "runtime/reference/reference_session.h"
#include "runtime/xnnpack/kernel.h"
#include "runtime/xnnpack/xnnpack_session.h"
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

class XnnpackVsReference : public ::testing::TestWithParam<std::string> {};

TEST_P(XnnpackVsReference, SameOutputs) {
  reference::register_reference_backend();
  graph::Graph g = zoo::build_model(GetParam(), 3);
  xnnpack::XnnpackSession session(g, {});
  session.set_poison_buffers(true);
  EXPECT_EQ(session.plan_stats(1).fallback_steps, 0) << "every zoo op has an xnnpack kernel";
  auto reference = make_session("reference", g);
  bool small = GetParam() == "paper_cnn" || GetParam() == "lenet5";
  for (int64_t batch : {int64_t{1}, small ? int64_t{17} : int64_t{2}}) {
    graph::Shape shape = g.value("input").shape;
    shape[0] = batch;
    graph::Tensor x = random_input(shape, static_cast<uint32_t>(batch) * 7717u);
    auto want = reference->run({{"input", x}}).at("output");
    auto got = session.run({{"input", x}}).at("output");
    ASSERT_EQ(got.shape(), want.shape());
    EXPECT_LE(testing::relative_error(got, want), 1e-4) << GetParam() << " at batch " << batch;
    EXPECT_TRUE(session.run({{"input", x}}).at("output").equals(got)) << "a second run gives the same answer";
  }
}

INSTANTIATE_TEST_SUITE_P(Zoo, XnnpackVsReference, ::testing::ValuesIn(zoo::zoo_names()),
                         [](const auto& info) { return info.param; });

// Activations run three ways (folded into the output range, XNNPACK operators, the backend's own
// loops), after a convolution, after a residual sum and standalone.
TEST(XnnpackActivations, EveryFusedAndStandaloneActivationGivesTheReferenceOutputs) {
  reference::register_reference_backend();
  for (std::string act : {"Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSwish", "HardSigmoid", "Swish"}) {
    zoo::GraphBuilder b("acts", {2, 8, 9, 9}, 11);
    auto apply = [&](const std::string& x) { return b.activation(act, x); };
    std::string y = apply(b.conv(b.input(), "c1", 16, 3, 1, 1));        // fused into the convolution
    std::string r = apply(b.add(b.conv(y, "c2", 16, 3, 1, 1), y));      // after a residual sum
    std::string s = apply(b.max_pool(r, 2, 2));                         // standalone, NHWC
    graph::Graph g = b.finish(apply(b.flatten(b.global_avg_pool(s))));  // standalone, plain
    xnnpack::XnnpackSession session(g, {});
    session.set_poison_buffers(true);
    graph::Tensor x = random_input({2, 8, 9, 9}, 5u);
    auto want = make_session("reference", g)->run({{"input", x}}).at("output");
    EXPECT_LE(testing::relative_error(session.run({{"input", x}}).at("output"), want), 1e-5) << act;
  }
}

// A convolution whose weights exceed the cache budget runs as several operators, each writing a
// block of output channels (the last one narrower), with its bias, residual sum and activation.
TEST(XnnpackConvolution, ChannelBlocksGiveTheReferenceOutputs) {
  reference::register_reference_backend();
  const int64_t out_c = 200, in_c = 96, pixels = 10 * 10;
  ASSERT_LT(xnnpack::conv_channel_block(out_c, in_c * 9, pixels), out_c) << "the test's convolution is not blocked";
  ASSERT_EQ(xnnpack::conv_channel_block(out_c, in_c * 9, 4), out_c) << "too few pixels to re-read its weights";
  ASSERT_EQ(xnnpack::conv_channel_block(64, 16 * 9, pixels), 64) << "small weights stay in one operator";
  zoo::GraphBuilder b("blocked", {2, in_c, 10, 10}, 13);
  std::string y = b.activation("Relu", b.conv(b.input(), "c1", out_c, 3, 1, 1, 1, true));
  std::string r = b.activation("HardSwish", b.add(b.batch_norm(b.conv(y, "c2", out_c, 3, 1, 1), "bn"), y));
  graph::Graph g = b.finish(b.flatten(b.global_avg_pool(r)));
  xnnpack::XnnpackSession session(g, {});
  session.set_poison_buffers(true);
  graph::Tensor x = random_input({2, in_c, 10, 10}, 9u);
  auto want = make_session("reference", g)->run({{"input", x}}).at("output");
  EXPECT_LE(testing::relative_error(session.run({{"input", x}}).at("output"), want), 1e-5);
}

// Convolutions over few input channels run as im2col + GEMM: every window edge (strides, dilation,
// asymmetric padding, windows wholly in the padding), with bias and a fused Relu, at two batches,
// over more output pixels than one chunk of columns holds.
TEST(XnnpackConvolution, Im2colOverFewChannelsGivesTheReferenceOutputs) {
  reference::register_reference_backend();
  struct Case {
    int64_t channels, h, w;
    std::vector<int64_t> kernel, strides, dilations, pads;
  };
  for (const Case& c :
       {Case{3, 64, 60, {7, 7}, {2, 2}, {1, 1}, {3, 3, 3, 3}}, Case{1, 11, 13, {3, 5}, {2, 1}, {2, 1}, {0, 4, 3, 1}},
        Case{4, 11, 13, {3, 3}, {1, 3}, {1, 2}, {5, 0, 1, 2}}}) {
    graph::Graph g;
    g.inputs = {"input"};
    g.values["input"] = {graph::DType::kFloat32, {1, c.channels, c.h, c.w}, true};
    g.set_initializer("w", random_input({6, c.channels, c.kernel[0], c.kernel[1]}, 3u));
    g.set_initializer("b", random_input({6}, 4u));
    g.nodes.push_back(
        {"conv",
         "Conv",
         "",
         {"input", "w", "b"},
         {"c"},
         {{"kernel_shape", c.kernel}, {"strides", c.strides}, {"dilations", c.dilations}, {"pads", c.pads}}});
    g.nodes.push_back({"relu", "Relu", "", {"c"}, {"output"}, {}});
    g.values["c"] = {};
    g.values["output"] = {};
    g.outputs = {"output"};
    graph::infer_shapes(g);
    xnnpack::XnnpackSession session(g, {});
    session.set_poison_buffers(true);
    auto reference = make_session("reference", g);
    for (int64_t batch : {int64_t{1}, int64_t{3}}) {
      graph::Tensor x = random_input({batch, c.channels, c.h, c.w}, 5u);
      EXPECT_LE(testing::relative_error(session.run({{"input", x}}).at("output"),
                                        reference->run({{"input", x}}).at("output")),
                1e-5)
          << c.channels << " channels, kernel " << c.kernel[0] << "x" << c.kernel[1] << ", batch " << batch;
    }
  }
}

// Concatenations along channels by placement: convolutions whose activations fold into their
// output range write their channels of the concatenation's pixels (the copy does not run); a
// part with an activation of its own, or read by another step too, keeps the copy. Outputs match
// the reference either way, at batch 1 and 3.
TEST(XnnpackConcat, PartsWrittenInPlaceWhereTheirProducersCan) {
  reference::register_reference_backend();
  struct Case {
    std::string second_activation;  // of the second part
    bool part_read_elsewhere;
    int64_t elided;
  };
  for (const Case& c : {Case{"Relu", false, 1}, Case{"Swish", false, 0}, Case{"Relu", true, 0}}) {
    zoo::GraphBuilder b("concat", {3, 8, 9, 9}, 17);
    std::string a = b.relu(b.conv(b.input(), "a", 16, 1, 1, 0, 1, true));
    std::string second = b.activation(c.second_activation, b.conv(b.input(), "b", 24, 3, 1, 1, 1, true));
    std::string y = b.concat({a, second});
    std::string z = b.global_avg_pool(b.conv(y, "c", 8, 3, 1, 1));
    if (c.part_read_elsewhere) z = b.add(z, b.global_avg_pool(b.conv(a, "d", 8, 1)));
    graph::Graph g = b.finish(b.flatten(z));
    xnnpack::XnnpackSession session(g, {});
    session.set_poison_buffers(true);
    auto reference = make_session("reference", g);
    for (int64_t batch : {int64_t{1}, int64_t{3}}) {
      SCOPED_TRACE(c.second_activation + (c.part_read_elsewhere ? ", part read elsewhere" : "") + ", batch " +
                   std::to_string(batch));
      EXPECT_EQ(session.plan_stats(batch).elided_concats, c.elided);
      graph::Tensor x = random_input({batch, 8, 9, 9}, 21u);
      EXPECT_LE(testing::relative_error(session.run({{"input", x}}).at("output"),
                                        reference->run({{"input", x}}).at("output")),
                1e-5);
    }
  }
}

// QDQ convolutions (dense, per tensor, int8 and uint8 activations, strided, depthwise, 1x1, float
// bias) and inner products (Gemm, either weight layout), as PyTorch exports them, run in integers
// on XNNPACK: the model's uint8 activations made int8, within one output step of the reference.
TEST(XnnpackQuantized, QdqConvolutionsAndGemmsRunInInt8WithinOneStepOfTheReference) {
  reference::register_reference_backend();
  std::vector<graph::Graph> graphs;
  for (const auto& o : fluidedge::testing::qdq_conv_cases()) graphs.push_back(fluidedge::testing::qdq_conv_graph(o));
  for (const auto& o : fluidedge::testing::qdq_gemm_cases()) graphs.push_back(fluidedge::testing::qdq_gemm_graph(o));
  for (size_t k = 0; k < graphs.size(); ++k) {
    const graph::Graph& g = graphs[k];
    xnnpack::XnnpackSession session(g, {});
    session.set_poison_buffers(true);
    EXPECT_EQ(session.plan_stats(g.value("input").shape[0]).fallback_steps, 0) << "case " << k;
    int qconvs = 0, uint8_values = 0;
    for (const auto& n : session.graph().nodes) {
      qconvs += n.op_type == "QLinearConv";
      for (const auto& o : n.outputs) uint8_values += session.graph().value(o).dtype == graph::DType::kUInt8;
    }
    EXPECT_EQ(qconvs, 1) << "case " << k;
    EXPECT_EQ(uint8_values, 0) << "case " << k << ": XNNPACK's per-channel kernels take int8";
    graph::Tensor x = random_input(g.value("input").shape, static_cast<uint32_t>(k));
    auto want = make_session("reference", g)->run({{"input", x}}).at("output");
    auto got = session.run({{"input", x}}).at("output");
    const double exact = fluidedge::testing::share_exact_within_one_step(got, want, 0.05f);
    EXPECT_GE(exact, 0.95) << "case " << k << " (-1: an element more than a step away)";
  }
}

}  // namespace
}  // namespace fluidedge::runtime
