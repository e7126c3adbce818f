// Residual networks: ResNet-18, ResNet-50 and RegNetX-400MF (grouped bottlenecks).
#include "zoo/families.h"
#include "zoo/graph_builder.h"

namespace fluidedge::zoo {

using Scope = GraphBuilder::Scope;

namespace {

std::string conv_bn(GraphBuilder& b, const std::string& x, const std::string& conv_name, const std::string& bn_name,
                    int64_t out, int64_t k, int64_t stride, int64_t pad, int64_t groups = 1) {
  return b.batch_norm(b.conv(x, conv_name, out, k, stride, pad, groups), bn_name);
}

std::string basic_block(GraphBuilder& b, const std::string& x, const std::string& name, int64_t planes,
                        int64_t stride) {
  Scope s(b, name);
  std::string y = b.relu(conv_bn(b, x, "conv1", "bn1", planes, 3, stride, 1));
  y = conv_bn(b, y, "conv2", "bn2", planes, 3, 1, 1);
  std::string identity = x;
  if (stride != 1 || b.channels(x) != planes)
    identity = conv_bn(b, x, "downsample.0", "downsample.1", planes, 1, stride, 0);
  return b.relu(b.add(y, identity));
}

std::string bottleneck(GraphBuilder& b, const std::string& x, const std::string& name, int64_t planes, int64_t stride) {
  Scope s(b, name);
  std::string y = b.relu(conv_bn(b, x, "conv1", "bn1", planes, 1, 1, 0));
  y = b.relu(conv_bn(b, y, "conv2", "bn2", planes, 3, stride, 1));
  y = conv_bn(b, y, "conv3", "bn3", planes * 4, 1, 1, 0);
  std::string identity = x;
  if (stride != 1 || b.channels(x) != planes * 4)
    identity = conv_bn(b, x, "downsample.0", "downsample.1", planes * 4, 1, stride, 0);
  return b.relu(b.add(y, identity));
}

graph::Graph resnet(const std::string& name, bool bottlenecks, const int (&blocks)[4], uint64_t seed) {
  GraphBuilder b(name, {1, 3, 224, 224}, seed);
  std::string x = b.relu(conv_bn(b, b.input(), "conv1", "bn1", 64, 7, 2, 3));
  x = b.max_pool(x, 3, 2, 1);
  const int64_t planes[4] = {64, 128, 256, 512};
  for (int layer = 0; layer < 4; ++layer) {
    Scope s(b, "layer" + std::to_string(layer + 1));
    for (int i = 0; i < blocks[layer]; ++i) {
      int64_t stride = (layer > 0 && i == 0) ? 2 : 1;
      x = bottlenecks ? bottleneck(b, x, std::to_string(i), planes[layer], stride)
                      : basic_block(b, x, std::to_string(i), planes[layer], stride);
    }
  }
  x = b.flatten(b.global_avg_pool(x));
  return b.finish(b.linear(x, "fc", 1000));
}

}  // namespace

graph::Graph build_resnet18(uint64_t seed) { return resnet("resnet18", false, {2, 2, 2, 2}, seed); }
graph::Graph build_resnet50(uint64_t seed) { return resnet("resnet50", true, {3, 4, 6, 3}, seed); }

// RegNetX-400MF (torchvision 0.14): stem 32, stages of widths 32/64/160/400 and depths
// 1/2/7/12, group width 16, bottleneck ratio 1, no squeeze-excitation.
graph::Graph build_regnet_x_400mf(uint64_t seed) {
  GraphBuilder b("regnet_x_400mf", {1, 3, 224, 224}, seed);
  std::string x;
  {
    Scope s(b, "stem");
    x = b.relu(conv_bn(b, b.input(), "0", "1", 32, 3, 2, 1));
  }
  const int64_t widths[4] = {32, 64, 160, 400};
  const int depths[4] = {1, 2, 7, 12};
  const int64_t group_width = 16;
  for (int stage = 0; stage < 4; ++stage) {
    Scope trunk(b, "trunk_output");
    Scope st(b, "block" + std::to_string(stage + 1));
    for (int i = 0; i < depths[stage]; ++i) {
      Scope blk(b, "block" + std::to_string(stage + 1) + "-" + std::to_string(i));
      int64_t w = widths[stage], stride = i == 0 ? 2 : 1;
      std::string identity = x;
      if (b.channels(x) != w || stride != 1) identity = conv_bn(b, x, "proj", "bn", w, 1, stride, 0);
      std::string y;
      {
        Scope f(b, "f");
        y = b.relu(conv_bn(b, x, "a.0", "a.1", w, 1, 1, 0));
        y = b.relu(conv_bn(b, y, "b.0", "b.1", w, 3, stride, 1, w / group_width));
        y = conv_bn(b, y, "c.0", "c.1", w, 1, 1, 0);
      }
      x = b.relu(b.add(identity, y));
    }
  }
  x = b.flatten(b.global_avg_pool(x));
  return b.finish(b.linear(x, "fc", 1000));
}

}  // namespace fluidedge::zoo
