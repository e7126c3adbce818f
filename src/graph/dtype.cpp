#include "graph/dtype.h"

#include <onnx/onnx_pb.h>

namespace fluidedge::graph {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return 4;
    case DType::kFloat16:
      return 2;
    case DType::kFloat64:
      return 8;
    case DType::kInt8:
      return 1;
    case DType::kUInt8:
      return 1;
    case DType::kInt16:
      return 2;
    case DType::kInt32:
      return 4;
    case DType::kInt64:
      return 8;
    case DType::kBool:
      return 1;
    case DType::kUndefined:
      return 0;
  }
  return 0;
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return "float32";
    case DType::kFloat16:
      return "float16";
    case DType::kFloat64:
      return "float64";
    case DType::kInt8:
      return "int8";
    case DType::kUInt8:
      return "uint8";
    case DType::kInt16:
      return "int16";
    case DType::kInt32:
      return "int32";
    case DType::kInt64:
      return "int64";
    case DType::kBool:
      return "bool";
    case DType::kUndefined:
      return "undefined";
  }
  return "undefined";
}

DType dtype_from_name(std::string_view name) {
  for (DType d : {DType::kFloat32, DType::kFloat16, DType::kFloat64, DType::kInt8, DType::kUInt8, DType::kInt16,
                  DType::kInt32, DType::kInt64, DType::kBool}) {
    if (dtype_name(d) == name) return d;
  }
  return DType::kUndefined;
}

bool dtype_is_float(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kFloat16 || dtype == DType::kFloat64;
}

int dtype_to_onnx(DType dtype) {
  using P = onnx::TensorProto;
  switch (dtype) {
    case DType::kFloat32:
      return P::FLOAT;
    case DType::kFloat16:
      return P::FLOAT16;
    case DType::kFloat64:
      return P::DOUBLE;
    case DType::kInt8:
      return P::INT8;
    case DType::kUInt8:
      return P::UINT8;
    case DType::kInt16:
      return P::INT16;
    case DType::kInt32:
      return P::INT32;
    case DType::kInt64:
      return P::INT64;
    case DType::kBool:
      return P::BOOL;
    case DType::kUndefined:
      return P::UNDEFINED;
  }
  return P::UNDEFINED;
}

DType dtype_from_onnx(int onnx_type) {
  using P = onnx::TensorProto;
  switch (onnx_type) {
    case P::FLOAT:
      return DType::kFloat32;
    case P::FLOAT16:
      return DType::kFloat16;
    case P::DOUBLE:
      return DType::kFloat64;
    case P::INT8:
      return DType::kInt8;
    case P::UINT8:
      return DType::kUInt8;
    case P::INT16:
      return DType::kInt16;
    case P::INT32:
      return DType::kInt32;
    case P::INT64:
      return DType::kInt64;
    case P::BOOL:
      return DType::kBool;
    default:
      return DType::kUndefined;
  }
}

}  // namespace fluidedge::graph
