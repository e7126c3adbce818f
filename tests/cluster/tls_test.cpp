// Mutual TLS: what a node refuses (no certificate, one from another CA, an expired one, a
// certificate that names another node), that a refused Deploy never loads, that the node keeps
// serving its authenticated peers, and a Fluid cluster answering over TLS. The checks a node or
// client makes of its own files at start are here too.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "cluster/channel_settings.h"
#include "cluster/coordinator.h"
#include "cluster/protocol/device_node.grpc.pb.h"
#include "cluster/tls.h"
#include "common/error.h"
#include "fluid_harness.h"
#include "node_process.h"

namespace fluidedge::cluster {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::system_clock;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A cluster CA with certificates for dev1, dev2 and a client; another CA with a client of its own.
class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("fluidedge_tls_" + std::to_string(::getpid()));
    make_local_certificates(dir_.string(), {"dev1", "dev2", "client"});
    make_local_certificates((dir_ / "other").string(), {"client"});
    ca_ = read_certificate_authority((dir_ / "ca").string());
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string path(const std::string& name) { return (dir_ / name).string(); }
  // An identity presented as is (read_identity would refuse the bad ones before they are sent).
  static TlsIdentity unchecked(const CertifiedKey& leaf) { return {"", "", ca_.cert_pem, leaf.cert_pem, leaf.key_pem}; }

  static wire::NodeStats stats(const testing::NodeProcess& node, const TlsIdentity& as, grpc::Status* status) {
    auto stub = wire::DeviceNode::NewStub(make_channel(node.address(), as, node.name()));
    grpc::ClientContext context;
    context.set_deadline(system_clock::now() + std::chrono::seconds(5));
    wire::NodeStats reply;
    *status = stub->Stats(&context, wire::StatsRequest(), &reply);
    return reply;
  }

  static fs::path dir_;
  static CertifiedKey ca_;
};
fs::path Tls::dir_;
CertifiedKey Tls::ca_;

TEST_F(Tls, ANodeRefusesPeersWithoutACertificateFromItsCaAndKeepsServing) {
  testing::NodeProcess node = testing::start_node("dev1", "127.0.0.1:0", {"--tls", path("dev1")});
  TlsIdentity client = read_identity(path("client"));
  grpc::Status status;
  stats(node, client, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();

  auto now = system_clock::now();
  const std::vector<std::pair<std::string, TlsIdentity>> strangers = {
      {"no certificate (plaintext)", TlsIdentity{}},
      {"a certificate from another CA", read_identity(path("other/client"))},
      {"an expired certificate", unchecked(issue_certificate(ca_, "client", now - hours(48), now - hours(1)))},
      {"a certificate not yet valid", unchecked(issue_certificate(ca_, "client", now + hours(1), now + hours(48)))},
  };
  for (const auto& [what, identity] : strangers) {
    stats(node, identity, &status);
    EXPECT_FALSE(status.ok()) << what << " was let in";
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << what << ": " << status.error_message();
    // The node still serves its authenticated peers.
    stats(node, client, &status);
    EXPECT_TRUE(status.ok()) << "after " << what << ": " << status.error_message();
  }
}

TEST_F(Tls, AClientRefusesANodeWhoseCertificateNamesAnotherNode) {
  // dev2 answers at the address the client believes is dev1's.
  testing::NodeProcess impostor = testing::start_node("dev2", "127.0.0.1:0", {"--tls", path("dev2")});
  auto stub = wire::DeviceNode::NewStub(make_channel(impostor.address(), read_identity(path("client")), "dev1"));
  grpc::ClientContext context;
  context.set_deadline(system_clock::now() + std::chrono::seconds(5));
  wire::NodeStats reply;
  EXPECT_FALSE(stub->Stats(&context, wire::StatsRequest(), &reply).ok());
}

TEST_F(Tls, ADeployFromAnUnauthenticatedPeerNeverLoads) {
  testing::NodeProcess node = testing::start_node("dev1", "127.0.0.1:0", {"--tls", path("dev1")});
  wire::DeployRequest request;
  request.set_part("intruder");
  request.set_onnx(slurp(testing::model_dir("fluid") / "part1.onnx"));
  for (const TlsIdentity& stranger : {TlsIdentity{}, read_identity(path("other/client"))}) {
    auto stub = wire::DeviceNode::NewStub(make_channel(node.address(), stranger, "dev1"));
    grpc::ClientContext context;
    context.set_deadline(system_clock::now() + std::chrono::seconds(5));
    wire::DeployReply reply;
    EXPECT_FALSE(stub->Deploy(&context, request, &reply).ok());
  }
  grpc::Status status;
  wire::NodeStats s = stats(node, read_identity(path("client")), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(s.parts_size(), 0) << "a part was loaded: " << s.parts(0);
}

TEST_F(Tls, AFluidClusterAnswersOverMutualTls) {
  testing::NodeProcess a = testing::start_node("dev1", "127.0.0.1:0", {"--tls", path("dev1")});
  testing::NodeProcess b = testing::start_node("dev2", "127.0.0.1:0", {"--tls", path("dev2")});
  for (const std::string mode : {"ht", "ha"}) {
    ClusterConfig config =
        testing::make_config("fluid", mode, testing::model_dir("fluid"), {{&a, "part1.onnx"}, {&b, "part2.onnx"}});
    config.tls = read_identity(path("client"));
    Coordinator c(config);
    c.start(10000);
    auto answers = testing::stream(c, 64);
    testing::expect_each_answered_once(answers, 64);
  }
}

// What a node or client checks of its own files when it starts: one clear error each.
TEST_F(Tls, ReadingAnIdentityNamesWhatIsWrong) {
  auto expect_error = [](const std::string& dir, std::vector<std::string> needles) {
    try {
      read_identity(dir);
      ADD_FAILURE() << dir << " was accepted";
    } catch (const Error& e) {
      for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
    }
  };
  expect_error(path("nowhere"), {"nowhere", "not a directory"});

  auto now = system_clock::now();
  write_identity(ca_, issue_certificate(ca_, "old", now - hours(48), now - hours(1)), path("expired"));
  expect_error(path("expired"), {"cert.pem", "expired"});

  CertifiedKey other_ca = read_certificate_authority(path("other/ca"));
  write_identity(ca_, issue_certificate(other_ca, "dev9", now - hours(1), now + hours(1)), path("wrong-ca"));
  expect_error(path("wrong-ca"), {"cert.pem", "issuer"});

  write_identity(ca_, read_certificate_authority(path("ca")), path("wrong-key"));  // a key not the cert's below
  fs::copy_file(path("dev1/cert.pem"), path("wrong-key/cert.pem"), fs::copy_options::overwrite_existing);
  expect_error(path("wrong-key"), {"key.pem", "not the key of"});

  fs::create_directories(path("no-key"));
  fs::copy_file(path("dev1/cert.pem"), path("no-key/cert.pem"));
  fs::copy_file(path("dev1/ca.pem"), path("no-key/ca.pem"));
  expect_error(path("no-key"), {"key.pem", "no such file"});

  EXPECT_EQ(read_identity(path("dev1")).name, "dev1");
  EXPECT_EQ(fs::status(path("dev1/key.pem")).permissions() & fs::perms::group_read, fs::perms::none)
      << "a private key readable by others";
}

}  // namespace
}  // namespace fluidedge::cluster
