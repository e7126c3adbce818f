// A dense, contiguous, row-major tensor: initializers, constants, and the inputs and outputs
// every backend exchanges. The buffer is 64-byte aligned and shared between copies (copy the
// handle, not the data); use clone() for a deep copy.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"
#include "graph/dtype.h"

namespace fluidedge::graph {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[1,3,224,224]"

class Tensor {
 public:
  Tensor() = default;
  // Zero-filled tensor of the given type and shape.
  Tensor(DType dtype, Shape shape);

  template <typename T>
  static Tensor from_vector(Shape shape, const std::vector<T>& values) {
    Tensor t(dtype_of<T>(), std::move(shape));
    if (static_cast<int64_t>(values.size()) != t.numel())
      fail("tensor of shape {} needs {} values, got {}", shape_str(t.shape()), t.numel(), values.size());
    std::copy(values.begin(), values.end(), t.data<T>());
    return t;
  }
  template <typename T>
  static Tensor scalar(T value) {
    return from_vector<T>({}, {value});
  }

  bool defined() const { return dtype_ != DType::kUndefined; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_.at(static_cast<size_t>(i)); }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }

  void* raw() { return data_.get(); }
  const void* raw() const { return data_.get(); }

  template <typename T>
  T* data() {
    check_type(dtype_of<T>());
    return reinterpret_cast<T*>(data_.get());
  }
  template <typename T>
  const T* data() const {
    check_type(dtype_of<T>());
    return reinterpret_cast<const T*>(data_.get());
  }
  template <typename T>
  std::span<const T> values() const {
    return {data<T>(), static_cast<size_t>(numel())};
  }

  // Integer contents (int32/int64/uint8/int8/bool) as int64; float contents are truncated.
  std::vector<int64_t> to_int64() const;
  // Contents converted to float (any numeric dtype).
  std::vector<float> to_float() const;

  Tensor clone() const;
  // Same data, new shape of equal element count.
  Tensor reshaped(Shape shape) const;
  // A copy of rows [begin, begin + count) along dimension 0 (the batch).
  Tensor rows(int64_t begin, int64_t count) const;
  // Converts the contents to another dtype (numeric conversion).
  Tensor cast(DType dtype) const;
  // True if dtype, shape and every byte are equal.
  bool equals(const Tensor& other) const;

 private:
  void check_type(DType want) const;

  DType dtype_ = DType::kUndefined;
  Shape shape_;
  std::shared_ptr<std::byte[]> data_;
};

// The tensors stacked along dimension 0 (all of one dtype, equal in every other dimension).
Tensor concat_rows(const std::vector<const Tensor*>& parts);

}  // namespace fluidedge::graph
