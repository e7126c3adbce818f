#include "graph/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "graph/half.h"

namespace fluidedge::graph {

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n)) fail("shape {} has more elements than a tensor can hold", shape_str(shape));
  return n;
}

std::string shape_str(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ",")); }

namespace {

std::shared_ptr<std::byte[]> allocate(size_t nbytes) {
  size_t rounded = ((nbytes + 63) / 64) * 64;
  if (rounded == 0) rounded = 64;
  void* p = std::aligned_alloc(64, rounded);
  if (p == nullptr) fail("out of memory allocating a tensor of {} bytes", nbytes);
  std::memset(p, 0, rounded);
  return std::shared_ptr<std::byte[]>(static_cast<std::byte*>(p), [](std::byte* q) { std::free(q); });
}

template <typename F>
void visit_numeric(DType dtype, const void* p, int64_t n, F&& f) {
  switch (dtype) {
    case DType::kFloat32: {
      auto* v = static_cast<const float*>(p);
      for (int64_t i = 0; i < n; ++i) f(i, v[i]);
      break;
    }
    case DType::kFloat64: {
      auto* v = static_cast<const double*>(p);
      for (int64_t i = 0; i < n; ++i) f(i, v[i]);
      break;
    }
    case DType::kInt8: {
      auto* v = static_cast<const int8_t*>(p);
      for (int64_t i = 0; i < n; ++i) f(i, v[i]);
      break;
    }
    case DType::kUInt8: {
      auto* v = static_cast<const uint8_t*>(p);
      for (int64_t i = 0; i < n; ++i) f(i, v[i]);
      break;
    }
    case DType::kInt16: {
      auto* v = static_cast<const int16_t*>(p);
      for (int64_t i = 0; i < n; ++i) f(i, v[i]);
      break;
    }
    case DType::kInt32: {
      auto* v = static_cast<const int32_t*>(p);
      for (int64_t i = 0; i < n; ++i) f(i, v[i]);
      break;
    }
    case DType::kInt64: {
      auto* v = static_cast<const int64_t*>(p);
      for (int64_t i = 0; i < n; ++i) f(i, v[i]);
      break;
    }
    case DType::kBool: {
      auto* v = static_cast<const uint8_t*>(p);
      for (int64_t i = 0; i < n; ++i) f(i, v[i] != 0);
      break;
    }
    case DType::kFloat16: {
      auto* v = static_cast<const uint16_t*>(p);
      for (int64_t i = 0; i < n; ++i) f(i, half_to_float(v[i]));
      break;
    }
    default:
      fail("cannot convert a {} tensor", dtype_name(dtype));
  }
}

}  // namespace

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  for (int64_t d : shape_)
    if (d < 0) fail("tensor shape {} has a negative dimension", shape_str(shape_));
  if (shape_numel(shape_) > (int64_t{1} << 40) / static_cast<int64_t>(std::max<size_t>(1, dtype_size(dtype_))))
    fail("tensor shape {} of {} is over 1 TiB", shape_str(shape_), dtype_name(dtype_));
  data_ = allocate(nbytes());
}

void Tensor::check_type(DType want) const {
  if (want != dtype_) fail("tensor holds {} but was read as {}", dtype_name(dtype_), dtype_name(want));
}

std::vector<int64_t> Tensor::to_int64() const {
  std::vector<int64_t> out(static_cast<size_t>(numel()));
  visit_numeric(dtype_, raw(), numel(), [&](int64_t i, auto v) { out[i] = static_cast<int64_t>(v); });
  return out;
}

std::vector<float> Tensor::to_float() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  visit_numeric(dtype_, raw(), numel(), [&](int64_t i, auto v) { out[i] = static_cast<float>(v); });
  return out;
}

Tensor Tensor::clone() const {
  if (!defined()) return {};
  Tensor t(dtype_, shape_);
  std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

Tensor Tensor::rows(int64_t begin, int64_t count) const {
  if (rank() == 0 || begin < 0 || count < 0 || begin + count > dim(0))
    fail("rows [{}, {}) of a tensor of shape {}", begin, begin + count, shape_str(shape_));
  Shape shape = shape_;
  shape[0] = count;
  Tensor out(dtype_, shape);
  size_t row = dim(0) ? nbytes() / static_cast<size_t>(dim(0)) : 0;
  std::memcpy(out.raw(), static_cast<const std::byte*>(raw()) + row * begin, row * count);
  return out;
}

Tensor concat_rows(const std::vector<const Tensor*>& parts) {
  if (parts.empty()) fail("concat_rows of no tensors");
  Shape shape = parts[0]->shape();
  shape[0] = 0;
  for (const auto* p : parts) shape[0] += p->dim(0);
  Tensor out(parts[0]->dtype(), shape);
  auto* dst = static_cast<std::byte*>(out.raw());
  for (const auto* p : parts) {
    std::memcpy(dst, p->raw(), p->nbytes());
    dst += p->nbytes();
  }
  return out;
}

Tensor Tensor::reshaped(Shape shape) const {
  if (shape_numel(shape) != numel())
    fail("cannot reshape a tensor of shape {} to {}", shape_str(shape_), shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::cast(DType dtype) const {
  if (dtype == dtype_) return clone();
  Tensor out(dtype, shape_);
  void* dst = out.raw();
  visit_numeric(dtype_, raw(), numel(), [&](int64_t i, auto v) {
    switch (dtype) {
      case DType::kFloat32:
        static_cast<float*>(dst)[i] = static_cast<float>(v);
        break;
      case DType::kFloat64:
        static_cast<double*>(dst)[i] = static_cast<double>(v);
        break;
      case DType::kInt8:
        static_cast<int8_t*>(dst)[i] = static_cast<int8_t>(v);
        break;
      case DType::kUInt8:
        static_cast<uint8_t*>(dst)[i] = static_cast<uint8_t>(v);
        break;
      case DType::kInt16:
        static_cast<int16_t*>(dst)[i] = static_cast<int16_t>(v);
        break;
      case DType::kInt32:
        static_cast<int32_t*>(dst)[i] = static_cast<int32_t>(v);
        break;
      case DType::kInt64:
        static_cast<int64_t*>(dst)[i] = static_cast<int64_t>(v);
        break;
      case DType::kBool:
        static_cast<uint8_t*>(dst)[i] = v != 0 ? 1 : 0;
        break;
      case DType::kFloat16:
        static_cast<uint16_t*>(dst)[i] = float_to_half(static_cast<float>(v));
        break;
      default:
        fail("cannot cast to {}", dtype_name(dtype));
    }
  });
  return out;
}

bool Tensor::equals(const Tensor& other) const {
  return dtype_ == other.dtype_ && shape_ == other.shape_ && std::memcmp(raw(), other.raw(), nbytes()) == 0;
}

}  // namespace fluidedge::graph
