// Elementwise activations as typed values: the kind, with the parameters an ONNX node gives it.
// Op schemas name the activation an op is (OpSchema::activation); the backends fuse it into a
// preceding operator or run it alone, and the one double-precision definition here is what
// their own loops are tested against.
#pragma once

namespace fluidedge::graph {

enum class Activation {
  kRelu,       // max(x, 0)
  kLeakyRelu,  // x >= 0 ? x : alpha x
  kClip,       // min(max(x, alpha), beta); +-inf where the bound is absent
  kSigmoid,    // 1 / (1 + exp(-x))
  kSwish,      // x sigmoid(alpha x): SiLU as exporters write it, Mul(x, Sigmoid(x)) (alpha 1)
  kTanh,
  kHardSwish,    // x max(0, min(1, x / 6 + 1 / 2))
  kHardSigmoid,  // max(0, min(1, alpha x + beta))
  kElu,          // x >= 0 ? x : alpha (exp(x) - 1)
  kSelu,         // beta (x > 0 ? x : alpha (exp(x) - 1)); ONNX's gamma is beta here
  kGeluErf,      // x (1 + erf(x / sqrt 2)) / 2
  kGeluTanh,     // x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2
  kErf,
  kExp,
  kSqrt,
  kAbs,
  kNeg,
};

// The ONNX op it came from ("Swish" for the Mul(x, Sigmoid(x)) pattern, "Gelu" for both Gelus),
// for messages and profiles.
const char* activation_name(Activation a);
// a(x) with its parameters, in double precision.
double activation_value(Activation a, double alpha, double beta, double x);

}  // namespace fluidedge::graph
