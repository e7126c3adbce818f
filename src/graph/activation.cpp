#include "graph/activation.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace fluidedge::graph {

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::kRelu:
      return "Relu";
    case Activation::kLeakyRelu:
      return "LeakyRelu";
    case Activation::kClip:
      return "Clip";
    case Activation::kSigmoid:
      return "Sigmoid";
    case Activation::kSwish:
      return "Swish";
    case Activation::kTanh:
      return "Tanh";
    case Activation::kHardSwish:
      return "HardSwish";
    case Activation::kHardSigmoid:
      return "HardSigmoid";
    case Activation::kElu:
      return "Elu";
    case Activation::kSelu:
      return "Selu";
    case Activation::kGeluErf:
    case Activation::kGeluTanh:
      return "Gelu";
    case Activation::kErf:
      return "Erf";
    case Activation::kExp:
      return "Exp";
    case Activation::kSqrt:
      return "Sqrt";
    case Activation::kAbs:
      return "Abs";
    case Activation::kNeg:
      return "Neg";
  }
  return "?";
}

double activation_value(Activation a, double alpha, double beta, double x) {
  switch (a) {
    case Activation::kRelu:
      return x > 0 ? x : 0;
    case Activation::kLeakyRelu:
      return x >= 0 ? x : alpha * x;
    case Activation::kClip:
      return std::min(std::max(x, alpha), beta);
    case Activation::kSigmoid:
      return 1 / (1 + std::exp(-x));
    case Activation::kSwish:
      return x / (1 + std::exp(-alpha * x));
    case Activation::kTanh:
      return std::tanh(x);
    case Activation::kHardSwish:
      return x * std::max(0.0, std::min(1.0, x / 6 + 0.5));
    case Activation::kHardSigmoid:
      return std::max(0.0, std::min(1.0, alpha * x + beta));
    case Activation::kElu:
      return x >= 0 ? x : alpha * std::expm1(x);
    case Activation::kSelu:
      return beta * (x > 0 ? x : alpha * std::expm1(x));
    case Activation::kGeluErf:
      return 0.5 * x * (1 + std::erf(x / std::numbers::sqrt2));
    case Activation::kGeluTanh:
      return 0.5 * x * (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (x + 0.044715 * x * x * x)));
    case Activation::kErf:
      return std::erf(x);
    case Activation::kExp:
      return std::exp(x);
    case Activation::kSqrt:
      return std::sqrt(x);
    case Activation::kAbs:
      return std::fabs(x);
    case Activation::kNeg:
      return -x;
  }
  return x;
}

}  // namespace fluidedge::graph
