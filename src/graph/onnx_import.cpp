// Reads ONNX ModelProto into the IR and normalises it to what every backend expects: opset-17
// node semantics (with every reduction's axes as an input, as opset 18 has them), constants as
// initializers, folded shape arithmetic, inferred shapes, and Reshape targets that follow the
// batch size.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <fmt/ranges.h>
#include <onnx/onnx_pb.h>

#include "common/files.h"
#include "graph/constant_folding.h"
#include "graph/onnx_io.h"
#include "graph/op_schema.h"
#include "graph/shape_inference.h"

namespace fluidedge::graph {

namespace {

namespace fs = std::filesystem;

// Opsets 11-18 are what exporters write today. Older models load when their ops are upgraded
// below (Clip and Pad attributes before 11) or unchanged since; ops whose semantics differ
// before opset 7 (legacy broadcasting, is_test) are refused in check_legacy_node.
constexpr int64_t kMinOpset = 1;
constexpr int64_t kMaxOpset = 18;

// Reads `length` bytes at `offset` of an external data file, relative to the model's directory.
std::string read_external(const onnx::TensorProto& proto, const std::string& base_dir) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& entry : proto.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset")
      offset = std::stoll(entry.value());
    else if (entry.key() == "length")
      length = std::stoll(entry.value());
  }
  if (location.empty()) fail("tensor '{}' has external data without a location", proto.name());
  fs::path rel(location);
  if (rel.is_absolute() || rel.lexically_normal().string().starts_with(".."))
    fail("tensor '{}': external data location '{}' must be relative to the model's directory", proto.name(), location);
  fs::path full = fs::path(base_dir) / rel;
  std::ifstream in(full, std::ios::binary);
  if (!in) fail("tensor '{}': external data file '{}' cannot be opened", proto.name(), full.string());
  in.seekg(0, std::ios::end);
  int64_t size = static_cast<int64_t>(in.tellg());
  if (length < 0) length = size - offset;
  if (offset < 0 || offset + length > size)
    fail("tensor '{}': external data file '{}' holds {} bytes, the tensor needs bytes {} to {}", proto.name(),
         full.string(), size, offset, offset + length);
  std::string bytes(static_cast<size_t>(length), '\0');
  in.seekg(offset);
  in.read(bytes.data(), length);
  return bytes;
}

Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_dir) {
  DType dtype = dtype_from_onnx(proto.data_type());
  if (dtype == DType::kUndefined)
    fail("tensor '{}' has element type {} ({}), which fluidedge does not support", proto.name(),
         onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(proto.data_type())),
         proto.data_type());
  Shape shape(proto.dims().begin(), proto.dims().end());
  for (int64_t d : shape)
    if (d < 0) fail("tensor '{}' has a negative dimension in {}", proto.name(), shape_str(shape));
  // What the data holds is checked before the tensor is allocated: a few bytes of file must not
  // make the importer ask for gigabytes.
  int64_t n = 0;
  try {
    n = shape_numel(shape);
  } catch (const Error& e) {
    fail("tensor '{}': {}", proto.name(), e.what());
  }
  const auto declared = static_cast<uint64_t>(n) * dtype_size(dtype);
  if (proto.data_location() != onnx::TensorProto_DataLocation_EXTERNAL) {
    uint64_t held = 0;
    if (proto.has_raw_data()) {
      held = proto.raw_data().size();
    } else {
      const int64_t count = dtype == DType::kFloat32   ? proto.float_data_size()
                            : dtype == DType::kFloat64 ? proto.double_data_size()
                            : dtype == DType::kInt64   ? proto.int64_data_size()
                                                       : proto.int32_data_size();
      held = static_cast<uint64_t>(count) * dtype_size(dtype);
    }
    if (held != declared)
      fail("tensor '{}' of shape {} needs {} bytes of data, found {}", proto.name(), shape_str(shape), declared, held);
  }
  Tensor t(dtype, shape);
  auto need = [&](int64_t have) {
    if (have != n)
      fail("tensor '{}' of shape {} holds {} values, expected {}", proto.name(), shape_str(shape), have, n);
  };
  if (proto.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) {
    std::string bytes = read_external(proto, base_dir);
    if (bytes.size() != t.nbytes())
      fail("tensor '{}' of shape {} needs {} bytes of external data, found {}", proto.name(), shape_str(shape),
           t.nbytes(), bytes.size());
    std::memcpy(t.raw(), bytes.data(), bytes.size());
  } else if (proto.has_raw_data()) {
    if (proto.raw_data().size() != t.nbytes())
      fail("tensor '{}' of shape {} needs {} bytes of data, found {}", proto.name(), shape_str(shape), t.nbytes(),
           proto.raw_data().size());
    std::memcpy(t.raw(), proto.raw_data().data(), t.nbytes());
  } else {
    switch (dtype) {
      case DType::kFloat32:
        need(proto.float_data_size());
        std::copy(proto.float_data().begin(), proto.float_data().end(), t.data<float>());
        break;
      case DType::kFloat64:
        need(proto.double_data_size());
        std::copy(proto.double_data().begin(), proto.double_data().end(), t.data<double>());
        break;
      case DType::kInt64:
        need(proto.int64_data_size());
        std::copy(proto.int64_data().begin(), proto.int64_data().end(), t.data<int64_t>());
        break;
      case DType::kInt32:
        need(proto.int32_data_size());
        std::copy(proto.int32_data().begin(), proto.int32_data().end(), t.data<int32_t>());
        break;
      case DType::kFloat16: {
        need(proto.int32_data_size());
        auto* dst = static_cast<uint16_t*>(t.raw());
        for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<uint16_t>(proto.int32_data(i));
        break;
      }
      case DType::kInt8:
      case DType::kUInt8:
      case DType::kInt16:
      case DType::kBool: {
        need(proto.int32_data_size());
        Tensor wide = Tensor::from_vector<int32_t>(shape, {proto.int32_data().begin(), proto.int32_data().end()});
        t = wide.cast(dtype);
        break;
      }
      default:
        fail("tensor '{}': unsupported storage", proto.name());
    }
  }
  return t;
}

Attribute attribute_from_proto(const onnx::AttributeProto& a, const std::string& node, const std::string& base_dir) {
  using A = onnx::AttributeProto;
  switch (a.type()) {
    case A::FLOAT:
      return a.f();
    case A::INT:
      return a.i();
    case A::STRING:
      return a.s();
    case A::TENSOR:
      return tensor_from_proto(a.t(), base_dir);
    case A::FLOATS:
      return std::vector<float>(a.floats().begin(), a.floats().end());
    case A::INTS:
      return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    case A::STRINGS:
      return std::vector<std::string>(a.strings().begin(), a.strings().end());
    default:
      fail("node '{}': attribute '{}' has type {}, which fluidedge does not support", node, a.name(),
           A::AttributeType_Name(a.type()));
  }
}

// The value of a Constant node as a tensor.
Tensor constant_value(const Node& node) {
  if (node.has_attr("value")) return node.attr_tensor("value");
  if (node.has_attr("value_float")) return Tensor::scalar<float>(node.attr_float("value_float", 0));
  if (node.has_attr("value_int")) return Tensor::scalar<int64_t>(node.attr_int("value_int", 0));
  if (node.has_attr("value_floats")) {
    auto v = node.attr_floats("value_floats");
    return Tensor::from_vector<float>({static_cast<int64_t>(v.size())}, v);
  }
  if (node.has_attr("value_ints")) {
    auto v = node.attr_ints("value_ints");
    return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v);
  }
  fail("{}: only tensor, float and int constants are supported", node.describe());
}

ValueInfo value_info_from_proto(const onnx::ValueInfoProto& v, bool is_input) {
  if (!v.type().has_tensor_type())
    fail("{} '{}' is not a tensor; fluidedge handles tensor inputs and outputs only", is_input ? "input" : "output",
         v.name());
  const auto& tt = v.type().tensor_type();
  ValueInfo info;
  info.dtype = dtype_from_onnx(tt.elem_type());
  if (info.dtype == DType::kUndefined)
    fail("{} '{}' has element type {}, which fluidedge does not support", is_input ? "input" : "output", v.name(),
         tt.elem_type());
  if (!tt.has_shape()) {
    if (is_input) fail("input '{}' has no shape; fluidedge needs the rank and sizes of inputs", v.name());
    return info;
  }
  for (int d = 0; d < tt.shape().dim_size(); ++d) {
    const auto& dim = tt.shape().dim(d);
    if (dim.has_dim_value()) {
      info.shape.push_back(dim.dim_value());
    } else if (d == 0) {
      info.shape.push_back(1);  // the batch: chosen per run
    } else if (is_input) {
      fail(
          "input '{}' has a symbolic size in dimension {} ('{}'); only the batch (dimension 0) "
          "may be symbolic",
          v.name(), d, dim.dim_param());
    } else {
      info.shape.push_back(-1);
    }
  }
  info.has_shape = is_input;
  return info;
}

void check_legacy_node(const Node& node, int64_t opset) {
  static const std::set<std::string> changed_at_7 = {"Add",     "Sub", "Mul", "Div", "BatchNormalization",
                                                     "Dropout", "Gemm"};
  if (opset < 7 && changed_at_7.count(node.op_type))
    fail(
        "{}: {} before opset 7 (this model declares opset {}) has legacy semantics fluidedge does not "
        "implement; re-export with opset 11 or later",
        node.describe(), node.op_type, opset);
}

// Rewrites ops whose signature changed between opset 11 and 17 to their opset-17 form.
void upgrade_node(Graph& graph, Node& node, int64_t opset) {
  auto attr_to_input = [&](const char* attr, size_t index) {
    if (!node.has_attr(attr)) return;
    auto v = node.attr_ints(attr);
    std::string name = graph.unique_name(node.name + "." + attr);
    graph.set_initializer(name, Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v));
    if (node.inputs.size() < index) node.inputs.resize(index);
    node.inputs.insert(node.inputs.begin() + static_cast<long>(index), name);
    node.attrs.erase(attr);
  };
  if (opset < 11) {
    if (node.op_type == "Clip" && (node.has_attr("min") || node.has_attr("max"))) {
      float lo = node.attr_float("min", -std::numeric_limits<float>::max());
      float hi = node.attr_float("max", std::numeric_limits<float>::max());
      for (auto [value, suffix] : {std::pair{lo, ".min"}, std::pair{hi, ".max"}}) {
        std::string name = graph.unique_name(node.name + suffix);
        graph.set_initializer(name, Tensor::scalar<float>(value));
        node.inputs.push_back(name);
      }
      node.attrs.erase("min");
      node.attrs.erase("max");
    }
    if (node.op_type == "Pad" && node.has_attr("pads")) {
      attr_to_input("pads", 1);
      std::string name = graph.unique_name(node.name + ".value");
      graph.set_initializer(name, Tensor::scalar<float>(node.attr_float("value", 0.f)));
      node.inputs.push_back(name);
      node.attrs.erase("value");
    }
    if (node.op_type == "BatchNormalization") node.attrs.erase("spatial");
    if (node.op_type == "Dropout") node.attrs.erase("ratio");
  }
  if (opset < 13) {
    if (node.op_type == "Split") attr_to_input("split", 1);
    if (node.op_type == "Squeeze" || node.op_type == "Unsqueeze") attr_to_input("axes", 1);
  }
  // A reduction's axes: an attribute until opset 18 (ReduceSum until 13), an input after.
  if (node.op_type == "ReduceMean" || node.op_type == "ReduceMax" || node.op_type == "ReduceSum" ||
      node.op_type == "ReduceL2")
    attr_to_input("axes", 1);
}

// Before opset 13, Softmax(axis) meant: flatten to 2-D at `axis`, softmax over the second
// dimension. Unless `axis` is the last dimension, express that with Flatten and Reshape.
void upgrade_legacy_softmax(Graph& graph, const std::set<std::string>& legacy) {
  std::vector<Node> out;
  bool changed = false;
  for (Node& node : graph.nodes) {
    if (!legacy.count(node.name)) {
      out.push_back(std::move(node));
      continue;
    }
    const Shape& shape = graph.value(node.input(0)).shape;
    int64_t rank = static_cast<int64_t>(shape.size());
    if (rank == 0)
      fail("{}: its input '{}' is a scalar; Softmax needs at least one dimension", node.describe(), node.input(0));
    int64_t axis = normalize_axis(node, node.attr_int("axis", 1), rank);
    if (axis == rank - 1) {
      node.attrs["axis"] = int64_t{-1};
      out.push_back(std::move(node));
      continue;
    }
    changed = true;
    std::string flat = graph.unique_name(node.name + ".flat");
    std::string soft = graph.unique_name(node.name + ".softmax");
    std::string target = graph.unique_name(node.name + ".shape");
    Shape restore = shape;
    restore[0] = 0;  // follow the batch
    graph.set_initializer(target, Tensor::from_vector<int64_t>({rank}, restore));
    graph.values[flat] = {};
    graph.values[soft] = {};
    Node f{node.name + ".flatten", "Flatten", "", {node.input(0)}, {flat}, {{"axis", axis}}};
    Node s{node.name, node.op_type, "", {flat}, {soft}, {{"axis", int64_t{-1}}}};
    Node r{node.name + ".reshape", "Reshape", "", {soft, target}, {node.outputs[0]}, {}};
    out.push_back(std::move(f));
    out.push_back(std::move(s));
    out.push_back(std::move(r));
  }
  graph.nodes = std::move(out);
  if (changed) infer_shapes(graph);
}

// Exporters bake the export-time batch size into Reshape targets (x.view(x.size(0), -1) folds
// to [1, -1]). Where a Reshape keeps the batch in dimension 0, write 0 ("copy") instead, so
// that the graph runs at any batch size.
void make_reshapes_batch_polymorphic(Graph& graph) {
  if (graph.inputs.empty()) return;
  int64_t batch = graph_batch(graph);
  for (Node& node : graph.nodes) {
    if (node.op_type != "Reshape") continue;
    const Tensor* target = graph.initializer(node.input(1));
    if (target == nullptr || graph.is_initializer(node.input(0))) continue;
    auto dims = target->to_int64();
    const Shape& in = graph.value(node.input(0)).shape;
    if (dims.empty() || in.empty() || dims[0] != batch || in[0] != batch) continue;
    if (node.attr_int("allowzero", 0) != 0) continue;
    dims[0] = 0;
    std::string name = graph.unique_name(node.input(1) + ".batch");
    graph.set_initializer(name, Tensor::from_vector<int64_t>({static_cast<int64_t>(dims.size())}, dims));
    node.inputs[1] = name;
  }
  graph.prune_unused();
}

// Builds the graph from `model`, releasing each initializer's bytes from it once converted, so
// that a model's weights are in memory about once while it loads.
Graph graph_from_model(onnx::ModelProto& model, const std::string& base_dir) {
  if (!model.has_graph() || model.ir_version() <= 0) fail("not an ONNX model (no graph or IR version in the file)");
  int64_t opset = -1;
  for (const auto& op : model.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") opset = op.version();
  if (opset < 0 && model.ir_version() >= 3) fail("the model declares no opset for the default ONNX domain");
  if (opset < kMinOpset || opset > kMaxOpset)
    fail(
        "opset {} is not supported; fluidedge reads opsets {} to {} (re-export with "
        "torch.onnx.export(..., opset_version=17))",
        opset, kMinOpset, kMaxOpset);

  const auto& gp = model.graph();
  Graph graph;
  graph.name = gp.name().empty() ? "graph" : gp.name();
  graph.opset = 17;

  for (auto& init : *model.mutable_graph()->mutable_initializer()) {
    if (init.name().empty()) fail("an initializer has no name");
    graph.set_initializer(init.name(), tensor_from_proto(init, base_dir));
    std::string().swap(*init.mutable_raw_data());  // frees it (clear() keeps the capacity)
  }
  for (const auto& in : gp.input()) {
    if (graph.is_initializer(in.name())) continue;  // IR < 4 lists initializers as inputs
    graph.inputs.push_back(in.name());
    graph.values[in.name()] = value_info_from_proto(in, true);
  }

  // Unsupported ops are reported before anything else, naming the node, op and opset.
  int index = 0;
  std::set<std::string> names;
  for (const auto& np : gp.node()) {
    std::string name = np.name().empty() ? fmt::format("{}_{}", np.op_type(), index) : np.name();
    ++index;
    bool default_domain = np.domain().empty() || np.domain() == "ai.onnx";
    const OpSchema* schema = find_op_schema(np.op_type());
    bool known = schema != nullptr && (default_domain ? schema->domain.empty() : schema->domain == np.domain());
    if (np.op_type() != "Constant" && !known)
      fail(
          "node '{}' uses operator '{}{}' (opset {}), which fluidedge does not support; "
          "supported operators: {}",
          name, default_domain ? "" : np.domain() + ".", np.op_type(), opset,
          fmt::format("{}", fmt::join(supported_ops(), ", ")));
  }

  index = 0;
  std::set<std::string> legacy_softmax;
  for (const auto& np : gp.node()) {
    Node node;
    node.name = np.name().empty() ? fmt::format("{}_{}", np.op_type(), index) : np.name();
    ++index;
    if (!names.insert(node.name).second) node.name = graph.unique_name(node.name + "_");
    node.op_type = np.op_type();
    if (np.domain() != "ai.onnx") node.domain = np.domain();
    node.inputs.assign(np.input().begin(), np.input().end());
    node.outputs.assign(np.output().begin(), np.output().end());
    for (const auto& a : np.attribute()) node.attrs[a.name()] = attribute_from_proto(a, node.name, base_dir);
    if (node.op_type == "Constant") {
      if (node.outputs.size() != 1) fail("{}: must have exactly one output", node.describe());
      graph.set_initializer(node.outputs[0], constant_value(node));
      continue;
    }
    check_legacy_node(node, opset);
    upgrade_node(graph, node, opset);
    if (node.op_type == "Softmax" && opset < 13) legacy_softmax.insert(node.name);
    for (const auto& out : node.outputs)
      if (!out.empty()) graph.values.try_emplace(out);
    graph.nodes.push_back(std::move(node));
  }
  for (const auto& out : gp.output()) graph.outputs.push_back(out.name());

  // Every value a node reads must come from somewhere; a missing initializer is the usual cause.
  std::set<std::string> defined(graph.inputs.begin(), graph.inputs.end());
  for (const auto& [name, t] : graph.initializers) defined.insert(name);
  for (const auto& n : graph.nodes) defined.insert(n.outputs.begin(), n.outputs.end());
  for (const auto& n : graph.nodes)
    for (const auto& in : n.inputs)
      if (!in.empty() && !defined.count(in))
        fail(
            "{} reads '{}', which is not a graph input, an initializer or the output of any "
            "node (missing initializer?)",
            n.describe(), in);
  for (const auto& out : graph.outputs)
    if (!defined.count(out)) fail("graph output '{}' is not produced by any node", out);

  graph.topological_sort();
  fold_constants(graph);
  upgrade_legacy_softmax(graph, legacy_softmax);
  make_reshapes_batch_polymorphic(graph);
  infer_shapes(graph);
  return graph;
}

onnx::ModelProto parse_model(std::string_view bytes, const std::string& label) {
  onnx::ModelProto model;
  if (bytes.empty()) fail("{}: empty file, expected an ONNX model", label);
  if (bytes.size() > static_cast<size_t>(INT32_MAX))
    fail("{}: {} bytes is over protobuf's 2 GiB limit; store the weights as external data", label, bytes.size());
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    fail("{}: not a valid ONNX model (the protobuf does not parse: truncated or not ONNX)", label);
  return model;
}

Graph build_graph(onnx::ModelProto& model, const std::string& label, const std::string& base_dir) {
  try {
    return graph_from_model(model, base_dir);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", label, e.what()));
  }
}

}  // namespace

Graph parse_onnx(std::string_view bytes, const std::string& label, const std::string& base_dir) {
  onnx::ModelProto model = parse_model(bytes, label);
  return build_graph(model, label, base_dir);
}

Graph load_onnx(const std::string& path) {
  onnx::ModelProto model = parse_model(read_file(path, "an ONNX model"), path);  // the file's bytes go here
  fs::path dir = fs::path(path).parent_path();
  return build_graph(model, path, dir.empty() ? "." : dir.string());
}

Tensor load_onnx_tensor(const std::string& path) {
  std::string bytes = read_file(path, "a serialized TensorProto");
  onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes)) fail("{}: not a valid ONNX TensorProto", path);
  try {
    fs::path dir = fs::path(path).parent_path();
    return tensor_from_proto(proto, dir.empty() ? "." : dir.string());
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", path, e.what()));
  }
}

}  // namespace fluidedge::graph
