// The fast backend's own activation loops against double precision, in every instruction-set
// version this CPU runs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "common/error.h"
#include "runtime/vector_math.h"

namespace fluidedge::runtime::fast {
namespace {

std::vector<VectorIsa> runnable_isas() { return runnable_vector_isas(); }

double swish(double x, double alpha) { return x / (1.0 + std::exp(-alpha * x)); }

// Values over the whole useful range and the extremes where exp leaves float's range.
std::vector<float> test_values() {
  // The extremes first, so that the vector loops see them (the tail runs the scalar code).
  std::vector<float> v{0.f,
                       -0.f,
                       1e-30f,
                       -1e-30f,
                       87.9f,
                       -87.9f,
                       88.8f,
                       -88.8f,
                       200.f,
                       -200.f,
                       1e15f,
                       -1e15f,
                       1e30f,
                       -1e30f,
                       std::numeric_limits<float>::max(),
                       std::numeric_limits<float>::lowest()};
  for (float x = -100.f; x <= 100.f; x += 0.0137f) v.push_back(x);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.f, 3.f);
  for (int i = 0; i < 10000; ++i) v.push_back(normal(rng));
  while (v.size() % 16 != 5) v.push_back(1.f);  // and a tail for the scalar loop
  return v;
}

TEST(VectorMath, SwishMatchesDoublePrecisionInEveryVersion) {
  for (VectorIsa isa : runnable_isas()) {
    for (float alpha : {1.f, 0.5f, 1.702f}) {
      std::vector<float> x = test_values(), y = x;
      swish_in_place(isa, y.data(), y.size(), alpha);
      for (size_t i = 0; i < x.size(); ++i) {
        double want = swish(x[i], alpha);
        // Relative to the value: a few ulps, plus exp's condition number |alpha x| times the
        // rounding of alpha * x in float; or absolute near 0 (where the result is within 1e-36 of it).
        // (Past |alpha x| = 88 the result is x or 0 to within rounding: no condition number.)
        double t = std::min(std::fabs(static_cast<double>(alpha) * x[i]), 88.0);
        double tolerance = std::max((4 + t) * 1.2e-7 * std::fabs(want), 1e-30);
        ASSERT_NEAR(y[i], want, tolerance)
            << "x = " << x[i] << ", alpha = " << alpha << ", isa " << vector_isa_name(isa);
      }
    }
  }
}

TEST(VectorMath, SwishKeepsNaNAndInfinities) {
  for (VectorIsa isa : runnable_isas()) {
    const float inf = std::numeric_limits<float>::infinity();
    for (size_t at : {size_t{3}, size_t{16}}) {  // in the vector loop and in the scalar tail
      std::vector<float> y(17, std::numeric_limits<float>::quiet_NaN());
      y[at] = inf;
      y[at == 3 ? 5 : 0] = -inf;
      swish_in_place(isa, y.data(), y.size(), 1.f);
      for (size_t i = 0; i < y.size(); ++i) {
        if (i == at)
          EXPECT_EQ(y[i], inf) << "isa " << vector_isa_name(isa);
        else if (i == (at == 3 ? 5u : 0u))
          EXPECT_TRUE(y[i] == 0.f || std::isnan(y[i])) << y[i];  // -inf * 0
        else
          EXPECT_TRUE(std::isnan(y[i])) << "element " << i << " isa " << vector_isa_name(isa);
      }
    }
  }
}

// The vector version is what runs, and what the tests above check, on the CPUs the node is
// built for: NEON on every aarch64 CPU (run under qemu by the arm64-emulated tests).
TEST(VectorMath, EveryAarch64CpuRunsTheNeonVersion) {
#if defined(__aarch64__)
  EXPECT_EQ(best_vector_isa(), VectorIsa::kNeon);
  EXPECT_EQ(runnable_vector_isas(), (std::vector<VectorIsa>{VectorIsa::kScalar, VectorIsa::kNeon}));
#else
  GTEST_SKIP() << "not an aarch64 build";
#endif
}

TEST(VectorMath, AVersionNotBuiltForThisArchitectureIsRefused) {
  float x[4] = {1.f, 2.f, 3.f, 4.f};
#if defined(__aarch64__)
  EXPECT_THROW(swish_in_place(VectorIsa::kAvx2, x, 4, 1.f), Error);
#else
  EXPECT_THROW(swish_in_place(VectorIsa::kNeon, x, 4, 1.f), Error);
#endif
  EXPECT_EQ(x[0], 1.f);
}

TEST(VectorMath, SwishOnThreadsEqualsOneThread) {
  std::vector<float> x(200000);
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.f, 4.f);
  for (float& v : x) v = normal(rng);
  std::vector<float> one = x, many = x;
  swish_in_place(one.data(), one.size(), 1.f, 1);
  swish_in_place(many.data(), many.size(), 1.f, 3);
  EXPECT_EQ(one, many);
  EXPECT_NE(one, x);
}

}  // namespace
}  // namespace fluidedge::runtime::fast
