#include "partition/system.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace fluidedge::partition {

int precision_bytes(Precision precision) {
  switch (precision) {
    case Precision::kFp32:
      return 4;
    case Precision::kFp16:
      return 2;
    case Precision::kInt8:
      return 1;
  }
  return 4;
}

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::kFp32:
      return "fp32";
    case Precision::kFp16:
      return "fp16";
    case Precision::kInt8:
      return "int8";
  }
  return "?";
}

Precision parse_precision(const std::string& text, const std::string& where) {
  for (Precision p : {Precision::kFp32, Precision::kFp16, Precision::kInt8})
    if (text == precision_name(p)) return p;
  fail("{}: unknown precision '{}'; expected fp32, fp16 or int8", where, text);
}

const char* objective_name(Objective objective) {
  switch (objective) {
    case Objective::kThroughput:
      return "throughput";
    case Objective::kLatency:
      return "latency";
    case Objective::kEnergy:
      return "energy";
    case Objective::kMemory:
      return "memory";
    case Objective::kLinkBytes:
      return "link_bytes";
  }
  return "?";
}

Objective parse_objective(const std::string& text, const std::string& where) {
  for (Objective o :
       {Objective::kThroughput, Objective::kLatency, Objective::kEnergy, Objective::kMemory, Objective::kLinkBytes})
    if (text == objective_name(o)) return o;
  fail("{}: unknown objective '{}'; expected throughput, latency, energy, memory or link_bytes", where, text);
}

double SystemDescription::memory_limit_bytes(size_t d) const {
  double mb = 0;
  if (d < constraints.max_memory_mb.size() && constraints.max_memory_mb[d] > 0)
    mb = constraints.max_memory_mb[d];
  else if (d < devices.size())
    mb = devices[d].memory_mb;
  return mb * 1024.0 * 1024.0;
}

DeviceProfile load_device_profile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open the device profile", path.string());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", path.string(), e.what());
  }
  DeviceProfile p;
  p.path = path.string();
  try {
    if (!j.is_object()) fail("{}: expected a JSON object with 'nodes'", p.path);
    if (j.contains("device")) p.device = j.at("device").get<std::string>();
    if (j.contains("batch")) p.batch = j.at("batch").get<int>();
    if (j.contains("total_ms")) p.total_ms = j.at("total_ms").get<double>();
    if (j.contains("precision")) p.precision = parse_precision(j.at("precision").get<std::string>(), p.path);
    if (!j.contains("nodes") || !j.at("nodes").is_array()) fail("{}: missing the 'nodes' list", p.path);
    size_t i = 0;
    for (const auto& n : j.at("nodes")) {
      if (!n.contains("name") || !n.contains("ms")) fail("{}: nodes[{}] needs 'name' and 'ms'", p.path, i);
      double ms = n.at("ms").get<double>();
      if (!(ms >= 0) || !std::isfinite(ms)) fail("{}: nodes[{}]: 'ms' must be a finite number >= 0", p.path, i);
      p.node_ms[n.at("name").get<std::string>()] += ms;
      ++i;
    }
  } catch (const nlohmann::json::exception& e) {
    fail("{}: {}", p.path, e.what());
  }
  if (p.batch != 1) fail("{}: profiled at batch {}; the partitioner costs batch 1", p.path, p.batch);
  return p;
}

namespace {

// Walks the YAML tree with the path of the current node, so that every message says where.
class SystemReader {
 public:
  SystemReader(std::string source, std::filesystem::path base_dir)
      : source_(std::move(source)), base_dir_(std::move(base_dir)) {}

  SystemDescription read(const YAML::Node& root);

 private:
  [[noreturn]] void error(const YAML::Node& node, const std::string& where, const std::string& message) const {
    std::string line;
    if (node.IsDefined() && node.Mark().line >= 0) line = fmt::format(" (line {})", node.Mark().line + 1);
    if (where.empty()) fail("{}: {}{}", source_, message, line);
    fail("{}: {}: {}{}", source_, where, message, line);
  }

  // Rejects any key of `map` outside `known`, naming the field and the ones that are valid.
  void check_fields(const YAML::Node& map, const std::string& where, const std::vector<std::string>& known) const {
    if (!map.IsMap()) error(map, where.empty() ? std::string("top level") : where, "expected a mapping of fields");
    for (const auto& kv : map) {
      std::string key = kv.first.as<std::string>();
      if (std::find(known.begin(), known.end(), key) == known.end())
        error(kv.first, where.empty() ? std::string("top level") : where,
              fmt::format("unknown field '{}'; expected one of: {}", key, fmt::join(known, ", ")));
    }
  }

  static std::string join(const std::string& where, const std::string& field) {
    return where.empty() ? field : where + "." + field;
  }

  double number(const YAML::Node& node, const std::string& where) const {
    if (!node.IsScalar()) error(node, where, "expected a number");
    const std::string& text = node.Scalar();
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
      error(node, where, fmt::format("expected a number, got '{}'", text));
    return v;
  }

  double non_negative(const YAML::Node& node, const std::string& where) const {
    double v = number(node, where);
    if (v < 0) error(node, where, fmt::format("must not be negative (got {})", v));
    return v;
  }

  double positive(const YAML::Node& node, const std::string& where) const {
    double v = number(node, where);
    if (v <= 0) error(node, where, fmt::format("must be greater than zero (got {})", v));
    return v;
  }

  std::string string(const YAML::Node& node, const std::string& where) const {
    if (!node.IsScalar() || node.Scalar().empty()) error(node, where, "expected a non-empty string");
    return node.Scalar();
  }

  bool boolean(const YAML::Node& node, const std::string& where) const {
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) error(node, where, "expected true or false");
    return value;
  }

  DeviceSpec read_device(const YAML::Node& node, const std::string& where);
  LinkSpec read_link(const YAML::Node& node, const std::string& where);
  Constraints read_constraints(const YAML::Node& node, size_t devices);

  std::string source_;
  std::filesystem::path base_dir_;
};

DeviceSpec SystemReader::read_device(const YAML::Node& node, const std::string& where) {
  check_fields(node, where,
               {"name", "profile", "peak_gflops", "memory_bandwidth_gbps", "efficiency", "memory_mb", "active_power_w",
                "idle_power_w", "precision"});
  DeviceSpec d;
  if (!node["name"]) error(node, where, "missing 'name'");
  d.name = string(node["name"], join(where, "name"));
  bool has_peak = static_cast<bool>(node["peak_gflops"]);
  bool has_bw = static_cast<bool>(node["memory_bandwidth_gbps"]);
  if (node["profile"]) {
    if (has_peak || has_bw || node["efficiency"])
      error(node, where,
            fmt::format("device '{}' gives both 'profile' and analytic fields (peak_gflops, memory_bandwidth_gbps, "
                        "efficiency); give one cost model",
                        d.name));
    std::filesystem::path path = string(node["profile"], join(where, "profile"));
    if (path.is_relative() && !base_dir_.empty()) path = base_dir_ / path;
    try {
      d.profile = load_device_profile(path);
    } catch (const Error& e) {
      error(node["profile"], join(where, "profile"), e.what());
    }
  } else {
    if (!has_peak && !has_bw)
      error(node, where,
            fmt::format("device '{}' has no cost model; give 'profile: profile.json' or both 'peak_gflops' and "
                        "'memory_bandwidth_gbps'",
                        d.name));
    if (!has_peak) error(node, where, fmt::format("device '{}': missing 'peak_gflops'", d.name));
    if (!has_bw) error(node, where, fmt::format("device '{}': missing 'memory_bandwidth_gbps'", d.name));
    d.peak_gflops = positive(node["peak_gflops"], join(where, "peak_gflops"));
    d.memory_bandwidth_gbps = positive(node["memory_bandwidth_gbps"], join(where, "memory_bandwidth_gbps"));
    if (node["efficiency"]) {
      d.efficiency = positive(node["efficiency"], join(where, "efficiency"));
      if (d.efficiency > 1)
        error(node["efficiency"], join(where, "efficiency"), "is a fraction of peak; must be in (0, 1]");
    }
  }
  if (node["memory_mb"]) d.memory_mb = non_negative(node["memory_mb"], join(where, "memory_mb"));
  if (node["active_power_w"]) d.active_power_w = non_negative(node["active_power_w"], join(where, "active_power_w"));
  if (node["idle_power_w"]) d.idle_power_w = non_negative(node["idle_power_w"], join(where, "idle_power_w"));
  if (d.idle_power_w > d.active_power_w)
    error(node, where, fmt::format("idle_power_w ({}) is above active_power_w ({})", d.idle_power_w, d.active_power_w));
  if (node["precision"]) {
    const std::string field = join(where, "precision");
    d.precision = parse_precision(string(node["precision"], field), source_ + ": " + field);
  }
  if (d.profile && d.profile->precision != d.precision) {
    const char* remedy = d.precision == Precision::kFp16
                             ? "no fluidedge backend runs fp16: describe this device analytically (peak_gflops at fp16)"
                             : "measure it in that precision with `fluidedge profile MODEL --precision {}`";
    error(node, where,
          fmt::format("device '{}' has precision {} but its profile {} was measured in {}; {}", d.name,
                      precision_name(d.precision), d.profile->path, precision_name(d.profile->precision),
                      fmt::format(fmt::runtime(remedy), precision_name(d.precision))));
  }
  return d;
}

LinkSpec SystemReader::read_link(const YAML::Node& node, const std::string& where) {
  check_fields(node, where, {"rate_mbps", "latency_ms", "overhead", "energy_nj_per_bit", "power_w", "bidirectional"});
  LinkSpec l;
  if (!node["rate_mbps"]) error(node, where, "missing 'rate_mbps'");
  l.rate_mbps = positive(node["rate_mbps"], join(where, "rate_mbps"));
  if (node["latency_ms"]) l.latency_ms = non_negative(node["latency_ms"], join(where, "latency_ms"));
  if (node["overhead"]) l.overhead = non_negative(node["overhead"], join(where, "overhead"));
  if (node["energy_nj_per_bit"] && node["power_w"])
    error(node, where, "give either 'energy_nj_per_bit' or 'power_w', not both");
  if (node["energy_nj_per_bit"])
    l.energy_nj_per_bit = non_negative(node["energy_nj_per_bit"], join(where, "energy_nj_per_bit"));
  if (node["power_w"]) l.power_w = non_negative(node["power_w"], join(where, "power_w"));
  if (node["bidirectional"]) l.bidirectional = boolean(node["bidirectional"], join(where, "bidirectional"));
  return l;
}

Constraints SystemReader::read_constraints(const YAML::Node& node, size_t devices) {
  const std::string where = "constraints";
  check_fields(node, where, {"max_memory_mb", "target_fps", "max_latency_ms", "min_accuracy"});
  Constraints c;
  if (const YAML::Node m = node["max_memory_mb"]) {
    if (m.IsSequence()) {
      if (m.size() != devices)
        error(m, "constraints.max_memory_mb",
              fmt::format("{} entries for {} devices; give one per device or a single number", m.size(), devices));
      for (size_t i = 0; i < m.size(); ++i)
        c.max_memory_mb.push_back(positive(m[i], fmt::format("constraints.max_memory_mb[{}]", i)));
    } else {
      c.max_memory_mb.assign(devices, positive(m, "constraints.max_memory_mb"));
    }
  }
  if (node["target_fps"]) c.target_fps = positive(node["target_fps"], "constraints.target_fps");
  if (node["max_latency_ms"]) c.max_latency_ms = positive(node["max_latency_ms"], "constraints.max_latency_ms");
  if (node["min_accuracy"]) {
    c.min_accuracy = non_negative(node["min_accuracy"], "constraints.min_accuracy");
    if (c.min_accuracy > 1) error(node["min_accuracy"], "constraints.min_accuracy", "is a fraction; must be in [0, 1]");
  }
  return c;
}

SystemDescription SystemReader::read(const YAML::Node& root) {
  SystemDescription s;
  s.source = source_;
  if (!root.IsDefined() || root.IsNull()) fail("{}: the file is empty; it needs at least 'devices'", source_);
  check_fields(root, "", {"devices", "links", "constraints", "objectives"});

  const YAML::Node devices = root["devices"];
  if (!devices) error(root, "", "missing 'devices' (the list of devices to partition over)");
  if (!devices.IsSequence() || devices.size() == 0) error(devices, "devices", "expected a non-empty list of devices");
  std::set<std::string> names;
  for (size_t i = 0; i < devices.size(); ++i) {
    DeviceSpec d = read_device(devices[i], fmt::format("devices[{}]", i));
    if (!names.insert(d.name).second)
      error(devices[i], fmt::format("devices[{}]", i), fmt::format("device name '{}' is used twice", d.name));
    s.devices.push_back(std::move(d));
  }

  const size_t wanted = s.devices.size() - 1;
  const YAML::Node links = root["links"];
  if (!links) {
    if (wanted > 0)
      error(root, "", fmt::format("missing 'links' ({} devices need {} links between them)", s.devices.size(), wanted));
  } else if (links.IsMap()) {
    s.links.assign(wanted, read_link(links, "links"));
  } else if (links.IsSequence()) {
    if (links.size() == 1) {
      s.links.assign(wanted, read_link(links[0], "links[0]"));
    } else if (links.size() == wanted) {
      for (size_t i = 0; i < links.size(); ++i) s.links.push_back(read_link(links[i], fmt::format("links[{}]", i)));
    } else {
      error(links, "links",
            fmt::format("{} links for {} devices; give {} (one per consecutive pair of devices) or one for all",
                        links.size(), s.devices.size(), wanted));
    }
  } else {
    error(links, "links", "expected a list of links or a single link");
  }

  if (const YAML::Node c = root["constraints"]) s.constraints = read_constraints(c, s.devices.size());

  if (const YAML::Node o = root["objectives"]) {
    if (!o.IsSequence() || o.size() == 0) error(o, "objectives", "expected a non-empty list of objectives");
    s.objectives.clear();
    for (size_t i = 0; i < o.size(); ++i) {
      std::string where = fmt::format("objectives[{}]", i);
      Objective obj = parse_objective(string(o[i], where), source_ + ": " + where);
      if (std::find(s.objectives.begin(), s.objectives.end(), obj) != s.objectives.end())
        error(o[i], where, fmt::format("objective '{}' is listed twice", objective_name(obj)));
      s.objectives.push_back(obj);
    }
  }
  return s;
}

}  // namespace

SystemDescription parse_system(const std::string& yaml_text, const std::string& source_name,
                               const std::filesystem::path& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    fail("{}: not valid YAML: {} (line {}, column {})", source_name, e.msg, e.mark.line + 1, e.mark.column + 1);
  }
  try {
    return SystemReader(source_name, base_dir).read(root);
  } catch (const YAML::Exception& e) {
    // Structural surprises yaml-cpp itself reports (e.g. a key that is not a scalar).
    fail("{}: {} (line {})", source_name, e.msg, e.mark.line + 1);
  }
}

SystemDescription load_system(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open the system description", path.string());
  std::stringstream text;
  text << in.rdbuf();
  return parse_system(text.str(), path.string(), path.parent_path());
}

}  // namespace fluidedge::partition
