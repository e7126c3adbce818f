// The reference backend's own guarantees: gradients flow through the executor (the trainer
// relies on it), training-mode batch norm uses batch statistics, and inputs are validated.
#include <gtest/gtest.h>

#include "graph/shape_inference.h"
#include "runtime/reference/aten_executor.h"
#include "runtime/reference/reference_session.h"

namespace fluidedge::runtime::reference {
namespace {

graph::Graph tiny_net() {
  graph::Graph g;
  g.inputs = {"x"};
  g.values["x"] = {graph::DType::kFloat32, {2, 1, 4, 4}, true};
  auto w = [&](const std::string& n, graph::Shape s, float scale) {
    graph::Tensor t(graph::DType::kFloat32, s);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = scale * static_cast<float>((i * 37 % 11) - 5) / 5.f;
    g.set_initializer(n, t);
  };
  w("cw", {3, 1, 3, 3}, 0.5f);
  w("fw", {2, 12}, 0.3f);
  g.nodes.push_back({"conv",
                     "Conv",
                     "",
                     {"x", "cw"},
                     {"c"},
                     {{"strides", std::vector<int64_t>{2, 2}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}}});
  g.nodes.push_back({"relu", "Relu", "", {"c"}, {"r"}, {}});
  g.nodes.push_back({"flat", "Flatten", "", {"r"}, {"f"}, {}});
  g.nodes.push_back({"fc", "Gemm", "", {"f", "fw"}, {"y"}, {{"transB", int64_t{1}}}});
  for (const char* v : {"c", "r", "f", "y"}) g.values[v] = {};
  g.outputs = {"y"};
  graph::infer_shapes(g);
  return g;
}

TEST(AtenExecutor, GradientsMatchFiniteDifferences) {
  AtenExecutor ex(tiny_net());
  at::Tensor x = at::linspace(-1, 1, 32).reshape({2, 1, 4, 4});
  at::Tensor& w = ex.parameters().at("cw");
  w = w.to(at::kDouble).set_requires_grad(true);
  ex.parameters().at("fw") = ex.parameters().at("fw").to(at::kDouble);
  auto loss = [&]() { return (ex.forward({{"x", x.to(at::kDouble)}}).at("y").pow(2)).sum(); };
  at::Tensor l = loss();
  l.backward();
  at::Tensor grad = w.grad().clone();
  double eps = 1e-6;
  for (int64_t i = 0; i < w.numel(); ++i) {
    double numeric;
    {
      at::NoGradGuard no_grad;
      auto flat = w.view({-1});
      double old = flat[i].item<double>();
      flat[i] = old + eps;
      double up = loss().item<double>();
      flat[i] = old - eps;
      double down = loss().item<double>();
      flat[i] = old;
      numeric = (up - down) / (2 * eps);
    }
    EXPECT_NEAR(grad.view({-1})[i].item<double>(), numeric, 1e-5 * std::max(1.0, std::abs(numeric))) << i;
  }
}

TEST(AtenExecutor, TrainingBatchNormUsesBatchStatistics) {
  graph::Graph g;
  g.inputs = {"x"};
  g.values["x"] = {graph::DType::kFloat32, {4, 2, 1, 1}, true};
  g.set_initializer("s", graph::Tensor::from_vector<float>({2}, {1, 1}));
  g.set_initializer("b", graph::Tensor::from_vector<float>({2}, {0, 0}));
  g.set_initializer("m", graph::Tensor::from_vector<float>({2}, {100, 100}));
  g.set_initializer("v", graph::Tensor::from_vector<float>({2}, {1, 1}));
  g.nodes.push_back({"bn", "BatchNormalization", "", {"x", "s", "b", "m", "v"}, {"y"}, {{"momentum", 0.9f}}});
  g.values["y"] = {};
  g.outputs = {"y"};
  graph::infer_shapes(g);
  AtenExecutor ex(g);
  at::Tensor x = at::tensor({1.f, 10.f, 2.f, 20.f, 3.f, 30.f, 4.f, 40.f}).reshape({4, 2, 1, 1});
  at::Tensor y = ex.forward({{"x", x}}, true).at("y");
  // Normalised with the batch's own mean: outputs average to zero per channel.
  EXPECT_NEAR(y.select(1, 0).mean().item<float>(), 0.f, 1e-5);
  EXPECT_NEAR(y.select(1, 1).mean().item<float>(), 0.f, 1e-5);
  // Running mean moved 10 % of the way from 100 towards the batch mean (2.5 and 25).
  EXPECT_NEAR(ex.parameters().at("m")[0].item<float>(), 0.9f * 100 + 0.1f * 2.5f, 1e-4);
  // Inference mode uses the running statistics: (x - ~90) is far from zero mean.
  at::Tensor z = ex.forward({{"x", x}}, false).at("y");
  EXPECT_LT(z.select(1, 0).mean().item<float>(), -50.f);
}

TEST(ReferenceSession, ValidatesInputs) {
  register_reference_backend();
  auto s = make_session("reference", tiny_net());
  auto expect_error = [&](TensorMap in, const std::string& needle) {
    try {
      s->run(in);
      FAIL() << "expected an error mentioning " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error({{"x", graph::Tensor(graph::DType::kInt64, {2, 1, 4, 4})}}, "dtype int64");
  expect_error({{"x", graph::Tensor(graph::DType::kFloat32, {2, 1, 5, 4})}}, "[N,1,4,4]");
  expect_error({}, "'x' is missing");
  expect_error(
      {{"x", graph::Tensor(graph::DType::kFloat32, {2, 1, 4, 4})}, {"z", graph::Tensor(graph::DType::kFloat32, {1})}},
      "'z' is not an input");
  // Another batch size is fine.
  auto out = s->run({{"x", graph::Tensor(graph::DType::kFloat32, {5, 1, 4, 4})}});
  EXPECT_EQ(out.at("y").shape(), (graph::Shape{5, 2}));
}

}  // namespace
}  // namespace fluidedge::runtime::reference
