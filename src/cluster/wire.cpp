#include "cluster/wire.h"

#include <cstring>
#include <limits>

#include "common/error.h"

namespace fluidedge::cluster {

void to_wire(const std::string& name, const graph::Tensor& tensor, wire::TensorData* out) {
  out->set_name(name);
  out->set_dtype(std::string(graph::dtype_name(tensor.dtype())));
  out->clear_dims();
  for (int64_t d : tensor.shape()) out->add_dims(d);
  out->set_data(tensor.raw(), tensor.nbytes());
}

graph::Tensor from_wire(const wire::TensorData& data) {
  const std::string& name = data.name();
  graph::DType dtype = graph::dtype_from_name(data.dtype());
  if (dtype == graph::DType::kUndefined) fail("tensor '{}': unknown dtype '{}'", name, data.dtype());
  graph::Shape shape(data.dims().begin(), data.dims().end());
  if (shape.size() > 8) fail("tensor '{}': rank {} is more than 8", name, shape.size());
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0) fail("tensor '{}': negative dimension in {}", name, graph::shape_str(shape));
    if (d != 0 && numel > std::numeric_limits<int32_t>::max() / d)
      fail("tensor '{}': shape {} is too large", name, graph::shape_str(shape));
    numel *= d;
  }
  size_t want = static_cast<size_t>(numel) * graph::dtype_size(dtype);
  if (data.data().size() != want)
    fail("tensor '{}': {} {} needs {} bytes, the message has {}", name, data.dtype(), graph::shape_str(shape), want,
         data.data().size());
  graph::Tensor tensor(dtype, shape);
  if (want) std::memcpy(tensor.raw(), data.data().data(), want);
  return tensor;
}

runtime::TensorMap from_wire(const google::protobuf::RepeatedPtrField<wire::TensorData>& tensors) {
  runtime::TensorMap map;
  for (const auto& t : tensors) {
    if (!map.emplace(t.name(), from_wire(t)).second) fail("tensor '{}' appears twice in one message", t.name());
  }
  return map;
}

void to_wire(const runtime::TensorMap& tensors, google::protobuf::RepeatedPtrField<wire::TensorData>* out) {
  out->Clear();
  for (const auto& [name, tensor] : tensors) to_wire(name, tensor, out->Add());
}

}  // namespace fluidedge::cluster
