#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "graph/cost.h"
#include "graph/onnx_io.h"
#include "graph/shape_inference.h"
#include "graph_test_util.h"

namespace fluidedge::graph {
namespace {

namespace fs = std::filesystem;

// A hand-written ModelProto, the way PyTorch's exporter writes `x.view(x.size(0), -1)`.
struct ModelBuilder {
  onnx::ModelProto model;
  onnx::GraphProto* g;

  explicit ModelBuilder(int64_t opset = 17) {
    model.set_ir_version(8);
    auto* op = model.add_opset_import();
    op->set_version(opset);
    g = model.mutable_graph();
    g->set_name("test");
  }
  void input(const std::string& name, std::vector<int64_t> dims, int elem = onnx::TensorProto::FLOAT,
             bool symbolic_batch = true) {
    auto* v = g->add_input();
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem);
    for (size_t i = 0; i < dims.size(); ++i) {
      auto* d = tt->mutable_shape()->add_dim();
      if (i == 0 && symbolic_batch)
        d->set_dim_param("N");
      else
        d->set_dim_value(dims[i]);
    }
  }
  void output(const std::string& name) {
    auto* v = g->add_output();
    v->set_name(name);
    v->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  }
  onnx::NodeProto* node(const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(g->node_size()));
    for (auto& s : in) n->add_input(s);
    for (auto& s : out) n->add_output(s);
    return n;
  }
  static void ints(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
  }
  static void int_attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  void constant_ints(const std::string& out, std::vector<int64_t> v, bool scalar = false) {
    auto* n = node("Constant", {}, {out});
    auto* a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto::INT64);
    if (!scalar) a->mutable_t()->add_dims(static_cast<int64_t>(v.size()));
    for (auto x : v) a->mutable_t()->add_int64_data(x);
  }
  void weights(const std::string& name, std::vector<int64_t> dims, float value = 0.5f) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    int64_t n = 1;
    for (auto d : dims) {
      t->add_dims(d);
      n *= d;
    }
    for (int64_t i = 0; i < n; ++i) t->add_float_data(value + 0.01f * static_cast<float>(i % 7));
  }
  Graph load() const { return parse_onnx(model.SerializeAsString(), "test.onnx", "."); }
  std::string error() const {
    try {
      load();
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
};

ModelBuilder exporter_style_flatten() {
  ModelBuilder m;
  m.input("x", {1, 4, 3, 3});
  m.weights("w", {8, 4, 3, 3});
  m.node("Conv", {"x", "w"}, {"c"});
  m.node("Shape", {"c"}, {"s"});
  m.constant_ints("zero", {0}, true);
  auto* gather = m.node("Gather", {"s", "zero"}, {"n"});
  ModelBuilder::int_attr(gather, "axis", 0);
  m.constant_ints("axes", {0});
  m.node("Unsqueeze", {"n", "axes"}, {"n1"});
  m.constant_ints("minus_one", {-1});
  m.node("Concat", {"n1", "minus_one"}, {"target"});
  ModelBuilder::int_attr(m.g->mutable_node(m.g->node_size() - 1), "axis", 0);
  m.node("Reshape", {"c", "target"}, {"y"});
  m.output("y");
  return m;
}

TEST(OnnxImport, FoldsShapeArithmeticAroundReshape) {
  Graph g = exporter_style_flatten().load();
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].op_type, "Conv");
  EXPECT_EQ(g.nodes[1].op_type, "Reshape");
  EXPECT_EQ(g.value("y").shape, (Shape{1, 8}));
  // The folded target follows the batch: dimension 0 is "copy".
  EXPECT_EQ(g.initializer(g.nodes[1].inputs[1])->to_int64(), (std::vector<int64_t>{0, -1}));
  set_batch(g, 3);
  EXPECT_EQ(g.value("y").shape, (Shape{3, 8}));
}

TEST(OnnxImport, ExportReimportsToTheSameGraph) {
  Graph a = exporter_style_flatten().load();
  Graph b = parse_onnx(serialize_onnx(a), "roundtrip.onnx", ".");
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    EXPECT_EQ(a.nodes[i].name, b.nodes[i].name);
    EXPECT_EQ(a.nodes[i].op_type, b.nodes[i].op_type);
    EXPECT_EQ(a.nodes[i].inputs, b.nodes[i].inputs);
    EXPECT_EQ(a.nodes[i].outputs, b.nodes[i].outputs);
    EXPECT_EQ(a.nodes[i].attrs.size(), b.nodes[i].attrs.size());
  }
  ASSERT_EQ(a.initializers.size(), b.initializers.size());
  for (const auto& [name, t] : a.initializers) EXPECT_TRUE(t.equals(b.initializers.at(name))) << name;
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.outputs, b.outputs);
  for (const auto& [name, v] : a.values) EXPECT_EQ(v.shape, b.value(name).shape) << name;
}

TEST(OnnxImport, Opset11SqueezeAndSplitAttributesBecomeInputs) {
  ModelBuilder m(11);
  m.input("x", {1, 6, 1}, onnx::TensorProto::FLOAT, false);
  auto* split = m.node("Split", {"x"}, {"a", "b"});
  ModelBuilder::int_attr(split, "axis", 1);
  ModelBuilder::ints(split, "split", {2, 4});
  auto* sq = m.node("Squeeze", {"b"}, {"y"});
  ModelBuilder::ints(sq, "axes", {2});
  m.output("a");
  m.output("y");
  Graph g = m.load();
  EXPECT_EQ(g.value("a").shape, (Shape{1, 2, 1}));
  EXPECT_EQ(g.value("y").shape, (Shape{1, 4}));
  EXPECT_EQ(g.nodes[0].inputs.size(), 2u);
  EXPECT_EQ(g.initializer(g.nodes[0].inputs[1])->to_int64(), (std::vector<int64_t>{2, 4}));
}

TEST(OnnxImport, LegacySoftmaxOverInnerAxisIsRewritten) {
  ModelBuilder m(11);
  m.input("x", {2, 3, 4}, onnx::TensorProto::FLOAT, false);
  auto* s = m.node("Softmax", {"x"}, {"y"});
  ModelBuilder::int_attr(s, "axis", 1);
  m.output("y");
  Graph g = m.load();
  ASSERT_EQ(g.nodes.size(), 3u);
  EXPECT_EQ(g.nodes[0].op_type, "Flatten");
  EXPECT_EQ(g.nodes[1].op_type, "Softmax");
  EXPECT_EQ(g.nodes[2].op_type, "Reshape");
  EXPECT_EQ(g.value("y").shape, (Shape{2, 3, 4}));
}

TEST(OnnxImport, UnsupportedOpNamesNodeOpAndOpset) {
  ModelBuilder m(13);
  m.input("x", {1, 3});
  auto* n = m.node("Hardmax", {"x"}, {"y"});
  n->set_name("my_hardmax");
  m.output("y");
  std::string e = m.error();
  EXPECT_NE(e.find("my_hardmax"), std::string::npos) << e;
  EXPECT_NE(e.find("Hardmax"), std::string::npos) << e;
  EXPECT_NE(e.find("opset 13"), std::string::npos) << e;
  EXPECT_NE(e.find("test.onnx"), std::string::npos) << e;
}

// ONNX Runtime's contrib op QLinearAdd (domain com.microsoft) survives an export and an import;
// an unknown op of that domain is refused by its full name.
TEST(OnnxImport, ContribQuantizedOpsRoundTripInTheirDomain) {
  Graph a;
  testing::add_input(a, "a", {1, 4}, DType::kUInt8);
  a.set_initializer("s", Tensor::scalar(0.1f));
  a.set_initializer("z", Tensor::scalar<uint8_t>(3));
  testing::add_node(a, "QLinearAdd", {"a", "s", "z", "a", "s", "z", "s", "z"}, {"y"}).domain = "com.microsoft";
  a.outputs = {"y"};
  infer_shapes(a);
  std::string bytes = serialize_onnx(a);
  onnx::ModelProto p;
  ASSERT_TRUE(p.ParseFromString(bytes));
  bool declared = false;
  for (const auto& o : p.opset_import()) declared |= o.domain() == "com.microsoft";
  EXPECT_TRUE(declared) << "the export imports the com.microsoft opset";
  Graph b = parse_onnx(bytes, "contrib.onnx", ".");
  ASSERT_EQ(b.nodes.size(), 1u);
  EXPECT_EQ(b.nodes[0].domain, "com.microsoft");
  EXPECT_EQ(b.value("y").dtype, DType::kUInt8);

  p.mutable_graph()->mutable_node(0)->set_op_type("FusedConv");
  std::string e;
  try {
    parse_onnx(p.SerializeAsString(), "contrib.onnx", ".");
  } catch (const Error& err) {
    e = err.what();
  }
  EXPECT_NE(e.find("com.microsoft.FusedConv"), std::string::npos) << e;
}

TEST(OnnxImport, MissingInitializerIsNamed) {
  ModelBuilder m;
  m.input("x", {1, 4, 3, 3});
  m.node("Conv", {"x", "conv.weight"}, {"y"});
  m.output("y");
  std::string e = m.error();
  EXPECT_NE(e.find("conv.weight"), std::string::npos) << e;
  EXPECT_NE(e.find("missing initializer"), std::string::npos) << e;
}

TEST(OnnxImport, OpsetOutOfRange) {
  ModelBuilder m(19);
  m.input("x", {1});
  m.node("Relu", {"x"}, {"y"});
  m.output("y");
  EXPECT_NE(m.error().find("opset 19 is not supported"), std::string::npos) << m.error();
}

TEST(OnnxImport, TruncatedAndGarbageBytes) {
  std::string bytes = exporter_style_flatten().model.SerializeAsString();
  EXPECT_THROW(parse_onnx(bytes.substr(0, bytes.size() / 2), "t.onnx", "."), Error);
  EXPECT_THROW(parse_onnx("this is not a model at all", "t.onnx", "."), Error);
  EXPECT_THROW(parse_onnx("", "t.onnx", "."), Error);
  EXPECT_THROW(load_onnx("/nonexistent/model.onnx"), Error);
}

TEST(OnnxImport, ExternalData) {
  fs::path dir = fs::temp_directory_path() / "fluidedge_external_test";
  fs::create_directories(dir);
  ModelBuilder m;
  m.input("x", {1, 4});
  auto* t = m.g->add_initializer();
  t->set_name("w");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(3);
  t->add_dims(4);
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add_kv = [&](const std::string& k, const std::string& v) {
    auto* e = t->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add_kv("location", "weights.bin");
  add_kv("offset", "16");
  add_kv("length", "48");
  std::vector<float> w(16, 0.f);
  for (int i = 0; i < 12; ++i) w[4 + i] = static_cast<float>(i);
  std::ofstream(dir / "weights.bin", std::ios::binary).write(reinterpret_cast<const char*>(w.data()), 64);
  auto* n = m.node("Gemm", {"x", "w"}, {"y"});
  ModelBuilder::int_attr(n, "transB", 1);
  m.output("y");
  std::ofstream(dir / "model.onnx", std::ios::binary) << m.model.SerializeAsString();
  Graph g = load_onnx((dir / "model.onnx").string());
  EXPECT_EQ(g.initializer("w")->to_float()[11], 11.f);
  EXPECT_EQ(g.value("y").shape, (Shape{1, 3}));
  // A data file too short for the tensor is an error naming the file.
  std::ofstream(dir / "weights.bin", std::ios::binary).write(reinterpret_cast<const char*>(w.data()), 20);
  try {
    load_onnx((dir / "model.onnx").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("weights.bin"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(OnnxExport, WritesSymbolicBatch) {
  Graph g = exporter_style_flatten().load();
  onnx::ModelProto p;
  ASSERT_TRUE(p.ParseFromString(serialize_onnx(g)));
  EXPECT_EQ(p.opset_import(0).version(), 17);
  EXPECT_EQ(p.graph().input(0).type().tensor_type().shape().dim(0).dim_param(), "batch");
  EXPECT_EQ(p.graph().input(0).type().tensor_type().shape().dim(1).dim_value(), 4);
}

TEST(OnnxExport, UnwritableDirectoryIsAnError) {
  Graph g = exporter_style_flatten().load();
  EXPECT_THROW(save_onnx(g, "/nonexistent-dir/model.onnx"), Error);
}

}  // namespace
}  // namespace fluidedge::graph
