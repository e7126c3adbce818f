#include "runtime/fast/layout_policy.h"

#include "common/error.h"

namespace fluidedge::runtime::fast {

LayoutChoice choose_activation_layout(const graph::Graph& g, const std::vector<FusedStep>& steps,
                                      const std::string& requested) {
  LayoutChoice choice;
  double total = 0, wide = 0;
  for (const FusedStep& step : steps) {
    const graph::Node& n = step.node;
    if (n.op_type != "Conv" || !g.is_initializer(n.input(1))) continue;
    const graph::Shape& w = g.initializer(n.input(1))->shape();
    const graph::Shape& y = g.value(n.outputs[0]).shape;
    if (w.size() < 3 || y.size() != w.size()) continue;
    double kernel = 1, out = 1;
    for (size_t i = 2; i < w.size(); ++i) kernel *= static_cast<double>(w[i]);
    for (size_t i = 1; i < y.size(); ++i) out *= static_cast<double>(y[i]);
    double macs = out * static_cast<double>(w[1]) * kernel;  // w[1]: input channels per group
    total += macs;
    if (n.attr_int("group", 1) == 1 && kernel > 1 && w[1] >= kWideChannels) wide += macs;
  }
  choice.wide_spatial_share = total > 0 ? wide / total : 0;
  if (requested == "library") {
    choice.layout = ActivationLayout::kLibraryChoice;
  } else if (requested == "blocked") {
    choice.layout = ActivationLayout::kChannelBlocked;
  } else if (requested == "auto" || requested.empty()) {
    choice.layout = total > 0 && choice.wide_spatial_share <= kWideSpatialThreshold ? ActivationLayout::kChannelBlocked
                                                                                    : ActivationLayout::kLibraryChoice;
  } else {
    fail("layout '{}': expected auto, library or blocked", requested);
  }
  return choice;
}

}  // namespace fluidedge::runtime::fast
