#include "runtime/vector_math.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/error.h"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace fluidedge::runtime {

namespace {

// exp(r) for |r| <= ln2/2: a degree-7 polynomial (Cephes' expf coefficients) evaluated as
// 1 + r + r^2 * p(r).
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;  // ln 2 in two parts: k*kLn2Hi is exact
constexpr float kP0 = 5.0000001201e-1f, kP1 = 1.6666665459e-1f, kP2 = 4.1665795894e-2f, kP3 = 8.3334519073e-3f,
                kP4 = 1.3981999507e-3f, kP5 = 1.9875691500e-4f;

void swish_scalar(float* data, size_t count, float alpha) {
  for (size_t i = 0; i < count; ++i) data[i] = data[i] / (1.f + std::exp(-alpha * data[i]));
}

#if defined(__x86_64__)

__attribute__((target("avx512f"))) void swish_avx512(float* data, size_t count, float alpha) {
  const __m512 minus_alpha = _mm512_set1_ps(-alpha), log2e = _mm512_set1_ps(kLog2e), one = _mm512_set1_ps(1.f);
  const __m512 ln2_hi = _mm512_set1_ps(kLn2Hi), ln2_lo = _mm512_set1_ps(kLn2Lo);
  // Beyond +-100, exp(t) is 0 or infinite in float either way; clamped, r stays small (for
  // huge |t| the rounding of k would leave an r the polynomial overflows on) and scalef
  // saturates 2^k to 0 or infinity. A NaN x clamps to -100 and stays NaN through x / (...).
  const __m512 t_min = _mm512_set1_ps(-100.f), t_max = _mm512_set1_ps(100.f);
  const __m512 p0 = _mm512_set1_ps(kP0), p1 = _mm512_set1_ps(kP1), p2 = _mm512_set1_ps(kP2), p3 = _mm512_set1_ps(kP3),
               p4 = _mm512_set1_ps(kP4), p5 = _mm512_set1_ps(kP5);
  size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    __m512 x = _mm512_loadu_ps(data + i);
    __m512 t = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(x, minus_alpha), t_min), t_max);
    // exp(t) = 2^k * exp(r), r = t - k ln2.
    // (The maskz forms: GCC 12 warns that the plain ones' undefined pass-through is uninitialised.)
    __m512 k =
        _mm512_maskz_roundscale_ps(0xFFFF, _mm512_mul_ps(t, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, ln2_lo, _mm512_fnmadd_ps(k, ln2_hi, t));
    __m512 p = _mm512_fmadd_ps(p5, r, p4);
    p = _mm512_fmadd_ps(p, r, p3);
    p = _mm512_fmadd_ps(p, r, p2);
    p = _mm512_fmadd_ps(p, r, p1);
    p = _mm512_fmadd_ps(p, r, p0);
    __m512 e = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, one));
    e = _mm512_maskz_scalef_ps(0xFFFF, e, k);
    _mm512_storeu_ps(data + i, _mm512_div_ps(x, _mm512_add_ps(one, e)));
  }
  swish_scalar(data + i, count - i, alpha);
}

__attribute__((target("avx2,fma"))) void swish_avx2(float* data, size_t count, float alpha) {
  const __m256 minus_alpha = _mm256_set1_ps(-alpha), log2e = _mm256_set1_ps(kLog2e), one = _mm256_set1_ps(1.f);
  const __m256 ln2_hi = _mm256_set1_ps(kLn2Hi), ln2_lo = _mm256_set1_ps(kLn2Lo);
  // Beyond these exp(t) leaves float's normal range: t is clamped so that 2^k can be built from
  // its exponent bits (below, exp(t) < 1e-37 adds nothing to 1), and above t_max exp(t) is
  // taken as infinite, as the AVX-512 version's scalef makes it.
  const __m256 t_min = _mm256_set1_ps(-87.f), t_max = _mm256_set1_ps(88.f);
  const __m256 infinity = _mm256_set1_ps(__builtin_inff());
  const __m256 p0 = _mm256_set1_ps(kP0), p1 = _mm256_set1_ps(kP1), p2 = _mm256_set1_ps(kP2), p3 = _mm256_set1_ps(kP3),
               p4 = _mm256_set1_ps(kP4), p5 = _mm256_set1_ps(kP5);
  const __m256i bias = _mm256_set1_epi32(127);
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    __m256 x = _mm256_loadu_ps(data + i);
    __m256 t_raw = _mm256_mul_ps(x, minus_alpha);
    __m256 t = _mm256_min_ps(_mm256_max_ps(t_raw, t_min), t_max);
    __m256 k = _mm256_round_ps(_mm256_mul_ps(t, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, ln2_lo, _mm256_fnmadd_ps(k, ln2_hi, t));
    __m256 p = _mm256_fmadd_ps(p5, r, p4);
    p = _mm256_fmadd_ps(p, r, p3);
    p = _mm256_fmadd_ps(p, r, p2);
    p = _mm256_fmadd_ps(p, r, p1);
    p = _mm256_fmadd_ps(p, r, p0);
    __m256 e = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, one));
    __m256i two_k = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), bias), 23);
    e = _mm256_mul_ps(e, _mm256_castsi256_ps(two_k));
    e = _mm256_blendv_ps(e, infinity, _mm256_cmp_ps(t_raw, t_max, _CMP_GT_OQ));
    _mm256_storeu_ps(data + i, _mm256_div_ps(x, _mm256_add_ps(one, e)));
  }
  swish_scalar(data + i, count - i, alpha);
}

#elif defined(__aarch64__)

// The AVX2 version's method on 4 lanes: t clamped to [-87, 88] so that 2^k is built from its
// exponent bits, exp(t) taken as infinite past 88. NEON (Advanced SIMD) is part of ARMv8-A, so
// every aarch64 CPU runs this; vdivq_f32 is IEEE division, as _mm256_div_ps is.
struct NeonSwishConstants {
  float32x4_t minus_alpha, log2e, one, ln2_hi, ln2_lo, t_min, t_max, infinity, p0, p1, p2, p3, p4, p5;
  int32x4_t bias;
};

inline float32x4_t swish_neon4(float32x4_t x, const NeonSwishConstants& c) {
  float32x4_t t_raw = vmulq_f32(x, c.minus_alpha);
  // maxnm/minnm: a NaN t becomes t_min (as AVX2's max does), and x / (...) keeps the NaN.
  float32x4_t t = vminnmq_f32(vmaxnmq_f32(t_raw, c.t_min), c.t_max);
  float32x4_t k = vrndnq_f32(vmulq_f32(t, c.log2e));
  float32x4_t r = vfmsq_f32(vfmsq_f32(t, k, c.ln2_hi), k, c.ln2_lo);  // t - k ln2, ln2 in two parts
  float32x4_t p = vfmaq_f32(c.p4, c.p5, r);
  p = vfmaq_f32(c.p3, p, r);
  p = vfmaq_f32(c.p2, p, r);
  p = vfmaq_f32(c.p1, p, r);
  p = vfmaq_f32(c.p0, p, r);
  float32x4_t e = vfmaq_f32(vaddq_f32(r, c.one), p, vmulq_f32(r, r));
  int32x4_t two_k = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(k), c.bias), 23);  // k is integral: exact
  e = vmulq_f32(e, vreinterpretq_f32_s32(two_k));
  e = vbslq_f32(vcgtq_f32(t_raw, c.t_max), c.infinity, e);
  return vdivq_f32(x, vaddq_f32(c.one, e));
}

void swish_neon(float* data, size_t count, float alpha) {
  const NeonSwishConstants c{vdupq_n_f32(-alpha), vdupq_n_f32(kLog2e), vdupq_n_f32(1.f),  vdupq_n_f32(kLn2Hi),
                             vdupq_n_f32(kLn2Lo), vdupq_n_f32(-87.f),  vdupq_n_f32(88.f), vdupq_n_f32(__builtin_inff()),
                             vdupq_n_f32(kP0),    vdupq_n_f32(kP1),    vdupq_n_f32(kP2),  vdupq_n_f32(kP3),
                             vdupq_n_f32(kP4),    vdupq_n_f32(kP5),    vdupq_n_s32(127)};
  size_t i = 0;
  // Two independent vectors an iteration: Cortex-A72/A76 have two FP/NEON pipes, and one chain
  // of dependent FMAs would leave one idle.
  for (; i + 8 <= count; i += 8) {
    float32x4_t a = swish_neon4(vld1q_f32(data + i), c), b = swish_neon4(vld1q_f32(data + i + 4), c);
    vst1q_f32(data + i, a);
    vst1q_f32(data + i + 4, b);
  }
  for (; i + 4 <= count; i += 4) vst1q_f32(data + i, swish_neon4(vld1q_f32(data + i), c));
  swish_scalar(data + i, count - i, alpha);
}

#endif

using SwishFn = void (*)(float*, size_t, float);

SwishFn swish_for(VectorIsa isa) {
  switch (isa) {
    case VectorIsa::kScalar:
      return swish_scalar;
#if defined(__x86_64__)
    case VectorIsa::kAvx2:
      return swish_avx2;
    case VectorIsa::kAvx512:
      return swish_avx512;
#else
    case VectorIsa::kAvx2:
    case VectorIsa::kAvx512:
      break;
#endif
#if defined(__aarch64__)
    case VectorIsa::kNeon:
      return swish_neon;
#else
    case VectorIsa::kNeon:
      break;
#endif
  }
  fail("swish_in_place: the {} version is not built for this CPU", vector_isa_name(isa));
}

}  // namespace

VectorIsa best_vector_isa() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return VectorIsa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return VectorIsa::kAvx2;
  return VectorIsa::kScalar;
#elif defined(__aarch64__)
  return VectorIsa::kNeon;
#else
  return VectorIsa::kScalar;
#endif
}

std::vector<VectorIsa> runnable_vector_isas() {
  std::vector<VectorIsa> isas{VectorIsa::kScalar};
  switch (best_vector_isa()) {
    case VectorIsa::kAvx512:
      isas.push_back(VectorIsa::kAvx2);
      isas.push_back(VectorIsa::kAvx512);
      break;
    case VectorIsa::kAvx2:
      isas.push_back(VectorIsa::kAvx2);
      break;
    case VectorIsa::kNeon:
      isas.push_back(VectorIsa::kNeon);
      break;
    case VectorIsa::kScalar:
      break;
  }
  return isas;
}

const char* vector_isa_name(VectorIsa isa) {
  switch (isa) {
    case VectorIsa::kScalar:
      return "scalar";
    case VectorIsa::kAvx2:
      return "avx2";
    case VectorIsa::kAvx512:
      return "avx512";
    case VectorIsa::kNeon:
      return "neon";
  }
  return "unknown";
}

void swish_in_place(VectorIsa isa, float* data, size_t count, float alpha) { swish_for(isa)(data, count, alpha); }

void swish_in_place(float* data, size_t count, float alpha, int threads) {
  static const SwishFn swish = swish_for(best_vector_isa());
  constexpr size_t kChunk = 16384;  // per thread task: 64 KiB, so that small arrays stay on one thread
  if (threads <= 1 || count < 2 * kChunk) {
    swish(data, count, alpha);
    return;
  }
  auto chunks = static_cast<int64_t>((count + kChunk - 1) / kChunk);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    size_t begin = static_cast<size_t>(c) * kChunk;
    swish(data + begin, std::min(kChunk, count - begin), alpha);
  }
}

}  // namespace fluidedge::runtime
