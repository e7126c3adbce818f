#include "cluster/cluster_config.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "cluster/model_directory.h"
#include "common/error.h"

namespace fluidedge::cluster {
namespace fs = std::filesystem;
namespace {

void check_fields(const YAML::Node& map, const std::string& where, const std::set<std::string>& allowed,
                  const std::string& source) {
  if (!map.IsMap()) fail("{}: {} must be a mapping", source, where);
  for (const auto& kv : map) {
    auto key = kv.first.as<std::string>();
    if (!allowed.count(key)) fail("{}: {}: unknown field '{}'", source, where, key);
  }
}

template <typename T>
T get(const YAML::Node& map, const std::string& key, const std::string& where, const std::string& source, T fallback) {
  if (!map[key]) return fallback;
  try {
    return map[key].as<T>();
  } catch (const YAML::Exception&) {
    fail("{}: {}: field '{}' has the wrong type", source, where, key);
  }
}

int positive_int(const YAML::Node& map, const std::string& key, const std::string& where, const std::string& source,
                 int fallback) {
  int v = get<int>(map, key, where, source, fallback);
  if (v <= 0) fail("{}: {}: '{}' must be positive (got {})", source, where, key, v);
  return v;
}

}  // namespace

std::string variant_name(Variant v) {
  switch (v) {
    case Variant::kFluid:
      return "fluid";
    case Variant::kDynamic:
      return "dynamic";
    case Variant::kStatic:
      return "static";
  }
  return "?";
}

std::string mode_name(Mode m) {
  switch (m) {
    case Mode::kHighThroughput:
      return "ht";
    case Mode::kHighAccuracy:
      return "ha";
    case Mode::kAuto:
      return "auto";
  }
  return "?";
}

Mode parse_mode(const std::string& text) {
  if (text == "ht") return Mode::kHighThroughput;
  if (text == "ha") return Mode::kHighAccuracy;
  if (text == "auto") return Mode::kAuto;
  fail("unknown mode '{}' (expected ht, ha or auto)", text);
}

Variant parse_variant(const std::string& text) {
  if (text == "fluid") return Variant::kFluid;
  if (text == "dynamic") return Variant::kDynamic;
  if (text == "static") return Variant::kStatic;
  fail("unknown variant '{}' (expected fluid, dynamic or static)", text);
}

Coordination parse_coordination(const std::string& text) {
  if (text == "client") return Coordination::kClient;
  if (text == "nodes") return Coordination::kNodes;
  fail("unknown coordinator '{}' (expected client or nodes)", text);
}

namespace {

ClusterConfig parse_checked_yaml(const std::string& text, const std::string& source, const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail("{}: not valid YAML: {}", source, e.what());
  }
  ClusterConfig c;
  c.source = source;
  check_fields(root, "top level",
               {"variant", "mode", "model", "nodes", "max_batch", "window", "latency_target_ms", "request_timeout_ms",
                "detector", "coordinator", "tls"},
               source);
  try {
    c.variant = parse_variant(get<std::string>(root, "variant", "top level", source, "fluid"));
    c.mode = parse_mode(get<std::string>(root, "mode", "top level", source, "ht"));
    c.coordination = parse_coordination(get<std::string>(root, "coordinator", "top level", source, "client"));
  } catch (const Error& e) {
    fail("{}: {}", source, e.what());
  }
  if (!root["model"]) fail("{}: missing field 'model' (the directory `fluidedge train` wrote)", source);
  fs::path model_dir = root["model"].as<std::string>();
  if (model_dir.is_relative()) model_dir = fs::path(base_dir) / model_dir;
  c.model_dir = model_dir.lexically_normal().string();
  c.max_batch = positive_int(root, "max_batch", "top level", source, c.max_batch);
  c.window = positive_int(root, "window", "top level", source, c.window);
  c.request_timeout_ms = positive_int(root, "request_timeout_ms", "top level", source, c.request_timeout_ms);
  c.latency_target_ms = get<double>(root, "latency_target_ms", "top level", source, c.latency_target_ms);
  if (c.latency_target_ms <= 0) fail("{}: 'latency_target_ms' must be positive", source);
  if (root["tls"]) {
    fs::path dir = root["tls"].as<std::string>();
    if (dir.is_relative()) dir = fs::path(base_dir) / dir;
    try {
      c.tls = read_identity(dir.lexically_normal().string());
    } catch (const Error& e) {
      fail("{}: tls: {}", source, e.what());
    }
  }
  if (auto d = root["detector"]) {
    check_fields(d, "detector", {"heartbeat_ms", "timeout_ms", "misses"}, source);
    c.detector.heartbeat_ms = positive_int(d, "heartbeat_ms", "detector", source, c.detector.heartbeat_ms);
    c.detector.timeout_ms = positive_int(d, "timeout_ms", "detector", source, c.detector.timeout_ms);
    c.detector.misses = positive_int(d, "misses", "detector", source, c.detector.misses);
  }

  // The model directory's manifest says what each part predicts.
  const ModelManifest manifest = ModelDirectory(model_dir.string()).read(source);
  if (manifest.variant != variant_name(c.variant))
    fail("{}: variant is '{}' but the model in '{}' was trained as '{}'", source, variant_name(c.variant), c.model_dir,
         manifest.variant);
  auto output_of = [&](const std::string& key) {
    auto it = manifest.outputs.find(key);
    return it == manifest.outputs.end() ? std::string() : it->second;
  };

  if (!root["nodes"] || !root["nodes"].IsSequence() || root["nodes"].size() == 0)
    fail("{}: 'nodes' must list at least one node", source);
  int index = 0;
  for (const auto& n : root["nodes"]) {
    std::string where = "nodes[" + std::to_string(index++) + "]";
    check_fields(n, where, {"name", "address", "part"}, source);
    NodeSpec spec;
    for (const char* key : {"name", "address", "part"})
      if (!n[key]) fail("{}: {}: missing field '{}'", source, where, key);
    spec.name = n["name"].as<std::string>();
    spec.address = n["address"].as<std::string>();
    std::string file = n["part"].as<std::string>();
    spec.part_file = (model_dir / file).lexically_normal().string();
    if (!fs::exists(spec.part_file)) fail("{}: {}: part '{}' not found in '{}'", source, where, file, c.model_dir);
    if (c.variant == Variant::kStatic) {
      spec.key = "stage " + std::to_string(index);
      if (index == static_cast<int>(root["nodes"].size())) spec.prediction = output_of("full");
    } else {
      bool found = false;
      for (const ManifestPart& p : manifest.parts) {
        if (p.file != file) continue;
        found = true;
        spec.key = p.prediction;
        spec.prediction = output_of(spec.key);
        for (const std::string& name : p.output_names())
          if (name != spec.prediction) spec.features = name;
      }
      if (!found) fail("{}: {}: '{}' is not one of the model's parts (see its metrics.json)", source, where, file);
    }
    c.nodes.push_back(std::move(spec));
  }
  for (const ManifestPart& comb : manifest.combiners)
    c.combiners[comb.prediction] = (model_dir / comb.file).lexically_normal().string();
  c.validate();
  return c;
}

}  // namespace

void ClusterConfig::validate() const {
  if (nodes.empty()) fail("{}: 'nodes' must list at least one node", source);
  for (auto [value, name] : {std::pair{max_batch, "max_batch"},
                             {window, "window"},
                             {request_timeout_ms, "request_timeout_ms"},
                             {detector.heartbeat_ms, "heartbeat_ms"},
                             {detector.timeout_ms, "timeout_ms"},
                             {detector.misses, "misses"}})
    if (value <= 0) fail("{}: '{}' must be positive (got {})", source, name, value);
  if (!(latency_target_ms > 0)) fail("{}: 'latency_target_ms' must be positive", source);
  std::set<std::string> names, addresses;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const NodeSpec& n = nodes[i];
    if (n.name.empty() || n.address.empty()) fail("{}: nodes[{}]: a node without a name or address", source, i);
    if (!names.insert(n.name).second) fail("{}: node name '{}' appears twice", source, n.name);
    if (!addresses.insert(n.address).second) fail("{}: address '{}' appears twice", source, n.address);
    if (n.address.find(':') == std::string::npos)
      fail("{}: nodes[{}]: address '{}' needs a port (host:port)", source, i, n.address);
    if (!fs::exists(n.part_file)) fail("{}: nodes[{}]: part '{}' not found", source, i, n.part_file);
  }
  if (variant == Variant::kStatic && nodes.back().prediction.empty())
    fail("{}: the model's metrics.json names no 'full' output for the last stage", source);
  if (variant == Variant::kDynamic) {
    // Device order follows the groups: node i holds group i.
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].key.find(std::to_string(i + 1)) == std::string::npos)
        fail("{}: Dynamic nodes must hold groups in order; nodes[{}] holds '{}'", source, i, nodes[i].key);
  }
}

ClusterConfig parse_cluster_config(const std::string& text, const std::string& source, const std::string& base_dir) {
  try {
    return parse_checked_yaml(text, source, base_dir);
  } catch (const YAML::Exception& e) {
    // What yaml-cpp itself reports (found by fuzz_cluster_yaml: `model:` given a list).
    fail("{}: {} (line {}, column {})", source, e.msg, e.mark.line + 1, e.mark.column + 1);
  }
}

ClusterConfig load_cluster_config(const std::string& path) {
  std::ifstream file(path);
  if (!file) fail("{}: cannot read the cluster file", path);
  std::stringstream text;
  text << file.rdbuf();
  return parse_cluster_config(text.str(), path, fs::path(path).parent_path().string());
}

}  // namespace fluidedge::cluster
