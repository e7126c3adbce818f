// Writes the IR as an ONNX model: opset 17, IR version 8, weights as raw little-endian data,
// and a symbolic batch dimension on every input and output so other runtimes accept any batch.
#include <set>
#include <string>

#include <onnx/onnx_pb.h>

#include "common/atomic_file.h"
#include "graph/onnx_io.h"

namespace fluidedge::graph {

namespace {

constexpr int64_t kExportOpset = 17;
constexpr int64_t kExportIrVersion = 8;

void tensor_to_proto(const std::string& name, const Tensor& t, onnx::TensorProto* proto) {
  proto->set_name(name);
  proto->set_data_type(dtype_to_onnx(t.dtype()));
  for (int64_t d : t.shape()) proto->add_dims(d);
  proto->set_raw_data(t.raw(), t.nbytes());
}

void attribute_to_proto(const std::string& name, const Attribute& value, onnx::AttributeProto* a) {
  using A = onnx::AttributeProto;
  a->set_name(name);
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          a->set_type(A::INT);
          a->set_i(v);
        } else if constexpr (std::is_same_v<T, float>) {
          a->set_type(A::FLOAT);
          a->set_f(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          a->set_type(A::STRING);
          a->set_s(v);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          a->set_type(A::INTS);
          for (auto x : v) a->add_ints(x);
        } else if constexpr (std::is_same_v<T, std::vector<float>>) {
          a->set_type(A::FLOATS);
          for (auto x : v) a->add_floats(x);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          a->set_type(A::STRINGS);
          for (const auto& x : v) a->add_strings(x);
        } else {
          a->set_type(A::TENSOR);
          tensor_to_proto("", v, a->mutable_t());
        }
      },
      value);
}

void value_to_proto(const std::string& name, const ValueInfo& info, onnx::ValueInfoProto* proto) {
  proto->set_name(name);
  auto* tt = proto->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(dtype_to_onnx(info.dtype));
  auto* shape = tt->mutable_shape();
  for (size_t d = 0; d < info.shape.size(); ++d) {
    auto* dim = shape->add_dim();
    if (d == 0)
      dim->set_dim_param("batch");
    else
      dim->set_dim_value(info.shape[d]);
  }
}

}  // namespace

std::string serialize_onnx(const Graph& graph) {
  onnx::ModelProto model;
  model.set_ir_version(kExportIrVersion);
  model.set_producer_name("fluidedge");
  model.set_producer_version("0.1");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kExportOpset);
  std::set<std::string> domains;
  for (const Node& node : graph.nodes)
    if (!node.domain.empty()) domains.insert(node.domain);
  for (const auto& d : domains) {  // ONNX Runtime's contrib ops (com.microsoft) are at version 1
    auto* other = model.add_opset_import();
    other->set_domain(d);
    other->set_version(1);
  }
  auto* g = model.mutable_graph();
  g->set_name(graph.name);
  for (const auto& name : graph.inputs) value_to_proto(name, graph.value(name), g->add_input());
  for (const auto& name : graph.outputs) value_to_proto(name, graph.value(name), g->add_output());
  for (const auto& [name, t] : graph.initializers) tensor_to_proto(name, t, g->add_initializer());
  for (const Node& node : graph.nodes) {
    auto* n = g->add_node();
    n->set_name(node.name);
    n->set_op_type(node.op_type);
    if (!node.domain.empty()) n->set_domain(node.domain);
    for (const auto& in : node.inputs) n->add_input(in);
    for (const auto& out : node.outputs) n->add_output(out);
    for (const auto& [key, value] : node.attrs) attribute_to_proto(key, value, n->add_attribute());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    fail("graph '{}' cannot be serialized as ONNX (over protobuf's 2 GiB limit?)", graph.name);
  return bytes;
}

void save_onnx(const Graph& graph, const std::string& path) { write_file_atomically(path, {}, serialize_onnx(graph)); }

}  // namespace fluidedge::graph
