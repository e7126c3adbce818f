#include "runtime/quantized_loops.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <string_view>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "common/error.h"
#include "graph/op_schema.h"
#include "graph/quantization.h"

namespace fluidedge::runtime {

namespace {

constexpr std::ptrdiff_t kParallelFrom = 65536;  // elements; below, one thread is faster

// Element i of an integer buffer of `dtype` (uint8, int8 or int32).
inline int32_t load(const void* p, graph::DType dtype, int64_t i) {
  switch (dtype) {
    case graph::DType::kUInt8:
      return static_cast<const uint8_t*>(p)[i];
    case graph::DType::kInt8:
      return static_cast<const int8_t*>(p)[i];
    default:
      return static_cast<const int32_t*>(p)[i];
  }
}

inline void store(void* p, graph::DType dtype, int64_t i, int32_t v) {
  switch (dtype) {
    case graph::DType::kUInt8:
      static_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(v);
      break;
    case graph::DType::kInt8:
      static_cast<int8_t*>(p)[i] = static_cast<int8_t>(v);
      break;
    default:
      static_cast<int32_t*>(p)[i] = v;
  }
}

// The element count of dims after `axis` (the stride of the axis), and the axis's size.
std::pair<int64_t, int64_t> axis_extent(const graph::Shape& shape, int64_t axis) {
  if (axis < 0) return {1, 1};
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  return {inner, shape[static_cast<size_t>(axis)]};
}

// ---- Elementwise kernels over one contiguous range, exact as the per-element definitions and
// vectorisable: rounding half to even by adding and subtracting 1.5 * 2^23 (exact for |v| <
// 2^22, where values are clamped first), multiply-adds fused (std::fma, exact on every CPU). On
// x86-64 each is compiled for AVX-512, AVX2 + FMA and the baseline, chosen at load time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FLUIDEDGE_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FLUIDEDGE_VECTOR_CLONES
#endif

constexpr float kRoundMagic = 12582912.f;  // 1.5 * 2^23

template <typename T>
[[gnu::always_inline]] inline void quantize_range(const float* x, T* y, std::ptrdiff_t n, float scale, float zp) {
  const float lo = static_cast<float>(std::numeric_limits<T>::min()) - zp;
  const float hi = static_cast<float>(std::numeric_limits<T>::max()) - zp;
  const float m = kRoundMagic;
#pragma omp simd
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    float v = x[i] / scale;
    v = v == v ? v : 0.f;  // NaN: to the zero point
    v = std::min(std::max(v, lo), hi);
    y[i] = static_cast<T>(static_cast<int32_t>(((v + m) - m) + zp));
  }
}

template <typename T>
[[gnu::always_inline]] inline void dequantize_range(const T* q, float* y, std::ptrdiff_t n, float scale, float zp) {
  // float(q - zp) * scale rounds once, as the exact product does: |q - zp| < 2^10.
#pragma omp simd
  for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = (static_cast<float>(q[i]) - zp) * scale;
}

template <typename T>
[[gnu::always_inline]] inline void qlinear_add_range(const T* a, const T* b, T* y, std::ptrdiff_t n, float ra, float rb,
                                                     float fixed) {
  const float lo = static_cast<float>(std::numeric_limits<T>::min());
  const float hi = static_cast<float>(std::numeric_limits<T>::max());
  const float m = kRoundMagic;
#pragma omp simd
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    float v = std::fma(static_cast<float>(a[i]), ra, std::fma(static_cast<float>(b[i]), rb, fixed));
    v = std::min(std::max(v, lo), hi);
    y[i] = static_cast<T>(static_cast<int32_t>((v + m) - m));
  }
}

FLUIDEDGE_VECTOR_CLONES void quantize_u8(const float* x, uint8_t* y, std::ptrdiff_t n, float scale, float zp) {
  quantize_range(x, y, n, scale, zp);
}
FLUIDEDGE_VECTOR_CLONES void quantize_s8(const float* x, int8_t* y, std::ptrdiff_t n, float scale, float zp) {
  quantize_range(x, y, n, scale, zp);
}
FLUIDEDGE_VECTOR_CLONES void dequantize_u8(const uint8_t* q, float* y, std::ptrdiff_t n, float scale, float zp) {
  dequantize_range(q, y, n, scale, zp);
}
FLUIDEDGE_VECTOR_CLONES void dequantize_s8(const int8_t* q, float* y, std::ptrdiff_t n, float scale, float zp) {
  dequantize_range(q, y, n, scale, zp);
}
FLUIDEDGE_VECTOR_CLONES void qlinear_add_u8_any(const uint8_t* a, const uint8_t* b, uint8_t* y, std::ptrdiff_t n,
                                                float ra, float rb, float fixed) {
  qlinear_add_range(a, b, y, n, ra, rb, fixed);
}

#if defined(__x86_64__) && defined(__GNUC__)
// GCC 12's AVX-512 headers build unmasked conversions on _mm512_undefined_*(), which its own
// -Wmaybe-uninitialized then flags (a known false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// AVX-512, 16 at a time: the same fused multiply-adds, clamp and round-half-even conversion.
__attribute__((target("avx512f,avx512bw"))) void qlinear_add_u8_avx512(const uint8_t* a, const uint8_t* b, uint8_t* y,
                                                                       std::ptrdiff_t n, float ra, float rb,
                                                                       float fixed) {
  const __m512 va = _mm512_set1_ps(ra), vb = _mm512_set1_ps(rb), vf = _mm512_set1_ps(fixed);
  const __m512 lo = _mm512_setzero_ps(), hi = _mm512_set1_ps(255.f);
  std::ptrdiff_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 fa = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i))));
    __m512 fb = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i))));
    __m512 v = _mm512_fmadd_ps(fa, va, _mm512_fmadd_ps(fb, vb, vf));
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    __m512i q = _mm512_cvtps_epi32(v);  // the default rounding: to nearest, ties to even
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm512_cvtepi32_epi8(q));
  }
  qlinear_add_u8_any(a + i, b + i, y + i, n - i, ra, rb, fixed);
}
#pragma GCC diagnostic pop
#endif

void qlinear_add_u8(const uint8_t* a, const uint8_t* b, uint8_t* y, std::ptrdiff_t n, float ra, float rb, float fixed) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  if (avx512) return qlinear_add_u8_avx512(a, b, y, n, ra, rb, fixed);
#endif
  qlinear_add_u8_any(a, b, y, n, ra, rb, fixed);
}
FLUIDEDGE_VECTOR_CLONES void qlinear_add_s8(const int8_t* a, const int8_t* b, int8_t* y, std::ptrdiff_t n, float ra,
                                            float rb, float fixed) {
  qlinear_add_range(a, b, y, n, ra, rb, fixed);
}

// Runs body(begin, count) over [0, n) in chunks, on `threads` threads when it is worth it.
template <typename Body>
void in_chunks(std::ptrdiff_t n, int threads, Body body) {
  constexpr std::ptrdiff_t kChunk = 16384;
  const std::ptrdiff_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for num_threads(threads) if (threads > 1 && n > kParallelFrom)
  for (std::ptrdiff_t c = 0; c < chunks; ++c) body(c * kChunk, std::min(kChunk, n - c * kChunk));
}

int64_t quant_axis(const graph::Graph& g, const graph::Node& n) {
  int64_t rank = static_cast<int64_t>(g.value(n.inputs[0]).shape.size());
  return rank == 0 ? 0 : n.attr_int("axis", 1);
}

class QuantizeOp : public LoopOp {
 public:
  QuantizeOp(const graph::Graph& g, const graph::Node& n) {
    const graph::Shape& shape = g.value(n.inputs[0]).shape;
    p_ = graph::quant_params(g, n, 1, 2, graph::DType::kUInt8, quant_axis(g, n), static_cast<int64_t>(shape.size()));
    std::tie(inner_, channels_) = axis_extent(shape, p_.axis);
    output_count_ = static_cast<size_t>(graph::shape_numel(shape));
  }
  void run(const std::vector<const void*>& in, const std::vector<void*>& out, int threads) const override {
    const auto* x = static_cast<const float*>(in[0]);
    const auto n = static_cast<std::ptrdiff_t>(output_count_);
    if (p_.per_tensor()) {
      const float scale = p_.scale[0], zp = static_cast<float>(p_.zero_point[0]);
      in_chunks(n, threads, [&](std::ptrdiff_t b, std::ptrdiff_t k) {
        if (p_.dtype == graph::DType::kUInt8)
          quantize_u8(x + b, static_cast<uint8_t*>(out[0]) + b, k, scale, zp);
        else
          quantize_s8(x + b, static_cast<int8_t*>(out[0]) + b, k, scale, zp);
      });
      return;
    }
    const int64_t lo = graph::dtype_min(p_.dtype), hi = graph::dtype_max(p_.dtype);
#pragma omp parallel for num_threads(threads) if (threads > 1 && n > kParallelFrom)
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      int64_t c = (i / inner_) % channels_;
      store(out[0], p_.dtype, i, graph::quantize_scaled(x[i] / p_.scale_at(c), p_.zero_point_at(c), lo, hi));
    }
  }
  bool elementwise() const override { return p_.per_tensor(); }

 private:
  graph::QuantParams p_;
  int64_t inner_ = 1, channels_ = 1;
};

class DequantizeOp : public LoopOp {
 public:
  DequantizeOp(const graph::Graph& g, const graph::Node& n) {
    const graph::ValueInfo& x = g.value(n.inputs[0]);
    p_ = graph::quant_params(g, n, 1, 2, x.dtype, quant_axis(g, n), static_cast<int64_t>(x.shape.size()));
    in_type_ = x.dtype;
    std::tie(inner_, channels_) = axis_extent(x.shape, p_.axis);
    output_count_ = static_cast<size_t>(graph::shape_numel(x.shape));
  }
  void run(const std::vector<const void*>& in, const std::vector<void*>& out, int threads) const override {
    auto* y = static_cast<float*>(out[0]);
    const auto n = static_cast<std::ptrdiff_t>(output_count_);
    if (p_.per_tensor() && in_type_ != graph::DType::kInt32) {
      const float scale = p_.scale[0], zp = static_cast<float>(p_.zero_point[0]);
      in_chunks(n, threads, [&](std::ptrdiff_t b, std::ptrdiff_t k) {
        if (in_type_ == graph::DType::kUInt8)
          dequantize_u8(static_cast<const uint8_t*>(in[0]) + b, y + b, k, scale, zp);
        else
          dequantize_s8(static_cast<const int8_t*>(in[0]) + b, y + b, k, scale, zp);
      });
      return;
    }
#pragma omp parallel for num_threads(threads) if (threads > 1 && n > kParallelFrom)
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      int64_t c = (i / inner_) % channels_;
      // In double: exact for every int32 (the product then rounds once to float32, as ONNX's).
      double centred = static_cast<double>(load(in[0], in_type_, i)) - p_.zero_point_at(c);
      y[i] = static_cast<float>(centred * static_cast<double>(p_.scale_at(c)));
    }
  }
  bool elementwise() const override { return p_.per_tensor(); }

 private:
  graph::QuantParams p_;
  graph::DType in_type_;
  int64_t inner_ = 1, channels_ = 1;
};

// Where an integer product's output goes: requantized to 8 bits (QLinear*), or as int32 (*Integer).
struct Requantize {
  bool enabled = false;
  std::vector<float> multiplier;  // per output channel (or one): x_scale * w_scale / y_scale, in float32
  int32_t zero_point = 0;
  graph::DType dtype = graph::DType::kInt32;

  void write(void* out, int64_t i, int64_t channel, int32_t acc) const {
    if (!enabled) {
      store(out, graph::DType::kInt32, i, acc);
      return;
    }
    float m = multiplier.size() == 1 ? multiplier[0] : multiplier[static_cast<size_t>(channel)];
    store(out, dtype, i,
          graph::quantize_scaled(static_cast<float>(acc) * m, zero_point, graph::dtype_min(dtype),
                                 graph::dtype_max(dtype)));
  }
};

// A constant integer tensor's values, or a zero point's (one value or one per channel).
std::vector<int32_t> int_values(const graph::Graph& g, const graph::Node& n, size_t i) {
  if (!n.has_input(i)) return {0};
  const graph::Tensor* t = g.initializer(n.input(i));
  if (t == nullptr) fail("{}: input {} must be a constant", n.describe(), i);
  auto v = t->to_int64();
  return std::vector<int32_t>(v.begin(), v.end());
}

Requantize requantize_of(const graph::Graph& g, const graph::Node& n, size_t x_scale, size_t w_scale, size_t y_scale,
                         size_t y_zp) {
  Requantize r;
  r.enabled = true;
  float xs = g.initializer(n.input(x_scale))->to_float().at(0);
  float ys = g.initializer(n.input(y_scale))->to_float().at(0);
  for (float ws : g.initializer(n.input(w_scale))->to_float()) r.multiplier.push_back(xs * ws / ys);
  r.dtype = n.has_input(y_zp) ? g.initializer(n.input(y_zp))->dtype() : graph::DType::kUInt8;
  r.zero_point = int_values(g, n, y_zp).at(0);
  return r;
}

// QLinearConv and ConvInteger as direct loops over 2-D images: the weights (constant) are
// centred once, the accumulator is int32 as in ONNX Runtime.
class IntegerConvOp : public LoopOp {
 public:
  IntegerConvOp(const graph::Graph& g, const graph::Node& n, bool qlinear) {
    size_t wi = qlinear ? 3 : 1, x_zp = qlinear ? 2 : 2, w_zp = qlinear ? 5 : 3;
    x_ = g.value(n.inputs[0]).shape;
    x_type_ = g.value(n.inputs[0]).dtype;
    const graph::Tensor* w = g.initializer(n.input(wi));
    w_shape_ = w->shape();
    y_ = g.value(n.outputs[0]).shape;
    geo_ = graph::window_geometry(n, x_, {w_shape_[2], w_shape_[3]}, false);
    group_ = n.attr_int("group", 1);
    x_zp_ = int_values(g, n, x_zp).at(0);
    std::vector<int32_t> wz = int_values(g, n, w_zp);
    auto wv = w->to_int64();
    int64_t per_oc = static_cast<int64_t>(wv.size()) / w_shape_[0];
    for (size_t i = 0; i < wv.size(); ++i) {
      int64_t oc = static_cast<int64_t>(i) / per_oc;
      w_.push_back(static_cast<int32_t>(wv[i]) - (wz.size() == 1 ? wz[0] : wz[static_cast<size_t>(oc)]));
    }
    size_t bias = qlinear ? 8 : 99;
    bias_ = n.has_input(bias) ? int_values(g, n, bias) : std::vector<int32_t>(w_shape_[0], 0);
    if (qlinear) requantize_ = requantize_of(g, n, 1, 4, 6, 7);
    output_count_ = static_cast<size_t>(graph::shape_numel(y_));
  }

  void run(const std::vector<const void*>& in, const std::vector<void*>& out, int threads) const override {
    const int64_t N = x_[0], C = x_[1], H = x_[2], W = x_[3];
    const int64_t M = y_[1], OH = y_[2], OW = y_[3], KH = w_shape_[2], KW = w_shape_[3];
    const int64_t cpg = C / group_, mpg = M / group_;
    const std::ptrdiff_t planes = static_cast<std::ptrdiff_t>(N * M);
#pragma omp parallel for num_threads(threads) if (threads > 1 && planes * OH * OW > kParallelFrom / 16)
    for (std::ptrdiff_t plane = 0; plane < planes; ++plane) {
      const int64_t n = plane / M, m = plane % M, g = m / mpg;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          int32_t acc = bias_[static_cast<size_t>(m)];
          for (int64_t c = 0; c < cpg; ++c)
            for (int64_t kh = 0; kh < KH; ++kh) {
              int64_t ih = oh * geo_.strides[0] - geo_.pads_begin[0] + kh * geo_.dilations[0];
              if (ih < 0 || ih >= H) continue;
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t iw = ow * geo_.strides[1] - geo_.pads_begin[1] + kw * geo_.dilations[1];
                if (iw < 0 || iw >= W) continue;
                int32_t xv = load(in[0], x_type_, ((n * C + g * cpg + c) * H + ih) * W + iw) - x_zp_;
                acc += xv * w_[static_cast<size_t>(((m * cpg + c) * KH + kh) * KW + kw)];
              }
            }
          requantize_.write(out[0], (plane * OH + oh) * OW + ow, m, acc);
        }
    }
  }

 private:
  graph::Shape x_, y_, w_shape_;
  graph::DType x_type_;
  graph::WindowGeometry geo_;
  int64_t group_ = 1;
  int32_t x_zp_ = 0;
  std::vector<int32_t> w_, bias_;
  Requantize requantize_;
};

// QLinearMatMul and MatMulInteger: (..., M, K) x (..., K, N) with numpy broadcasting of the
// leading dims; a's zero point per tensor or per row, b's per tensor or per column.
class IntegerMatMulOp : public LoopOp {
 public:
  IntegerMatMulOp(const graph::Graph& g, const graph::Node& n, bool qlinear) {
    size_t bi = qlinear ? 3 : 1;
    a_ = g.value(n.inputs[0]).shape;
    b_ = g.value(n.input(bi)).shape;
    y_ = g.value(n.outputs[0]).shape;
    a_type_ = g.value(n.inputs[0]).dtype;
    b_type_ = g.value(n.input(bi)).dtype;
    a_zp_ = int_values(g, n, 2);
    b_zp_ = int_values(g, n, qlinear ? 5 : 3);
    // Either operand may be constant (a weight) or computed; the computed ones come in order.
    int next = 0;
    for (auto [i, operand] : {std::pair<size_t, Operand*>{0, &a_in_}, {bi, &b_in_}}) {
      if (const graph::Tensor* t = g.initializer(n.input(i)))
        operand->constant = *t;
      else
        operand->runtime = next++;
    }
    if (qlinear) requantize_ = requantize_of(g, n, 1, 4, 6, 7);
    output_count_ = static_cast<size_t>(graph::shape_numel(y_));
  }

  void run(const std::vector<const void*>& in, const std::vector<void*>& out, int threads) const override {
    const void* a = a_in_.data(in);
    const void* b = b_in_.data(in);
    const size_t rank = y_.size();
    const int64_t M = y_[rank - 2], N = y_[rank - 1], K = a_.back();
    const int64_t batches = static_cast<int64_t>(output_count_) / std::max<int64_t>(M * N, 1);
    graph::Shape batch_shape(y_.begin(), y_.end() - 2);
#pragma omp parallel for num_threads(threads) if (threads > 1 && \
                                                  static_cast <std::ptrdiff_t>(output_count_) * K > kParallelFrom)
    for (int64_t bt = 0; bt < batches; ++bt) {
      int64_t a_off = broadcast_offset(bt, batch_shape, a_) * M * K;
      int64_t b_off = broadcast_offset(bt, batch_shape, b_) * K * N;
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          int32_t az = a_zp_.size() == 1 ? a_zp_[0] : a_zp_[static_cast<size_t>(i)];
          int32_t bz = b_zp_.size() == 1 ? b_zp_[0] : b_zp_[static_cast<size_t>(j)];
          int32_t acc = 0;
          for (int64_t k = 0; k < K; ++k)
            acc += (load(a, a_type_, a_off + i * K + k) - az) * (load(b, b_type_, b_off + k * N + j) - bz);
          requantize_.write(out[0], (bt * M + i) * N + j, j, acc);
        }
    }
  }

 private:
  // The matrix index in `operand` (leading dims before its last two) that batch `index` of the
  // broadcast leading dims `batch` reads.
  static int64_t broadcast_offset(int64_t index, const graph::Shape& batch, const graph::Shape& operand) {
    graph::Shape lead(operand.begin(), operand.end() - 2);
    int64_t offset = 0, stride = 1;
    for (size_t k = 0; k < lead.size(); ++k) {
      size_t d = lead.size() - 1 - k, bd = batch.size() - 1 - k;
      int64_t bstride = 1;
      for (size_t e = bd + 1; e < batch.size(); ++e) bstride *= batch[e];
      int64_t coord = (index / bstride) % batch[bd];
      if (lead[d] != 1) offset += coord * stride;
      stride *= lead[d];
    }
    return offset;
  }

  struct Operand {
    int runtime = -1;  // index among the runtime inputs, or -1: `constant`
    graph::Tensor constant;
    const void* data(const std::vector<const void*>& in) const {
      return runtime >= 0 ? in[static_cast<size_t>(runtime)] : constant.raw();
    }
  };

  graph::Shape a_, b_, y_;
  graph::DType a_type_, b_type_;
  std::vector<int32_t> a_zp_, b_zp_;
  Operand a_in_, b_in_;
  Requantize requantize_;
};

// com.microsoft QLinearAdd of two tensors of one shape, as ONNX Runtime computes it (MLAS's
// AVX2 kernel): v = a * (a_scale / c_scale) + (b * (b_scale / c_scale) + fixed), both products
// fused multiply-adds in float32, fixed = c_zp - fma(a_zp, ratio_a, b_zp * ratio_b); then rounded
// half to even and saturated. It differs from the definition (the reference) by a float rounding
// at most: a value on a rounding boundary may land one step apart.
class QLinearAddOp : public LoopOp {
 public:
  QLinearAddOp(const graph::Graph& g, const graph::Node& n) {
    dtype_ = g.value(n.inputs[0]).dtype;
    float as = g.initializer(n.input(1))->to_float().at(0), bs = g.initializer(n.input(4))->to_float().at(0);
    float cs = g.initializer(n.input(6))->to_float().at(0);
    auto zp = [&](size_t i) { return static_cast<float>(int_values(g, n, i).at(0)); };
    ratio_a_ = as / cs;
    ratio_b_ = bs / cs;
    // As ONNX Runtime's build computes it (its compiler contracts the sum into a fused multiply-add).
    float b_term = ratio_b_ * zp(5);
    fixed_ = zp(7) - std::fma(ratio_a_, zp(2), b_term);
    output_count_ = static_cast<size_t>(graph::shape_numel(g.value(n.outputs[0]).shape));
  }

  void run(const std::vector<const void*>& in, const std::vector<void*>& out, int threads) const override {
    in_chunks(static_cast<std::ptrdiff_t>(output_count_), threads, [&](std::ptrdiff_t b, std::ptrdiff_t k) {
      if (dtype_ == graph::DType::kUInt8)
        qlinear_add_u8(static_cast<const uint8_t*>(in[0]) + b, static_cast<const uint8_t*>(in[1]) + b,
                       static_cast<uint8_t*>(out[0]) + b, k, ratio_a_, ratio_b_, fixed_);
      else
        qlinear_add_s8(static_cast<const int8_t*>(in[0]) + b, static_cast<const int8_t*>(in[1]) + b,
                       static_cast<int8_t*>(out[0]) + b, k, ratio_a_, ratio_b_, fixed_);
    });
  }
  bool elementwise() const override { return true; }

 private:
  graph::DType dtype_;
  float ratio_a_ = 1, ratio_b_ = 1, fixed_ = 0;
};

// com.microsoft QLinearGlobalAveragePool (channels first), as ONNX Runtime computes it: the
// int32 sum of each plane less zero_point * size, times x_scale / (y_scale * size) in float32,
// rounded half to even, plus the output zero point.
class QLinearGlobalAveragePoolOp : public LoopOp {
 public:
  QLinearGlobalAveragePoolOp(const graph::Graph& g, const graph::Node& n) {
    const graph::Shape& x = g.value(n.inputs[0]).shape;
    dtype_ = g.value(n.inputs[0]).dtype;
    planes_ = x[0] * x[1];
    channels_ = x[1];
    size_ = graph::shape_numel(x) / std::max<int64_t>(planes_, 1);
    x_zp_ = int_values(g, n, 2).at(0);
    y_zp_ = int_values(g, n, 4).at(0);
    float xs = g.initializer(n.input(1))->to_float().at(0), ys = g.initializer(n.input(3))->to_float().at(0);
    scale_ = xs / (ys * static_cast<float>(size_));
    output_count_ = static_cast<size_t>(planes_);
  }

  void run(const std::vector<const void*>& in, const std::vector<void*>& out, int threads) const override {
    std::vector<int32_t> sums(static_cast<size_t>(planes_));
#pragma omp parallel for num_threads(threads) if (threads > 1 && planes_ * size_ > kParallelFrom)
    for (std::ptrdiff_t p = 0; p < static_cast<std::ptrdiff_t>(planes_); ++p) {
      int32_t acc = 0;
      if (dtype_ == graph::DType::kUInt8) {
        const auto* x = static_cast<const uint8_t*>(in[0]) + p * size_;
        for (int64_t i = 0; i < size_; ++i) acc += x[i];
      } else {
        const auto* x = static_cast<const int8_t*>(in[0]) + p * size_;
        for (int64_t i = 0; i < size_; ++i) acc += x[i];
      }
      sums[static_cast<size_t>(p)] = acc;
    }
    requantize(sums, out[0]);
  }

  // NHWC: each image's channels are contiguous per pixel; the sums run along them.
  bool channels_last() const override { return true; }
  void run_channels_last(const std::vector<const void*>& in, const std::vector<void*>& out,
                         int threads) const override {
    std::vector<int32_t> sums(static_cast<size_t>(planes_), 0);
    const int64_t images = planes_ / channels_;
#pragma omp parallel for num_threads(threads) if (threads > 1 && planes_ * size_ > kParallelFrom)
    for (std::ptrdiff_t n = 0; n < static_cast<std::ptrdiff_t>(images); ++n) {
      int32_t* acc = sums.data() + n * channels_;
      for (int64_t i = 0; i < size_; ++i) {
        const int64_t base = (n * size_ + i) * channels_;
        if (dtype_ == graph::DType::kUInt8) {
          const auto* x = static_cast<const uint8_t*>(in[0]) + base;
#pragma omp simd
          for (int64_t c = 0; c < channels_; ++c) acc[c] += x[c];
        } else {
          const auto* x = static_cast<const int8_t*>(in[0]) + base;
#pragma omp simd
          for (int64_t c = 0; c < channels_; ++c) acc[c] += x[c];
        }
      }
    }
    requantize(sums, out[0]);  // [N, C, 1, 1]: the same bytes in either layout
  }

 private:
  void requantize(const std::vector<int32_t>& sums, void* out) const {
    const int64_t lo = graph::dtype_min(dtype_), hi = graph::dtype_max(dtype_);
    const int32_t bias = -x_zp_ * static_cast<int32_t>(size_);
    for (size_t p = 0; p < sums.size(); ++p)
      store(out, dtype_, static_cast<int64_t>(p),
            graph::quantize_scaled(static_cast<float>(sums[p] + bias) * scale_, y_zp_, lo, hi));
  }

  graph::DType dtype_;
  int64_t planes_ = 0, size_ = 1, channels_ = 1;
  int32_t x_zp_ = 0, y_zp_ = 0;
  float scale_ = 1;
};

// y[i] = table[x[i] + offset] (int8 values index from -128: adding 128 in 8 bits flips the sign
// bit). The table is copied to the stack: written bytes could alias it otherwise.
void lookup_scalar(const uint8_t* __restrict x, uint8_t* __restrict y, std::ptrdiff_t n, const uint8_t* table_in,
                   uint8_t offset) {
  uint8_t table[256];
  std::memcpy(table, table_in, sizeof(table));
  for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = table[static_cast<uint8_t>(x[i] + offset)];
}

#if defined(__x86_64__) && defined(__GNUC__)
// AVX-512 VBMI: 64 lookups per two vpermi2b (one per half of the table) and a blend on bit 7.
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) void lookup_vbmi(const uint8_t* x, uint8_t* y, std::ptrdiff_t n,
                                                                        const uint8_t* table, uint8_t offset) {
  const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
  const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
  const __m512i add = _mm512_set1_epi8(static_cast<char>(offset));
  std::ptrdiff_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512i idx = _mm512_add_epi8(_mm512_loadu_si512(x + i), add);
    __m512i low = _mm512_permutex2var_epi8(t0, idx, t1);   // entries 0..127 by the low 7 bits
    __m512i high = _mm512_permutex2var_epi8(t2, idx, t3);  // entries 128..255
    _mm512_storeu_si512(y + i, _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), low, high));
  }
  lookup_scalar(x + i, y + i, n - i, table, offset);
}
#endif

void lookup(const uint8_t* x, uint8_t* y, std::ptrdiff_t n, const uint8_t* table, uint8_t offset) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool vbmi = __builtin_cpu_supports("avx512vbmi");
  if (vbmi) return lookup_vbmi(x, y, n, table, offset);
#endif
  lookup_scalar(x, y, n, table, offset);
}

// ai.fluidedge QLinearLookup: one table read per element.
class LookupOp : public LoopOp {
 public:
  LookupOp(const graph::Graph& g, const graph::Node& n) {
    const graph::Tensor& t = *g.initializer(n.input(1));
    std::memcpy(table_, t.raw(), 256);
    offset_ = g.value(n.inputs[0]).dtype == graph::DType::kInt8 ? 128 : 0;
    output_count_ = static_cast<size_t>(graph::shape_numel(g.value(n.outputs[0]).shape));
  }
  void run(const std::vector<const void*>& in, const std::vector<void*>& out, int threads) const override {
    const auto* x = static_cast<const uint8_t*>(in[0]);
    auto* y = static_cast<uint8_t*>(out[0]);
    in_chunks(static_cast<std::ptrdiff_t>(output_count_), threads,
              [&](std::ptrdiff_t b, std::ptrdiff_t k) { lookup(x + b, y + b, k, table_, offset_); });
  }
  bool elementwise() const override { return true; }

 private:
  uint8_t table_[256] = {};
  uint8_t offset_ = 0;
};

}  // namespace

namespace {

using Factory = std::unique_ptr<LoopOp> (*)(const graph::Graph&, const graph::Node&, std::string& why_not);

// Why input `i` onwards (but `except`) computed at run time keeps the loops from it, or "".
std::string runtime_parameter(const graph::Graph& g, const graph::Node& n, size_t from, size_t except = SIZE_MAX) {
  for (size_t i = from; i < n.inputs.size(); ++i)
    if (i != except && n.has_input(i) && !g.is_initializer(n.input(i)))
      return fmt::format("input '{}' is computed at run time; the lean backends need it constant", n.input(i));
  return "";
}

std::unique_ptr<LoopOp> integer_conv(const graph::Graph& g, const graph::Node& n, std::string& why_not) {
  if (g.value(n.inputs[0]).shape.size() != 4) {
    why_not = "quantized convolutions other than 2-D";
    return nullptr;
  }
  why_not = runtime_parameter(g, n, 1);
  if (!why_not.empty()) return nullptr;
  return std::make_unique<IntegerConvOp>(g, n, n.op_type == "QLinearConv");
}

std::unique_ptr<LoopOp> integer_matmul(const graph::Graph& g, const graph::Node& n, std::string& why_not) {
  bool qlinear = n.op_type == "QLinearMatMul";
  why_not = runtime_parameter(g, n, 1, qlinear ? 3 : 1);  // scales and zero points; B may be computed
  if (!why_not.empty()) return nullptr;
  return std::make_unique<IntegerMatMulOp>(g, n, qlinear);
}

std::unique_ptr<LoopOp> qlinear_add(const graph::Graph& g, const graph::Node& n, std::string& why_not) {
  if (g.is_initializer(n.inputs[0]) || g.is_initializer(n.inputs[3])) {
    why_not = "QLinearAdd of a constant";
    return nullptr;
  }
  if (g.value(n.inputs[0]).shape != g.value(n.inputs[3]).shape) {
    why_not = "QLinearAdd of operands of different shapes (broadcasting)";
    return nullptr;
  }
  return std::make_unique<QLinearAddOp>(g, n);
}

template <typename Op>
std::unique_ptr<LoopOp> plain(const graph::Graph& g, const graph::Node& n, std::string&) {
  return std::make_unique<Op>(g, n);
}

// One entry per quantization op (every op with the kQuantized trait).
const std::map<std::string_view, Factory>& table() {
  static const std::map<std::string_view, Factory> t = {
      {"QuantizeLinear", plain<QuantizeOp>}, {"DequantizeLinear", plain<DequantizeOp>},
      {"QLinearConv", integer_conv},         {"ConvInteger", integer_conv},
      {"QLinearMatMul", integer_matmul},     {"MatMulInteger", integer_matmul},
      {"QLinearAdd", qlinear_add},           {"QLinearGlobalAveragePool", plain<QLinearGlobalAveragePoolOp>},
      {"QLinearLookup", plain<LookupOp>},
  };
  return t;
}

}  // namespace

std::unique_ptr<LoopOp> make_quantized_loop_op(const FusedStep& step, const graph::Graph& g, std::string& why_not) {
  if (!step.post_ops.empty()) {
    why_not = "activations fused into a quantization op";
    return nullptr;
  }
  auto it = table().find(step.node.op_type);
  if (it == table().end()) {
    why_not = "not a quantization op";
    return nullptr;
  }
  return it->second(g, step.node, why_not);
}

}  // namespace fluidedge::runtime
