// Mobile architectures: MobileNetV2 (inverted residuals, ReLU6) and EfficientNet-B0 (MBConv
// with squeeze-excitation and SiLU).
#include <algorithm>

#include "zoo/families.h"
#include "zoo/graph_builder.h"

namespace fluidedge::zoo {

using Scope = GraphBuilder::Scope;

namespace {

// torchvision's _make_divisible: round to a multiple of `divisor`, never below 90 %.
int64_t make_divisible(double v, int64_t divisor = 8) {
  int64_t rounded = std::max<int64_t>(divisor, static_cast<int64_t>(v + divisor / 2.0) / divisor * divisor);
  if (rounded < 0.9 * v) rounded += divisor;
  return rounded;
}

}  // namespace

graph::Graph build_mobilenet_v2(uint64_t seed) {
  GraphBuilder b("mobilenet_v2", {1, 3, 224, 224}, seed);
  struct Setting {
    int64_t t, c, n, s;
  };
  const Setting settings[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                              {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  std::string x;
  Scope features(b, "features");
  {
    Scope s(b, "0");
    x = b.relu6(b.batch_norm(b.conv(b.input(), "0", 32, 3, 2, 1), "1"));
  }
  int index = 1;
  for (const Setting& st : settings) {
    for (int64_t i = 0; i < st.n; ++i) {
      Scope blk(b, std::to_string(index++));
      int64_t stride = i == 0 ? st.s : 1;
      int64_t in = b.channels(x), hidden = in * st.t;
      std::string y = x;
      int layer = 0;
      if (st.t != 1) {
        Scope l(b, "conv." + std::to_string(layer++));
        y = b.relu6(b.batch_norm(b.conv(y, "0", hidden, 1), "1"));
      }
      {
        Scope l(b, "conv." + std::to_string(layer++));
        y = b.relu6(b.batch_norm(b.conv(y, "0", hidden, 3, stride, 1, hidden), "1"));
      }
      y = b.batch_norm(b.conv(y, "conv." + std::to_string(layer), st.c, 1), "conv." + std::to_string(layer + 1));
      x = (stride == 1 && in == st.c) ? b.add(x, y) : y;
    }
  }
  {
    Scope s(b, "18");
    x = b.relu6(b.batch_norm(b.conv(x, "0", 1280, 1), "1"));
  }
  x = b.flatten(b.global_avg_pool(x));
  return b.finish(b.linear(x, "classifier.1", 1000));
}

graph::Graph build_efficientnet_b0(uint64_t seed) {
  GraphBuilder b("efficientnet_b0", {1, 3, 224, 224}, seed);
  struct Stage {
    int64_t expand, kernel, stride, out, layers;
  };
  const Stage stages[] = {{1, 3, 1, 16, 1},  {6, 3, 2, 24, 2},  {6, 5, 2, 40, 2}, {6, 3, 2, 80, 3},
                          {6, 5, 1, 112, 3}, {6, 5, 2, 192, 4}, {6, 3, 1, 320, 1}};
  std::string x;
  Scope features(b, "features");
  {
    Scope s(b, "0");
    x = b.silu(b.batch_norm(b.conv(b.input(), "0", 32, 3, 2, 1), "1"));
  }
  int index = 1;
  for (const Stage& st : stages) {
    Scope stage(b, std::to_string(index++));
    for (int64_t i = 0; i < st.layers; ++i) {
      Scope blk(b, std::to_string(i) + ".block");
      int64_t stride = i == 0 ? st.stride : 1;
      int64_t in = b.channels(x), expanded = make_divisible(static_cast<double>(in * st.expand));
      std::string y = x;
      int layer = 0;
      if (expanded != in) {
        Scope l(b, std::to_string(layer++));
        y = b.silu(b.batch_norm(b.conv(y, "0", expanded, 1), "1"));
      }
      {
        Scope l(b, std::to_string(layer++));
        y = b.silu(b.batch_norm(b.conv(y, "0", expanded, st.kernel, stride, (st.kernel - 1) / 2, expanded), "1"));
      }
      {
        Scope l(b, std::to_string(layer++));
        int64_t squeeze = std::max<int64_t>(1, in / 4);
        std::string s = b.global_avg_pool(y);
        s = b.silu(b.conv(s, "fc1", squeeze, 1, 1, 0, 1, true));
        s = b.sigmoid(b.conv(s, "fc2", expanded, 1, 1, 0, 1, true));
        y = b.mul(s, y);
      }
      {
        Scope l(b, std::to_string(layer));
        y = b.batch_norm(b.conv(y, "0", st.out, 1), "1");
      }
      x = (stride == 1 && in == st.out) ? b.add(y, x) : y;
    }
  }
  {
    Scope s(b, "8");
    x = b.silu(b.batch_norm(b.conv(x, "0", 1280, 1), "1"));
  }
  x = b.flatten(b.global_avg_pool(x));
  return b.finish(b.linear(x, "classifier.1", 1000));
}

}  // namespace fluidedge::zoo
