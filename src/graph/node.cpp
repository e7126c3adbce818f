#include "graph/node.h"

#include <fmt/format.h>

namespace fluidedge::graph {

namespace {

template <typename T>
const T* get_attr(const Node& node, const std::string& key, const char* type) {
  auto it = node.attrs.find(key);
  if (it == node.attrs.end()) return nullptr;
  const T* v = std::get_if<T>(&it->second);
  if (v == nullptr) fail("{}: attribute '{}' is not of type {}", node.describe(), key, type);
  return v;
}

}  // namespace

int64_t Node::attr_int(const std::string& key, int64_t fallback) const {
  const auto* v = get_attr<int64_t>(*this, key, "int");
  return v ? *v : fallback;
}

float Node::attr_float(const std::string& key, float fallback) const {
  auto it = attrs.find(key);
  if (it != attrs.end()) {
    if (const auto* i = std::get_if<int64_t>(&it->second)) return static_cast<float>(*i);
  }
  const auto* v = get_attr<float>(*this, key, "float");
  return v ? *v : fallback;
}

std::string Node::attr_string(const std::string& key, const std::string& fallback) const {
  const auto* v = get_attr<std::string>(*this, key, "string");
  return v ? *v : fallback;
}

std::vector<int64_t> Node::attr_ints(const std::string& key, std::vector<int64_t> fallback) const {
  const auto* v = get_attr<std::vector<int64_t>>(*this, key, "ints");
  return v ? *v : fallback;
}

std::vector<float> Node::attr_floats(const std::string& key, std::vector<float> fallback) const {
  const auto* v = get_attr<std::vector<float>>(*this, key, "floats");
  return v ? *v : fallback;
}

const Tensor& Node::attr_tensor(const std::string& key) const {
  const auto* v = get_attr<Tensor>(*this, key, "tensor");
  if (v == nullptr) fail("{}: missing tensor attribute '{}'", describe(), key);
  return *v;
}

const std::string& Node::input(size_t i) const {
  static const std::string kEmpty;
  return i < inputs.size() ? inputs[i] : kEmpty;
}

std::string Node::describe() const { return fmt::format("node '{}' ({})", name, op_type); }

}  // namespace fluidedge::graph
