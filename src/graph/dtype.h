// Element types of tensors and values, with their ONNX codes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fluidedge::graph {

enum class DType : uint8_t {
  kUndefined,
  kFloat32,
  kFloat16,
  kFloat64,
  kInt8,
  kUInt8,
  kInt16,
  kInt32,
  kInt64,
  kBool,
};

size_t dtype_size(DType dtype);
std::string_view dtype_name(DType dtype);      // "float32", "int64", ...
int dtype_to_onnx(DType dtype);                // onnx::TensorProto_DataType value
DType dtype_from_onnx(int onnx_type);          // kUndefined for types fluidedge does not handle
DType dtype_from_name(std::string_view name);  // kUndefined if unknown
bool dtype_is_float(DType dtype);

template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::kFloat32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::kFloat64;
}
template <>
constexpr DType dtype_of<int8_t>() {
  return DType::kInt8;
}
template <>
constexpr DType dtype_of<uint8_t>() {
  return DType::kUInt8;
}
template <>
constexpr DType dtype_of<int16_t>() {
  return DType::kInt16;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::kInt32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::kInt64;
}
template <>
constexpr DType dtype_of<bool>() {
  return DType::kBool;
}

}  // namespace fluidedge::graph
