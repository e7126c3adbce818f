#include "zoo/zoo.h"

#include <fmt/ranges.h>

#include "common/error.h"
#include "zoo/families.h"

namespace fluidedge::zoo {

namespace {

struct Entry {
  const char* name;
  const char* description;
  graph::Graph (*build)(uint64_t);
};

const Entry kModels[] = {
    {"paper_cnn", "the Fluid paper's MNIST CNN (2 conv + 2 FC)", build_paper_cnn},
    {"lenet5", "LeNet-5 for 28x28 digits", build_lenet5},
    {"alexnet", "AlexNet (torchvision)", build_alexnet},
    {"vgg16", "VGG-16 without batch norm (torchvision)", build_vgg16},
    {"resnet18", "ResNet-18 (torchvision)", build_resnet18},
    {"resnet50", "ResNet-50 (torchvision)", build_resnet50},
    {"mobilenet_v2", "MobileNetV2 (torchvision)", build_mobilenet_v2},
    {"efficientnet_b0", "EfficientNet-B0 (torchvision)", build_efficientnet_b0},
    {"squeezenet1_1", "SqueezeNet 1.1 (torchvision)", build_squeezenet1_1},
    {"googlenet", "GoogLeNet without auxiliary heads (torchvision)", build_googlenet},
    {"regnet_x_400mf", "RegNetX-400MF (torchvision)", build_regnet_x_400mf},
};

const Entry* find(const std::string& name) {
  for (const auto& e : kModels)
    if (name == e.name) return &e;
  return nullptr;
}

}  // namespace

std::vector<std::string> zoo_names() {
  std::vector<std::string> names;
  for (const auto& e : kModels) names.push_back(e.name);
  return names;
}

bool zoo_has(const std::string& name) { return find(name) != nullptr; }

std::string zoo_description(const std::string& name) {
  const Entry* e = find(name);
  return e ? e->description : "";
}

graph::Graph build_model(const std::string& name, uint64_t seed) {
  const Entry* e = find(name);
  if (e == nullptr) fail("'{}' is not a zoo model; choose one of: {}", name, fmt::join(zoo_names(), ", "));
  return e->build(seed);
}

}  // namespace fluidedge::zoo
