// system.yaml: the shipped examples load, and every mistake a user can make in the file ends
// in one Error that names the file and the offending field.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/error.h"
#include "partition/system.h"

namespace fluidedge::partition {
namespace {

const std::string kTwoDevices = R"(
devices:
  - name: a
    peak_gflops: 10
    memory_bandwidth_gbps: 4
  - name: b
    peak_gflops: 20
    memory_bandwidth_gbps: 8
    efficiency: 0.4
    memory_mb: 512
    active_power_w: 5
    idle_power_w: 2
    precision: fp16
links:
  - rate_mbps: 100
    latency_ms: 0.5
    overhead: 0.05
    power_w: 0.3
)";

// The message of the Error `yaml` raises, or "" if it parses (profiles relative to `base_dir`).
std::string parse_error(const std::string& yaml, const std::filesystem::path& base_dir = {}) {
  try {
    parse_system(yaml, "system.yaml", base_dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(SystemYaml, ParsesDevicesLinksAndDefaults) {
  SystemDescription s = parse_system(kTwoDevices, "system.yaml");
  ASSERT_EQ(s.devices.size(), 2u);
  ASSERT_EQ(s.links.size(), 1u);
  EXPECT_EQ(s.devices[0].name, "a");
  EXPECT_TRUE(s.devices[0].analytic());
  EXPECT_DOUBLE_EQ(s.devices[0].efficiency, 0.5);  // the default
  EXPECT_DOUBLE_EQ(s.devices[1].efficiency, 0.4);
  EXPECT_EQ(s.devices[1].precision, Precision::kFp16);
  EXPECT_DOUBLE_EQ(s.memory_limit_bytes(1), 512.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(s.memory_limit_bytes(0), 0.0);  // none stated
  EXPECT_DOUBLE_EQ(s.links[0].rate_mbps, 100);
  EXPECT_DOUBLE_EQ(s.links[0].overhead, 0.05);
  EXPECT_TRUE(s.links[0].bidirectional);
  EXPECT_EQ(s.objectives, (std::vector<Objective>{Objective::kThroughput, Objective::kLatency, Objective::kEnergy}));
}

TEST(SystemYaml, OneLinkAppliesToAllAndConstraintsOverrideMemory) {
  SystemDescription s = parse_system(R"(
devices:
  - {name: a, peak_gflops: 1, memory_bandwidth_gbps: 1, memory_mb: 100}
  - {name: b, peak_gflops: 1, memory_bandwidth_gbps: 1}
  - {name: c, peak_gflops: 1, memory_bandwidth_gbps: 1}
links: {rate_mbps: 1000, energy_nj_per_bit: 2, bidirectional: false}
constraints: {max_memory_mb: 50, target_fps: 30, max_latency_ms: 100}
objectives: [latency, memory, link_bytes]
)",
                                     "system.yaml");
  ASSERT_EQ(s.links.size(), 2u);
  EXPECT_DOUBLE_EQ(s.links[1].rate_mbps, 1000);
  EXPECT_DOUBLE_EQ(s.links[1].energy_nj_per_bit, 2);
  EXPECT_FALSE(s.links[1].bidirectional);
  EXPECT_DOUBLE_EQ(s.memory_limit_bytes(0), 50.0 * 1024 * 1024);  // the constraint wins
  EXPECT_DOUBLE_EQ(s.constraints.target_fps, 30);
  EXPECT_EQ(s.objectives, (std::vector<Objective>{Objective::kLatency, Objective::kMemory, Objective::kLinkBytes}));
}

TEST(SystemYaml, UnknownFieldIsNamedWithItsPlace) {
  std::string yaml = kTwoDevices;
  yaml.replace(yaml.find("peak_gflops: 20"), 15, "peak_glops: 20");
  std::string msg = parse_error(yaml);
  EXPECT_NE(msg.find("system.yaml: devices[1]: unknown field 'peak_glops'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("peak_gflops"), std::string::npos) << msg;  // the valid names are listed

  msg = parse_error(kTwoDevices + "constraints: {target_fsp: 3}\n");
  EXPECT_NE(msg.find("system.yaml: constraints: unknown field 'target_fsp'"), std::string::npos) << msg;
  msg = parse_error(kTwoDevices + "link: []\n");
  EXPECT_NE(msg.find("unknown field 'link'"), std::string::npos) << msg;
  std::string bad_link = kTwoDevices;
  bad_link.replace(bad_link.find("latency_ms"), 10, "latncy_ms");
  msg = parse_error(bad_link);
  EXPECT_NE(msg.find("system.yaml: links[0]: unknown field 'latncy_ms'"), std::string::npos) << msg;
}

TEST(SystemYaml, MissingDevicesOrCostModelIsAnError) {
  std::string msg = parse_error("links: []\n");
  EXPECT_NE(msg.find("system.yaml"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing 'devices'"), std::string::npos) << msg;
  msg = parse_error("devices: []\n");
  EXPECT_NE(msg.find("non-empty list of devices"), std::string::npos) << msg;
  msg = parse_error("");
  EXPECT_NE(msg.find("system.yaml: the file is empty"), std::string::npos) << msg;
  msg = parse_error("devices:\n  - name: lonely\n    memory_mb: 100\n");
  EXPECT_NE(msg.find("devices[0]: device 'lonely' has no cost model"), std::string::npos) << msg;
  msg = parse_error("devices:\n  - name: half\n    peak_gflops: 3\n");
  EXPECT_NE(msg.find("missing 'memory_bandwidth_gbps'"), std::string::npos) << msg;
}

TEST(SystemYaml, BadNumbersAreErrors) {
  std::string yaml = kTwoDevices;
  yaml.replace(yaml.find("rate_mbps: 100"), 14, "rate_mbps: -100");
  std::string msg = parse_error(yaml);
  EXPECT_NE(msg.find("system.yaml: links[0].rate_mbps: must be greater than zero"), std::string::npos) << msg;

  yaml = kTwoDevices;
  yaml.replace(yaml.find("rate_mbps: 100"), 14, "rate_mbps: 0");
  EXPECT_NE(parse_error(yaml).find("links[0].rate_mbps: must be greater than zero"), std::string::npos);

  yaml = kTwoDevices;
  yaml.replace(yaml.find("latency_ms: 0.5"), 15, "latency_ms: -1");
  msg = parse_error(yaml);
  EXPECT_NE(msg.find("links[0].latency_ms: must not be negative"), std::string::npos) << msg;

  yaml = kTwoDevices;
  yaml.replace(yaml.find("memory_mb: 512"), 14, "memory_mb: lots");
  msg = parse_error(yaml);
  EXPECT_NE(msg.find("devices[1].memory_mb: expected a number, got 'lots'"), std::string::npos) << msg;

  yaml = kTwoDevices;
  yaml.replace(yaml.find("efficiency: 0.4"), 15, "efficiency: 40");
  EXPECT_NE(parse_error(yaml).find("devices[1].efficiency"), std::string::npos);
}

TEST(SystemYaml, WrongLinkCountIsAnError) {
  std::string three = R"(
devices:
  - {name: a, peak_gflops: 1, memory_bandwidth_gbps: 1}
  - {name: b, peak_gflops: 1, memory_bandwidth_gbps: 1}
  - {name: c, peak_gflops: 1, memory_bandwidth_gbps: 1}
  - {name: d, peak_gflops: 1, memory_bandwidth_gbps: 1}
links:
  - {rate_mbps: 100}
  - {rate_mbps: 100}
)";
  std::string msg = parse_error(three);
  EXPECT_NE(msg.find("system.yaml: links: 2 links for 4 devices; give 3"), std::string::npos) << msg;
  msg = parse_error(
      "devices:\n  - {name: a, peak_gflops: 1, memory_bandwidth_gbps: 1}\n"
      "  - {name: b, peak_gflops: 1, memory_bandwidth_gbps: 1}\n");
  EXPECT_NE(msg.find("missing 'links'"), std::string::npos) << msg;
}

TEST(SystemYaml, SyntaxAndOtherMistakes) {
  std::string msg = parse_error("devices: [ {name: a\n");
  EXPECT_NE(msg.find("system.yaml: not valid YAML"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line"), std::string::npos) << msg;
  msg = parse_error(kTwoDevices + "objectives: [throughput, speed]\n");
  EXPECT_NE(msg.find("objectives[1]: unknown objective 'speed'"), std::string::npos) << msg;
  std::string dup = kTwoDevices;
  dup.replace(dup.find("name: b"), 7, "name: a");
  EXPECT_NE(parse_error(dup).find("device name 'a' is used twice"), std::string::npos);
  std::string prec = kTwoDevices;
  prec.replace(prec.find("precision: fp16"), 15, "precision: fp64");
  EXPECT_NE(parse_error(prec).find("unknown precision 'fp64'"), std::string::npos);
  std::string flag = kTwoDevices + "    bidirectional: maybe\n";
  msg = parse_error(flag);
  EXPECT_NE(msg.find("links[0].bidirectional: expected true or false"), std::string::npos) << msg;
  msg = parse_error(kTwoDevices + "constraints: {max_memory_mb: [1, 2, 3]}\n");
  EXPECT_NE(msg.find("constraints.max_memory_mb: 3 entries for 2 devices"), std::string::npos) << msg;
}

TEST(SystemYaml, ProfiledDeviceLoadsItsProfile) {
  auto dir = std::filesystem::temp_directory_path() / "fluidedge_system_test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream p(dir / "dev.json");
    p << R"({"device": "board", "batch": 1, "nodes": [{"name": "conv1", "op": "Conv", "ms": 1.5},
            {"name": "relu1", "op": "Relu", "ms": 0.25}], "total_ms": 1.75})";
    std::ofstream y(dir / "system.yaml");
    y << "devices:\n  - name: board\n    profile: dev.json\n    memory_mb: 64\n";
  }
  SystemDescription s = load_system(dir / "system.yaml");
  ASSERT_TRUE(s.devices[0].profile.has_value());
  EXPECT_FALSE(s.devices[0].analytic());
  EXPECT_DOUBLE_EQ(s.devices[0].profile->node_ms.at("conv1"), 1.5);
  EXPECT_DOUBLE_EQ(s.devices[0].profile->node_ms.at("relu1"), 0.25);
  EXPECT_TRUE(s.links.empty());

  std::string msg = parse_error("devices:\n  - {name: x, profile: /nonexistent/p.json}\n");
  EXPECT_NE(msg.find("devices[0].profile"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot open"), std::string::npos) << msg;
  msg = parse_error("devices:\n  - {name: x, profile: p.json, peak_gflops: 3}\n");
  EXPECT_NE(msg.find("both 'profile' and analytic fields"), std::string::npos) << msg;
  std::filesystem::remove_all(dir);
}

TEST(SystemYaml, AProfileCostsOnlyADeviceOfItsPrecision) {
  auto dir = std::filesystem::temp_directory_path() / ("fluidedge_precision_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "int8.json") << R"({"batch": 1, "precision": "int8", "nodes": [{"name": "conv", "ms": 0.5}]})";
  std::ofstream(dir / "fp32.json") << R"({"batch": 1, "nodes": [{"name": "conv", "ms": 2}]})";
  std::ofstream(dir / "int4.json") << R"({"batch": 1, "precision": "int4", "nodes": []})";
  auto load = [&](const std::string& device) {
    return parse_system("devices:\n  - " + device + "\n", "system.yaml", dir);
  };
  auto error_of = [&](const std::string& device) { return parse_error("devices:\n  - " + device + "\n", dir); };
  SystemDescription s = load("{name: b, profile: int8.json, precision: int8}");
  EXPECT_EQ(s.devices[0].profile->precision, Precision::kInt8);
  // A profile without the field was measured in fp32 (every profile before the field existed).
  EXPECT_EQ(load("{name: b, profile: fp32.json}").devices[0].profile->precision, Precision::kFp32);

  std::string msg = error_of("{name: b, profile: fp32.json, precision: int8}");
  for (const char* part : {"system.yaml", "device 'b'", "precision int8", "measured in fp32", "--precision int8"})
    EXPECT_NE(msg.find(part), std::string::npos) << part << " in: " << msg;
  msg = error_of("{name: b, profile: int8.json}");
  EXPECT_NE(msg.find("measured in int8"), std::string::npos) << msg;
  msg = error_of("{name: b, profile: fp32.json, precision: fp16}");
  EXPECT_NE(msg.find("describe this device analytically"), std::string::npos) << msg;
  msg = error_of("{name: b, profile: int4.json}");
  EXPECT_NE(msg.find("int4.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'int4'"), std::string::npos) << msg;
  std::filesystem::remove_all(dir);
}

TEST(SystemYaml, ShippedExamplesLoad) {
  for (const char* name :
       {"two_boards_100mbit.yaml", "two_boards_1gbe.yaml", "three_boards.yaml", "four_boards.yaml"}) {
    SCOPED_TRACE(name);
    SystemDescription s = load_system(std::filesystem::path(FLUIDEDGE_SOURCE_DIR) / "examples" / name);
    EXPECT_GE(s.devices.size(), 2u);
    EXPECT_EQ(s.links.size(), s.devices.size() - 1);
    // Heterogeneous: not every device is the same board.
    bool differ = false;
    for (const auto& d : s.devices) differ |= d.peak_gflops != s.devices[0].peak_gflops;
    EXPECT_TRUE(differ);
  }
  EXPECT_EQ(load_system(std::filesystem::path(FLUIDEDGE_SOURCE_DIR) / "examples/three_boards.yaml").devices.size(), 3u);
  EXPECT_EQ(load_system(std::filesystem::path(FLUIDEDGE_SOURCE_DIR) / "examples/four_boards.yaml").devices.size(), 4u);
}

}  // namespace
}  // namespace fluidedge::partition
