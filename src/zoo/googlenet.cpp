// GoogLeNet (Inception v1) as torchvision 0.14 builds it without auxiliary heads: BN after every
// convolution (eps 1e-3), and the "5x5" branch using a 3x3 kernel.
#include "zoo/families.h"
#include "zoo/graph_builder.h"

namespace fluidedge::zoo {

using Scope = GraphBuilder::Scope;

namespace {

std::string basic_conv(GraphBuilder& b, const std::string& x, const std::string& name, int64_t out, int64_t k,
                       int64_t stride = 1, int64_t pad = 0) {
  Scope s(b, name);
  return b.relu(b.batch_norm(b.conv(x, "conv", out, k, stride, pad), "bn", 1e-3f));
}

std::string inception(GraphBuilder& b, const std::string& x, const std::string& name, int64_t c1, int64_t c3r,
                      int64_t c3, int64_t c5r, int64_t c5, int64_t pool) {
  Scope s(b, name);
  std::string b1 = basic_conv(b, x, "branch1", c1, 1);
  std::string b2 = basic_conv(b, basic_conv(b, x, "branch2.0", c3r, 1), "branch2.1", c3, 3, 1, 1);
  std::string b3 = basic_conv(b, basic_conv(b, x, "branch3.0", c5r, 1), "branch3.1", c5, 3, 1, 1);
  std::string b4 = basic_conv(b, b.max_pool(x, 3, 1, 1, true), "branch4.1", pool, 1);
  return b.concat({b1, b2, b3, b4});
}

}  // namespace

graph::Graph build_googlenet(uint64_t seed) {
  GraphBuilder b("googlenet", {1, 3, 224, 224}, seed);
  std::string x = basic_conv(b, b.input(), "conv1", 64, 7, 2, 3);
  x = b.max_pool(x, 3, 2, 0, true);
  x = basic_conv(b, x, "conv2", 64, 1);
  x = basic_conv(b, x, "conv3", 192, 3, 1, 1);
  x = b.max_pool(x, 3, 2, 0, true);
  x = inception(b, x, "inception3a", 64, 96, 128, 16, 32, 32);
  x = inception(b, x, "inception3b", 128, 128, 192, 32, 96, 64);
  x = b.max_pool(x, 3, 2, 0, true);
  x = inception(b, x, "inception4a", 192, 96, 208, 16, 48, 64);
  x = inception(b, x, "inception4b", 160, 112, 224, 24, 64, 64);
  x = inception(b, x, "inception4c", 128, 128, 256, 24, 64, 64);
  x = inception(b, x, "inception4d", 112, 144, 288, 32, 64, 64);
  x = inception(b, x, "inception4e", 256, 160, 320, 32, 128, 128);
  x = b.max_pool(x, 2, 2, 0, true);
  x = inception(b, x, "inception5a", 256, 160, 320, 32, 128, 128);
  x = inception(b, x, "inception5b", 384, 192, 384, 48, 128, 128);
  x = b.flatten(b.global_avg_pool(x));
  return b.finish(b.linear(x, "fc", 1000));
}

}  // namespace fluidedge::zoo
