// Plain convolutional chains: the Fluid paper's CNN, LeNet-5, AlexNet, VGG-16 and SqueezeNet 1.1.
#include "zoo/families.h"
#include "zoo/graph_builder.h"

namespace fluidedge::zoo {

using Scope = GraphBuilder::Scope;

// The Fluid paper's MNIST CNN (DESIGN.md): 225,034 parameters.
graph::Graph build_paper_cnn(uint64_t seed) {
  GraphBuilder b("paper_cnn", {1, 1, 28, 28}, seed);
  std::string x = b.input();
  x = b.max_pool(b.relu(b.conv(x, "conv1", 32, 3, 1, 0, 1, true)), 2, 2);
  x = b.max_pool(b.relu(b.conv(x, "conv2", 64, 3, 1, 0, 1, true)), 2, 2);
  x = b.relu(b.linear(b.flatten(x), "fc1", 128));
  return b.finish(b.linear(x, "fc2", 10));
}

// LeNet-5 for 28x28 digits (conv 5x5 with padding 2 first, as in the usual MNIST adaptation):
// 61,706 parameters.
graph::Graph build_lenet5(uint64_t seed) {
  GraphBuilder b("lenet5", {1, 1, 28, 28}, seed);
  std::string x = b.input();
  x = b.max_pool(b.relu(b.conv(x, "conv1", 6, 5, 1, 2, 1, true)), 2, 2);
  x = b.max_pool(b.relu(b.conv(x, "conv2", 16, 5, 1, 0, 1, true)), 2, 2);
  x = b.relu(b.linear(b.flatten(x), "fc1", 120));
  x = b.relu(b.linear(x, "fc2", 84));
  return b.finish(b.linear(x, "fc3", 10));
}

graph::Graph build_alexnet(uint64_t seed) {
  GraphBuilder b("alexnet", {1, 3, 224, 224}, seed);
  std::string x = b.input();
  {
    Scope s(b, "features");
    x = b.max_pool(b.relu(b.conv(x, "0", 64, 11, 4, 2, 1, true)), 3, 2);
    x = b.max_pool(b.relu(b.conv(x, "3", 192, 5, 1, 2, 1, true)), 3, 2);
    x = b.relu(b.conv(x, "6", 384, 3, 1, 1, 1, true));
    x = b.relu(b.conv(x, "8", 256, 3, 1, 1, 1, true));
    x = b.max_pool(b.relu(b.conv(x, "10", 256, 3, 1, 1, 1, true)), 3, 2);
  }
  // AdaptiveAvgPool2d((6, 6)) of a 6x6 map is the identity.
  x = b.flatten(x);
  Scope s(b, "classifier");
  x = b.relu(b.linear(x, "1", 4096));
  x = b.relu(b.linear(x, "4", 4096));
  return b.finish(b.linear(x, "6", 1000));
}

graph::Graph build_vgg16(uint64_t seed) {
  GraphBuilder b("vgg16", {1, 3, 224, 224}, seed);
  std::string x = b.input();
  const int cfg[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
  {
    Scope s(b, "features");
    int index = 0;
    for (int c : cfg) {
      if (c == 0) {
        x = b.max_pool(x, 2, 2);
        index += 1;
      } else {
        x = b.relu(b.conv(x, std::to_string(index), c, 3, 1, 1, 1, true));
        index += 2;
      }
    }
  }
  x = b.flatten(x);  // AdaptiveAvgPool2d((7, 7)) of a 7x7 map is the identity
  Scope s(b, "classifier");
  x = b.relu(b.linear(x, "0", 4096));
  x = b.relu(b.linear(x, "3", 4096));
  return b.finish(b.linear(x, "6", 1000));
}

namespace {

std::string fire(GraphBuilder& b, const std::string& x, const std::string& name, int64_t squeeze, int64_t expand1,
                 int64_t expand3) {
  Scope s(b, name);
  std::string sq = b.relu(b.conv(x, "squeeze", squeeze, 1, 1, 0, 1, true));
  std::string e1 = b.relu(b.conv(sq, "expand1x1", expand1, 1, 1, 0, 1, true));
  std::string e3 = b.relu(b.conv(sq, "expand3x3", expand3, 3, 1, 1, 1, true));
  return b.concat({e1, e3});
}

}  // namespace

graph::Graph build_squeezenet1_1(uint64_t seed) {
  GraphBuilder b("squeezenet1_1", {1, 3, 224, 224}, seed);
  std::string x = b.input();
  {
    Scope s(b, "features");
    x = b.max_pool(b.relu(b.conv(x, "0", 64, 3, 2, 0, 1, true)), 3, 2, 0, true);
    x = fire(b, x, "3", 16, 64, 64);
    x = fire(b, x, "4", 16, 64, 64);
    x = b.max_pool(x, 3, 2, 0, true);
    x = fire(b, x, "6", 32, 128, 128);
    x = fire(b, x, "7", 32, 128, 128);
    x = b.max_pool(x, 3, 2, 0, true);
    x = fire(b, x, "9", 48, 192, 192);
    x = fire(b, x, "10", 48, 192, 192);
    x = fire(b, x, "11", 64, 256, 256);
    x = fire(b, x, "12", 64, 256, 256);
  }
  Scope s(b, "classifier");
  x = b.relu(b.conv(x, "1", 1000, 1, 1, 0, 1, true));
  return b.finish(b.flatten(b.global_avg_pool(x)));
}

}  // namespace fluidedge::zoo
