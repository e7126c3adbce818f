// ONNX's backend node tests (generated at test time by tests/tools/generate_onnx_node_tests.py)
// on every backend: one test per supported operator runs every case that uses it.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include <onnx/onnx_pb.h>
#include "graph/op_schema.h"

#include "graph/onnx_io.h"
#include "runtime/backends.h"
#ifdef FLUIDEDGE_WITH_TORCH
#include "runtime/reference/reference_session.h"
#endif
#include "runtime/session.h"

namespace fluidedge {
namespace {

namespace fs = std::filesystem;

// Cases that need a feature fluidedge does not have, and why. Kept short on purpose.
const std::map<std::string, std::string> kUnsupportedCases = {
    {"test_pow_types_int32_float32", "an integer base (fluidedge computes in floating point)"},
    {"test_pow_types_int32_int32", "an integer base"},
    {"test_pow_types_int64_float32", "an integer base"},
    {"test_pow_types_int64_int64", "an integer base"},
    {"test_pow_types_float32_uint32", "uint32 tensors"},
    {"test_pow_types_float32_uint64", "uint64 tensors"},
    {"test_reduce_sum_default_axes_keepdims_example", "axes given at run time (fluidedge plans static shapes)"},
    {"test_reduce_sum_default_axes_keepdims_random", "axes given at run time"},
    {"test_reduce_sum_do_not_keepdims_example", "axes given at run time"},
    {"test_reduce_sum_do_not_keepdims_random", "axes given at run time"},
    {"test_reduce_sum_empty_axes_input_noop_example", "axes given at run time"},
    {"test_reduce_sum_keepdims_example", "axes given at run time"},
    {"test_reduce_sum_keepdims_random", "axes given at run time"},
    {"test_reduce_sum_negative_axes_keepdims_example", "axes given at run time"},
    {"test_reduce_sum_negative_axes_keepdims_random", "axes given at run time"},
    {"test_training_dropout", "Dropout in training mode (fluidedge infers only)"},
    {"test_training_dropout_default", "Dropout in training mode"},
    {"test_training_dropout_default_mask", "Dropout in training mode"},
    {"test_training_dropout_mask", "Dropout in training mode"},
    {"test_training_dropout_zero_ratio", "Dropout in training mode"},
    {"test_training_dropout_zero_ratio_mask", "Dropout in training mode"},
    {"test_batchnorm_epsilon_training_mode", "BatchNormalization in training mode"},
    {"test_batchnorm_example_training_mode", "BatchNormalization in training mode"},
    {"test_maxpool_with_argmax_2d_precomputed_pads", "MaxPool's Indices output"},
    {"test_maxpool_with_argmax_2d_precomputed_strides", "MaxPool's Indices output"},
    {"test_cast_FLOAT_to_STRING", "string tensors"},
    {"test_cast_STRING_to_FLOAT", "string tensors"},
    {"test_cast_FLOAT_to_BFLOAT16", "bfloat16 tensors"},
    {"test_cast_BFLOAT16_to_FLOAT", "bfloat16 tensors"},
    {"test_castlike_FLOAT_to_STRING_expanded", "string tensors"},
    {"test_castlike_STRING_to_FLOAT_expanded", "string tensors"},
    {"test_castlike_FLOAT_to_BFLOAT16_expanded", "bfloat16 tensors"},
    {"test_castlike_BFLOAT16_to_FLOAT_expanded", "bfloat16 tensors"},
    {"test_maxpool_2d_uint8", "integer pooling"},
    {"test_reshape_allowzero_reordered", "zero-size tensors"},
    {"test_split_zero_size_splits", "zero-size tensors"},
};

// Inputs fluidedge needs at load time (it plans static shapes): in node tests they are graph
// inputs, in exported models they are initializers; the harness binds them as initializers.
const std::map<std::string, std::set<size_t>> kLoadTimeInputs = {
    {"Reshape", {1}},
    {"Split", {1}},
    {"Squeeze", {1}},
    {"Unsqueeze", {1}},
    {"Pad", {1, 2, 3}},
    {"Slice", {0, 1, 2, 3, 4}},
    {"Gather", {0, 1}},
    {"Shape", {0}},
    {"Cast", {0}},
    // Weights, biases and statistics: initializers in real models, inputs in node tests.
    {"Conv", {1, 2}},
    {"BatchNormalization", {1, 2, 3, 4}},
    {"Gemm", {2}},
    {"Clip", {1, 2}},
    {"LayerNormalization", {1, 2}},
    // Quantization parameters, quantized weights and int32 biases.
    {"QuantizeLinear", {1, 2}},
    {"DequantizeLinear", {1, 2}},
    {"QLinearConv", {1, 2, 3, 4, 5, 6, 7, 8}},
    {"QLinearMatMul", {1, 2, 4, 5, 6, 7}},
    {"ConvInteger", {1, 2, 3}},
    {"MatMulInteger", {2, 3}},
    {"ConstantOfShape", {0}}};

std::string data_dir() { return std::string(FLUIDEDGE_TEST_DATA) + "/onnx-node"; }

graph::Tensor read_tensor(const fs::path& path) { return graph::load_onnx_tensor(path.string()); }

struct Case {
  std::string name;
  fs::path dir;
  onnx::ModelProto model;
};

std::vector<Case> cases_using(const std::string& op) {
  std::vector<Case> out;
  if (!fs::exists(data_dir())) return out;
  for (const auto& entry : fs::directory_iterator(data_dir())) {
    if (!entry.is_directory()) continue;
    Case c;
    c.name = entry.path().filename().string();
    c.dir = entry.path();
    std::ifstream in(entry.path() / "model.onnx", std::ios::binary);
    if (!c.model.ParseFromIstream(&in)) continue;
    for (const auto& n : c.model.graph().node())
      if (n.op_type() == op) {
        out.push_back(std::move(c));
        break;
      }
  }
  std::sort(out.begin(), out.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return out;
}

// Runs one data set of a case on a backend; returns "" on success, else what went wrong.
std::string run_case(const Case& c, const fs::path& set_dir, const std::string& backend) {
  onnx::ModelProto model = c.model;
  auto* g = model.mutable_graph();
  std::map<std::string, graph::Tensor> feeds;
  std::set<std::string> bind;
  for (const auto& n : g->node()) {
    auto it = kLoadTimeInputs.find(n.op_type());
    if (it == kLoadTimeInputs.end()) continue;
    for (size_t i : it->second)
      if (static_cast<int>(i) < n.input_size()) bind.insert(n.input(static_cast<int>(i)));
  }
  std::vector<onnx::ValueInfoProto> kept_inputs;
  for (int j = 0; j < g->input_size(); ++j) {
    fs::path p = set_dir / ("input_" + std::to_string(j) + ".pb");
    if (!fs::exists(p)) continue;  // optional input left out
    onnx::TensorProto proto;
    std::ifstream in(p, std::ios::binary);
    proto.ParseFromIstream(&in);
    const std::string& name = g->input(j).name();
    if (bind.count(name)) {
      proto.set_name(name);
      *g->add_initializer() = proto;
    } else {
      kept_inputs.push_back(g->input(j));
      feeds[name] = read_tensor(p);
    }
  }
  g->clear_input();
  for (auto& v : kept_inputs) *g->add_input() = v;

  graph::Graph graph = graph::parse_onnx(model.SerializeAsString(), c.name, c.dir.string());
  auto session = runtime::make_session(backend, graph);
  runtime::TensorMap outputs = session->run(feeds);
  std::string problems;
  for (int j = 0; j < g->output_size(); ++j) {
    const std::string& name = g->output(j).name();
    graph::Tensor want = read_tensor(set_dir / ("output_" + std::to_string(j) + ".pb"));
    auto it = outputs.find(name);
    if (it == outputs.end()) return "output '" + name + "' missing";
    const graph::Tensor& got = it->second;
    if (got.shape() != want.shape())
      return fmt::format("output '{}' shape {} != expected {}", name, graph::shape_str(got.shape()),
                         graph::shape_str(want.shape()));
    if (got.dtype() != want.dtype())
      return fmt::format("output '{}' dtype {} != expected {}", name, graph::dtype_name(got.dtype()),
                         graph::dtype_name(want.dtype()));
    if (graph::dtype_is_float(want.dtype()) && want.dtype() != graph::DType::kFloat16) {
      // numpy.testing.assert_allclose with ONNX's default tolerances.
      auto a = got.to_float(), b = want.to_float();
      for (size_t k = 0; k < a.size(); ++k) {
        double tol = 1e-7 + 1e-3 * std::abs(b[k]);
        bool both_nan = std::isnan(a[k]) && std::isnan(b[k]);
        if (!both_nan && !(std::abs(a[k] - b[k]) <= tol))
          return fmt::format("output '{}' element {}: {} != expected {}", name, k, a[k], b[k]);
      }
    } else if (!got.equals(want)) {
      return fmt::format("output '{}' differs from the expected values", name);
    }
  }
  return problems;
}

class OnnxNodeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxNodeTest, AllCasesPassOnEveryBackend) {
#ifdef FLUIDEDGE_WITH_TORCH
  runtime::reference::register_reference_backend();
#endif
  runtime::register_lean_backends();
  ASSERT_TRUE(fs::exists(data_dir())) << "node tests not generated in " << data_dir()
                                      << " (run through ctest: the generate_onnx_node_tests fixture makes them)";
  std::vector<Case> cases = cases_using(GetParam());
  if (GetParam() == "Gelu" && cases.empty())
    GTEST_SKIP() << "Debian's ONNX 1.12 has no Gelu node tests (the op is opset 20's); op_table_test covers it";
  if (const graph::OpSchema* s = graph::find_op_schema(GetParam()); s && !s->domain.empty() && cases.empty())
    GTEST_SKIP() << "ONNX's node tests cover its own domain only; " << s->domain << "." << GetParam()
                 << " is covered by op_table_test and the quantized model tests";
  ASSERT_FALSE(cases.empty()) << "no ONNX node test uses " << GetParam();
  int ran = 0;
  for (const std::string& backend : runtime::available_backends()) {
    for (const Case& c : cases) {
      if (kUnsupportedCases.count(c.name)) continue;
      for (const auto& entry : fs::directory_iterator(c.dir)) {
        if (!entry.is_directory()) continue;
        std::string problem;
        try {
          problem = run_case(c, entry.path(), backend);
        } catch (const std::exception& e) {
          problem = e.what();
        }
#ifndef FLUIDEDGE_WITH_TORCH
        // A lean build (no libtorch) may refuse what only the reference backend runs, clearly.
        if (problem.find("this build has no reference backend to fall back to") != std::string::npos) continue;
#endif
        EXPECT_EQ(problem, "") << backend << ": " << c.name << "/" << entry.path().filename().string();
        ++ran;
      }
    }
  }
  EXPECT_GT(ran, 0);
}

// Every op the importer accepts; the generator (tests/tools/generate_onnx_node_tests.py) reads
// this list from the binary's --gtest_list_tests, so the two never differ.
INSTANTIATE_TEST_SUITE_P(Ops, OnnxNodeTest, ::testing::ValuesIn(graph::importable_ops()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace fluidedge
