// Coordination on the nodes (protocol/gateway.proto). Every device node also runs a Gateway: a
// client sets its cluster up there (cluster.yaml as parsed plus the model files), and the node
// then keeps a coordinator for it - connected to every node, parts deployed, failure detector
// running - and serves the client's request stream through it. A client sets the cluster up on
// every node it knows, so each is a hot standby; no node is a single point of failure.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "cluster/cluster_config.h"
#include "cluster/protocol/gateway.grpc.pb.h"

namespace fluidedge::cluster {

class Coordinator;

// The cluster as a message: the config's settings and every file it names (parts, combiners),
// by file name. Throws Error naming a file that cannot be read.
wire::ClusterSpec to_spec(const ClusterConfig& config);
// A spec's fingerprint (hex): the id requests name the cluster by.
std::string fingerprint(const wire::ClusterSpec& spec);
// The config a node coordinates with: files written into `dir`; every field checked (a spec is
// untrusted input), Error naming the field otherwise.
ClusterConfig from_spec(const wire::ClusterSpec& spec, const std::filesystem::path& dir, const std::string& source);

class Gateway final : public wire::Gateway::Service {
 public:
  // `tls`: what the coordinators it runs present to the other nodes (the node's own identity).
  Gateway(std::string node_name, TlsIdentity tls);
  ~Gateway() override;
  // Stops every coordinator. Requests they held are not answered: the streams end, and the
  // clients re-send them to another node.
  void stop();

  grpc::Status Setup(grpc::ServerContext* context, const wire::SetupRequest* request, wire::SetupReply* reply) override;
  grpc::Status Serve(grpc::ServerContext* context,
                     grpc::ServerReaderWriter<wire::ClientAnswer, wire::ClientRequest>* stream) override;

 private:
  std::shared_ptr<Coordinator> find(const std::string& cluster);
  // Stops the coordinators no client has used for 10 minutes (their clients are gone).
  void drop_idle();

  std::string node_name_;
  TlsIdentity tls_;
  std::filesystem::path work_dir_;  // model files of the clusters set up here
  std::mutex setup_mutex_;          // one setup at a time
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Coordinator>> clusters_;
  std::map<std::string, std::chrono::steady_clock::time_point> last_used_;
  bool stopping_ = false;
};

}  // namespace fluidedge::cluster
