// Bad input at the command line: each mistake gives exactly one line on stderr that names the
// thing at fault, a non-zero exit, and nothing on stdout.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "cli_runner.h"
#include "graph/npy.h"

namespace fluidedge {
namespace {

namespace fs = std::filesystem;
using testing::run_cli;

class CliErrors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("fluidedge_errors_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    auto r = run_cli("zoo export paper_cnn --out '" + (dir_ / "good.onnx").string() + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string path(const std::string& name) { return (dir_ / name).string(); }

  // The model as a protobuf, to break it in specific ways.
  static onnx::ModelProto good_model() {
    onnx::ModelProto m;
    std::ifstream in(path("good.onnx"), std::ios::binary);
    EXPECT_TRUE(m.ParseFromIstream(&in));
    return m;
  }
  static void write_model(const onnx::ModelProto& m, const std::string& name) {
    std::ofstream out(path(name), std::ios::binary);
    m.SerializeToOstream(&out);
  }

  // One line on stderr containing every `needle`, non-zero exit, empty stdout.
  static void expect_clear_error(const std::string& args, std::vector<std::string> needles) {
    auto r = run_cli(args);
    EXPECT_NE(r.exit_code, 0) << args;
    auto lines = r.err_lines();
    ASSERT_EQ(lines.size(), 1u) << "stderr of `fluidedge " << args << "`:\n" << r.err;
    for (const auto& n : needles)
      EXPECT_NE(lines[0].find(n), std::string::npos) << "missing '" << n << "' in: " << lines[0];
    EXPECT_EQ(r.out, "") << args;
  }

  static fs::path dir_;
};

fs::path CliErrors::dir_;

TEST_F(CliErrors, QuantizeWithUnknownCalibrationData) {
  expect_clear_error(
      "quantize " + path("good.onnx") + " --calibration " + path("no-such-dir") + " --out " + path("q.onnx"),
      {"no-such-dir", "mnist, fashion-mnist, random or a directory"});
  EXPECT_FALSE(fs::exists(path("q.onnx")));
}

TEST_F(CliErrors, QuantizeOnImagesOfAnotherShape) {
  // MNIST's 1 x 28 x 28 images cannot calibrate a 3 x 224 x 224 model.
  auto r = run_cli("zoo export squeezenet1_1 --out " + path("squeezenet.onnx"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_clear_error("quantize " + path("squeezenet.onnx") + " --calibration mnist --out " + path("q.onnx"),
                     {"mnist", "[1,28,28]", "[3,224,224]"});
  EXPECT_FALSE(fs::exists(path("q.onnx")));
}

TEST_F(CliErrors, QuantizeIntoAMissingDirectory) {
  expect_clear_error("quantize " + path("good.onnx") + " --calibration random --out " + path("nowhere/q.onnx"),
                     {"--out", "nowhere", "does not exist"});
}

TEST_F(CliErrors, QuantizeWithAnUnknownMethod) {
  expect_clear_error("quantize " + path("good.onnx") + " --calibration random --method entropy --out " + path("q.onnx"),
                     {"--method", "entropy"});
}

TEST_F(CliErrors, TruncatedFile) {
  std::string bytes = good_model().SerializeAsString();
  std::ofstream(path("truncated.onnx"), std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 3));
  expect_clear_error("info " + path("truncated.onnx"), {"truncated.onnx", "not a valid ONNX"});
}

// Found by fuzz_onnx: an initializer declaring 4 TB with no data was allocated before its data
// was checked. Now the check comes first, and says what is missing.
TEST_F(CliErrors, InitializerDeclaringMoreThanItHolds) {
  onnx::ModelProto m = good_model();
  auto* init = m.mutable_graph()->mutable_initializer(0);
  init->clear_dims();
  for (int64_t d : {100000, 100000, 100}) init->add_dims(d);
  init->clear_raw_data();
  init->clear_float_data();
  write_model(m, "huge_initializer.onnx");
  expect_clear_error("info " + path("huge_initializer.onnx"),
                     {"'" + init->name() + "'", "needs 4000000000000 bytes", "found 0"});
}

// The same for a .npy whose header declares more than the file holds.
TEST_F(CliErrors, NpyDeclaringMoreThanItHolds) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100), }";
  header += std::string(128 - 10 - header.size() - 1, ' ') + "\n";
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header;
  std::ofstream(path("huge.npy"), std::ios::binary) << bytes;
  expect_clear_error("run " + path("good.onnx") + " --input " + path("huge.npy"),
                     {"huge.npy", "truncated", "needs 4000000000000 bytes"});
}

// Found by fuzz_onnx: an opset-11 Softmax (axis 0) over a scalar indexed the empty shape while
// its legacy axis was rewritten. Now a clear error naming the node and its input.
TEST_F(CliErrors, LegacySoftmaxOfAScalar) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(11);
  auto* g = m.mutable_graph();
  g->set_name("scalar_softmax");
  auto* x = g->add_input();
  x->set_name("x");
  x->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  x->mutable_type()->mutable_tensor_type()->mutable_shape();  // a scalar
  auto* squeeze = g->add_node();
  squeeze->set_op_type("Squeeze");
  squeeze->set_name("squeeze");
  squeeze->add_input("x");
  squeeze->add_output("s");
  auto* softmax = g->add_node();
  softmax->set_op_type("Softmax");
  softmax->set_name("softmax");
  softmax->add_input("s");
  softmax->add_output("y");
  auto* axis = softmax->add_attribute();
  axis->set_name("axis");
  axis->set_type(onnx::AttributeProto::INT);
  axis->set_i(0);
  g->add_output()->set_name("y");
  write_model(m, "scalar_softmax.onnx");
  expect_clear_error("info " + path("scalar_softmax.onnx"), {"softmax", "'s'", "scalar"});
}

TEST_F(CliErrors, NotOnnxFile) {
  std::ofstream(path("notes.onnx")) << "these are my notes, not a model\n";
  expect_clear_error("info " + path("notes.onnx"), {"notes.onnx"});
}

TEST_F(CliErrors, MissingModelFile) {
  expect_clear_error("info " + path("nothing-here.onnx"), {"nothing-here.onnx", "no such file"});
}

TEST_F(CliErrors, MissingInitializer) {
  auto m = good_model();
  std::string removed = m.graph().initializer(0).name();
  m.mutable_graph()->mutable_initializer()->DeleteSubrange(0, 1);
  write_model(m, "missing_init.onnx");
  expect_clear_error("info " + path("missing_init.onnx"),
                     {"missing_init.onnx", "'" + removed + "'", "missing initializer"});
}

TEST_F(CliErrors, UnsupportedOp) {
  auto m = good_model();
  auto* n = m.mutable_graph()->mutable_node(0);
  std::string name = n->name();
  n->set_op_type("DeformConv");
  write_model(m, "unsupported.onnx");
  expect_clear_error("run " + path("unsupported.onnx") + " --random", {"DeformConv", name, "opset 17"});
}

TEST_F(CliErrors, InputOfWrongShape) {
  graph::save_npy(graph::Tensor(graph::DType::kFloat32, {1, 1, 32, 32}), path("wrong_shape.npy"));
  expect_clear_error("run " + path("good.onnx") + " --input " + path("wrong_shape.npy"),
                     {"'input'", "[1,1,32,32]", "[N,1,28,28]"});
}

TEST_F(CliErrors, InputOfWrongDtype) {
  graph::save_npy(graph::Tensor(graph::DType::kInt64, {1, 1, 28, 28}), path("wrong_dtype.npy"));
  expect_clear_error("run " + path("good.onnx") + " --input " + path("wrong_dtype.npy"),
                     {"'input'", "int64", "float32"});
}

TEST_F(CliErrors, MissingInputFile) {
  expect_clear_error("run " + path("good.onnx") + " --input input=" + path("absent.npy"),
                     {"absent.npy", "no such file"});
}

TEST_F(CliErrors, InputNotGiven) { expect_clear_error("run " + path("good.onnx"), {"'input'", "--random"}); }

TEST_F(CliErrors, UnknownInputName) {
  graph::save_npy(graph::Tensor(graph::DType::kFloat32, {1, 1, 28, 28}), path("ok.npy"));
  expect_clear_error("run " + path("good.onnx") + " --input images=" + path("ok.npy"), {"'images'"});
}

TEST_F(CliErrors, InputDirectoryMistakes) {
  expect_clear_error("run " + path("good.onnx") + " --input-dir " + path("no-such-dir"),
                     {"--input-dir", "no-such-dir", "not a directory"});
  fs::create_directories(path("other-stage"));
  graph::save_npy(graph::Tensor(graph::DType::kFloat32, {1, 1, 28, 28}), path("other-stage/features.npy"));
  expect_clear_error("run " + path("good.onnx") + " --input-dir " + path("other-stage"),
                     {"--input-dir", "other-stage", "none of the model's inputs", "'input.npy'"});
}

TEST_F(CliErrors, AmbiguousWrittenInputName) {
  // Two inputs that --output-dir would write to the same file name: --input by that name is refused.
  onnx::ModelProto m = good_model();
  auto* graph = m.mutable_graph();
  graph->mutable_input(0)->set_name("a/b_c");
  *graph->add_input() = graph->input(0);
  graph->mutable_input(1)->set_name("a_b/c");
  for (auto& node : *graph->mutable_node())
    for (auto& in : *node.mutable_input())
      if (in == "input") in = "a/b_c";
  write_model(m, "two_inputs.onnx");
  graph::save_npy(graph::Tensor(graph::DType::kFloat32, {1, 1, 28, 28}), path("ok.npy"));
  expect_clear_error("run " + path("two_inputs.onnx") + " --input a_b_c=" + path("ok.npy"),
                     {"'a_b_c'", "'a/b_c'", "'a_b/c'", "own name"});
}

TEST_F(CliErrors, UnknownFlag) {
  expect_clear_error("run " + path("good.onnx") + " --random --frobnicate", {"--frobnicate"});
  expect_clear_error("info --colour " + path("good.onnx"), {"--colour"});
}

TEST_F(CliErrors, BadFlagValues) {
  expect_clear_error("run " + path("good.onnx") + " --random --threads 0", {"--threads"});
  expect_clear_error("run " + path("good.onnx") + " --random --backend gpu", {"--backend"});
  expect_clear_error("run " + path("good.onnx") + " --random --batch abc", {"--batch"});
}

TEST_F(CliErrors, UnknownZooModel) {
  expect_clear_error("zoo export resnet1000 --out " + path("x.onnx"), {"resnet1000", "resnet18"});
}

TEST_F(CliErrors, UnwritableOutput) {
  expect_clear_error("zoo export lenet5 --out /nonexistent-dir/x.onnx", {"/nonexistent-dir"});
}

TEST_F(CliErrors, NodeCannotListen) {
  // gRPC alone would take port 99999 as 34463, and log its own lines next to ours.
  expect_clear_error("node --insecure --listen 127.0.0.1:99999", {"'127.0.0.1:99999'", "not a number"});
  expect_clear_error("node --insecure --listen 127.0.0.1", {"'127.0.0.1'", "HOST:PORT"});
  expect_clear_error("node --insecure --listen no-such-host.invalid:5000",
                     {"no-such-host.invalid", "does not resolve"});
}

TEST_F(CliErrors, NodePortTaken) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  std::string address = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  // Not shared through SO_REUSEPORT: a second server on a taken port is an error.
  expect_clear_error("node --insecure --listen " + address, {"'" + address + "'", "in use"});
  ::close(fd);
}

// A node authenticates its peers unless told plainly not to, and checks its certificate first.
TEST_F(CliErrors, NodeNeedsTlsOrInsecure) {
  expect_clear_error("node --listen 127.0.0.1:0", {"--tls DIR", "--insecure", "certs issue"});
  expect_clear_error("node --listen 127.0.0.1:0 --tls " + path("no-certs"), {"--tls", "no-certs", "not a directory"});
  expect_clear_error("node --listen 127.0.0.1:0 --tls " + path("x") + " --insecure",
                     {"--tls", "--insecure", "choose one"});
  ASSERT_EQ(run_cli("certs init --out " + path("ca")).exit_code, 0);
  ASSERT_EQ(run_cli("certs issue --ca " + path("ca") + " --name dev1 --out " + path("dev1")).exit_code, 0);
  fs::remove(path("dev1/key.pem"));
  expect_clear_error("node --listen 127.0.0.1:0 --tls " + path("dev1"), {"key.pem", "no such file"});
}

TEST_F(CliErrors, CertsMistakes) {
  expect_clear_error("certs issue --ca " + path("no-ca") + " --name dev1 --out " + path("d"),
                     {"no-ca", "ca.pem", "no such file"});
  ASSERT_EQ(run_cli("certs init --out " + path("ca2")).exit_code, 0);
  expect_clear_error("certs issue --ca " + path("ca2") + " --name 'dev 1' --out " + path("d"),
                     {"--name", "'dev 1'", "DNS name"});
  expect_clear_error("certs issue --ca " + path("ca2") + " --out " + path("d"), {"--name"});
  expect_clear_error("certs", {"subcommand"});
}

TEST_F(CliErrors, NodeCannotPin) {
  expect_clear_error("node --insecure --listen 127.0.0.1:0 --cpu 999", {"--cpu 999", "cannot pin"});
}

// `node --emulate SYSTEM.yaml:DEVICE`: the file, the device and the choice between it and
// --slowdown are each named when wrong.
TEST_F(CliErrors, NodeEmulatedDevice) {
  const std::string node = "node --insecure --listen 127.0.0.1:0 --emulate ";
  expect_clear_error(node + path("no-system.yaml") + ":dev1", {"--emulate", "no-system.yaml"});
  {
    std::ofstream(path("two.yaml")) << "devices:\n  - {name: pi4, peak_gflops: 10, memory_bandwidth_gbps: 4}\n"
                                       "  - {name: pi5, peak_gflops: 30, memory_bandwidth_gbps: 8}\n"
                                       "links:\n  - {rate_mbps: 100}\n";
  }
  expect_clear_error(node + path("two.yaml") + ":pi3", {"--emulate", "no device 'pi3'", "pi4, pi5"});
  expect_clear_error(node + path("two.yaml"), {"--emulate", "FILE:DEVICE", "pi4, pi5"});
  expect_clear_error(node + path("two.yaml") + ":pi4 --slowdown 2", {"--emulate", "--slowdown"});
}

TEST_F(CliErrors, InferClusterFileMissing) {
  expect_clear_error("infer --cluster " + path("no-cluster.yaml"), {"no-cluster.yaml"});
}

TEST_F(CliErrors, InferNodeDown) {
  // A well-formed cluster whose first node never answers: the client names it and gives up
  // after --wait instead of hanging.
  fs::create_directories(dir_ / "model");
  std::ofstream(dir_ / "model" / "metrics.json") << R"({
    "variant": "fluid", "groups": 2,
    "outputs": {"1": "logits_1", "2": "logits_2", "1+2": "combined"},
    "parts": [
      {"file": "part1.onnx", "prediction": "1", "outputs": [{"name": "f1"}, {"name": "logits_1"}]},
      {"file": "part2.onnx", "prediction": "2", "outputs": [{"name": "f2"}, {"name": "logits_2"}]}],
    "combiners": [{"file": "combiner_1+2.onnx", "prediction": "1+2"}]})";
  for (auto f : {"part1.onnx", "part2.onnx", "combiner_1+2.onnx"})
    fs::copy_file(path("good.onnx"), dir_ / "model" / f, fs::copy_options::overwrite_existing);
  std::ofstream(path("down.yaml")) << "variant: fluid\nmode: ht\nmodel: model\nnodes:\n"
                                      "  - {name: a, address: 127.0.0.1:1, part: part1.onnx}\n"
                                      "  - {name: b, address: 127.0.0.1:2, part: part2.onnx}\n";
  expect_clear_error("infer --insecure --cluster " + path("down.yaml") + " --wait 300",
                     {"'a'", "127.0.0.1:1", "300 ms"});
  expect_clear_error("infer --cluster " + path("down.yaml"), {"--tls DIR", "--insecure"});
  expect_clear_error("infer --cluster " + path("down.yaml") + " --tls " + path("no-certs"), {"--tls", "no-certs"});
}

TEST_F(CliErrors, NoSubcommand) {
  auto r = run_cli("");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err_lines().size(), 1u) << r.err;
}

// The partitioner's command line: each mistake names the file, flag or constraint at fault.
class PartitionCliErrors : public CliErrors {
 protected:
  static std::string example(const std::string& name) {
    return std::string(FLUIDEDGE_SOURCE_DIR) + "/examples/" + name;
  }
  static std::string write(const std::string& name, const std::string& text) {
    std::ofstream(path(name)) << text;
    return path(name);
  }
  // Two analytic boards, the start of a system file the tests then break.
  static constexpr const char* kTwoBoards =
      "devices:\n  - {name: a, peak_gflops: 10, memory_bandwidth_gbps: 4}\n"
      "  - {name: b, peak_gflops: 10, memory_bandwidth_gbps: 4}\n";
};

TEST_F(PartitionCliErrors, MissingModel) {
  expect_clear_error(
      "partition " + path("no-model.onnx") + " --system " + example("two_boards_1gbe.yaml") + " --out " + path("p1"),
      {"no-model.onnx"});
  expect_clear_error("partition zoo:resnet9000 --system " + example("two_boards_1gbe.yaml") + " --out " + path("p1"),
                     {"resnet9000"});
}

TEST_F(PartitionCliErrors, BadSystemYaml) {
  std::string yaml =
      write("typo.yaml", "devices:\n  - {name: a, peak_gflops: 10, memory_bandwidth_gbps: 4, memroy_mb: 512}\n");
  expect_clear_error("partition " + path("good.onnx") + " --system " + yaml + " --out " + path("p2"),
                     {"typo.yaml", "memroy_mb", "unknown field"});
  std::string negative = write("negative.yaml", std::string(kTwoBoards) + "links:\n  - {rate_mbps: -100}\n");
  expect_clear_error("partition " + path("good.onnx") + " --system " + negative + " --out " + path("p2"),
                     {"negative.yaml", "rate_mbps"});
  expect_clear_error("partition " + path("good.onnx") + " --system " + path("absent.yaml") + " --out " + path("p2"),
                     {"absent.yaml"});
  std::string profiled = write("profiled.yaml", "devices:\n  - {name: a, profile: nowhere.json}\n");
  expect_clear_error("partition " + path("good.onnx") + " --system " + profiled + " --out " + path("p2"),
                     {"profiled.yaml", "nowhere.json"});
}

TEST_F(PartitionCliErrors, UnwritableOut) {
  write("a-file", "not a directory\n");
  expect_clear_error("partition " + path("good.onnx") + " --system " + example("two_boards_1gbe.yaml") + " --out " +
                         path("a-file/plans"),
                     {"--out", "a-file/plans"});
  expect_clear_error("profile " + path("good.onnx") + " --out " + path("no-such-dir/profile.json"),
                     {"--out", "no-such-dir"});
}

TEST_F(PartitionCliErrors, UnknownObjectiveAndOptionValues) {
  std::string base =
      "partition " + path("good.onnx") + " --system " + example("two_boards_1gbe.yaml") + " --out " + path("p3");
  expect_clear_error(base + " --objectives throughput,speed", {"--objectives", "'speed'", "throughput"});
  expect_clear_error(base + " --choose cheapness", {"--choose", "'cheapness'"});
  expect_clear_error(base + " --transfer fp8", {"--transfer", "'fp8'"});
  expect_clear_error(base + " --algorithm genetic", {"--algorithm", "'genetic'"});
  expect_clear_error(base + " --accuracy-data " + path("no-dataset"), {"no-dataset"});
}

TEST_F(PartitionCliErrors, EmptyFrontNamesTheConstraint) {
  std::string tiny = write(
      "tiny.yaml", std::string(kTwoBoards) + "links:\n  - {rate_mbps: 100}\nconstraints:\n  max_memory_mb: 0.01\n");
  expect_clear_error("partition " + path("good.onnx") + " --system " + tiny + " --out " + path("p4"),
                     {"tiny.yaml", "no plan", "max_memory_mb"});
  std::string slow =
      write("slow_link.yaml",
            std::string(kTwoBoards) + "links:\n  - {rate_mbps: 100}\nconstraints:\n  max_latency_ms: 0.0001\n");
  expect_clear_error("partition " + path("good.onnx") + " --system " + slow + " --out " + path("p5"),
                     {"slow_link.yaml", "max_latency_ms"});
  // A min_accuracy no plan could reach is a mistake in the file itself.
  std::string strict = write("strict.yaml",
                             "devices:\n  - {name: a, peak_gflops: 10, memory_bandwidth_gbps: 4}\n"
                             "constraints:\n  min_accuracy: 1.5\n");
  expect_clear_error("partition " + path("good.onnx") + " --system " + strict + " --out " + path("p6"),
                     {"strict.yaml", "min_accuracy"});
}

TEST_F(PartitionCliErrors, BenchPartitionOptions) {
  expect_clear_error("bench partition --models resnet9000 --out " + path("b"), {"--models", "resnet9000"});
  expect_clear_error("bench partition --slowdowns 0.5,1 --out " + path("b"), {"--slowdowns", "0.5"});
  expect_clear_error("bench partition --slowdowns 1,2,3 --out " + path("b"), {"--slowdowns", "two values"});
  expect_clear_error("bench partition --precision fp16,int8 --out " + path("b"), {"--precision fp16", "fp32 or int8"});
  expect_clear_error("bench partition --precision int8 --out " + path("b"), {"--precision", "two values"});
  expect_clear_error("bench partition --precision fp32,int4 --out " + path("b"), {"--precision", "'int4'"});
}

TEST_F(PartitionCliErrors, ProfilePrecisionNoBackendHere) {
  expect_clear_error("profile " + path("good.onnx") + " --precision fp16 --out " + path("p.json"),
                     {"--precision fp16", "analytically"});
  expect_clear_error("profile " + path("good.onnx") + " --precision int4 --out " + path("p.json"),
                     {"--precision", "'int4'"});
  EXPECT_FALSE(fs::exists(path("p.json"))) << "a refused profile wrote its file";
}

TEST_F(PartitionCliErrors, ADevicesPrecisionMustBeItsProfiles) {
  write("fp32.json", R"({"batch": 1, "nodes": [{"name": "conv", "ms": 2}]})");
  std::string yaml = write("int8-device.yaml", "devices:\n  - {name: b, profile: fp32.json, precision: int8}\n");
  expect_clear_error("partition " + path("good.onnx") + " --system " + yaml + " --out " + path("p7"),
                     {"int8-device.yaml", "device 'b'", "measured in fp32", "--precision int8"});
}

}  // namespace
}  // namespace fluidedge
