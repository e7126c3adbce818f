// The activation layout the fast backend plans a model in.
//
// oneDNN ties a convolution's implementation to its layout: on AVX-512, channels-last
// activations run the brgemm kernels and channel-blocked ones (nChw16c) the direct jit kernels.
// Measured on this project's zoo at batch 1 and 32, brgemm is 5-20 % faster per layer on wide
// dense convolutions with spatial kernels (ResNet-18, GoogLeNet, VGG), while the direct kernels
// win on pointwise, grouped and narrow ones, where memory traffic dominates (up to 2x on a 1x1
// convolution over 112x112; MobileNetV2, EfficientNet, SqueezeNet and RegNetX run 8-16 % faster
// at batch 32 blocked). Mixing layouts per layer costs a reorder at each switch, so a model takes
// one layout, chosen by where its arithmetic is.
#pragma once

#include <string>
#include <vector>

#include "graph/graph.h"
#include "runtime/fast/fused_step.h"

namespace fluidedge::runtime::fast {

enum class ActivationLayout {
  kLibraryChoice,   // what oneDNN picks for `any` (channels-last with brgemm on AVX-512)
  kChannelBlocked,  // nChw16c wherever an optimised kernel takes it
};

struct LayoutChoice {
  ActivationLayout layout = ActivationLayout::kLibraryChoice;
  // Share of the convolutions' multiply-adds in dense convolutions with a spatial kernel and at
  // least kWideChannels input channels: the work brgemm does best.
  double wide_spatial_share = 0;
};

inline constexpr int64_t kWideChannels = 64;
// Above this share the model keeps the library's choice.
inline constexpr double kWideSpatialThreshold = 0.4;

// `requested`: "auto" (by the share above), "library" or "blocked".
LayoutChoice choose_activation_layout(const graph::Graph& g, const std::vector<FusedStep>& steps,
                                      const std::string& requested = "auto");

}  // namespace fluidedge::runtime::fast
