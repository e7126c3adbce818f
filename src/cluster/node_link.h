// The coordinator's connection to one device node: deploy, a long-lived Infer stream, and a
// FailureDetector on the node's health service (on a connection of its own); a failed probe or
// a broken stream marks the node down at once, and probing goes on, so a node that comes back
// is reported up again (rejoin).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/failure_detector.h"
#include "cluster/protocol/device_node.grpc.pb.h"
#include "cluster/protocol/health.grpc.pb.h"
#include "cluster/tls.h"

namespace fluidedge::cluster {

struct NodeLinkEvents {
  std::function<void(const wire::InferReply&)> reply;   // from the link's reader thread
  std::function<void(const std::string& reason)> down;  // once per up -> down
  std::function<void()> up;                             // once per down -> up (first time too)
};

class NodeLink {
 public:
  // `tls`: the identity presented to the node (whose certificate must name `name`); empty: plaintext.
  NodeLink(std::string name, std::string address, DetectorSettings detector, NodeLinkEvents events,
           const TlsIdentity& tls = {});
  ~NodeLink();
  NodeLink(const NodeLink&) = delete;
  NodeLink& operator=(const NodeLink&) = delete;

  const std::string& name() const { return name_; }
  const std::string& address() const { return address_; }

  // Starts probing; `up` fires when the node first answers.
  void start();
  void stop();

  // Unary calls with a deadline; throw Error naming the node on failure.
  wire::DeployReply deploy(const wire::DeployRequest& request, int timeout_ms);
  wire::NodeStats stats(int timeout_ms);

  // Opens a fresh Infer stream (closing any previous one). Call after `up` and deploy.
  void open_stream();
  // Queues a request on the current stream; false if the node is down or has no stream.
  bool send(wire::InferRequest request);

  bool is_up() const { return up_.load(); }
  // Marks the node down now (e.g. a request deadline passed); probing decides when it is back.
  void mark_down(const std::string& reason);

 private:
  struct Stream;
  void probed(const std::string& why);
  void stream_ended(const std::shared_ptr<Stream>& stream, const std::string& reason);

  std::string name_, address_;
  DetectorSettings detector_;
  NodeLinkEvents events_;
  std::shared_ptr<grpc::Channel> channel_;
  std::shared_ptr<grpc::Channel> probe_channel_;
  std::unique_ptr<wire::DeviceNode::Stub> stub_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;

  std::mutex mutex_;
  std::shared_ptr<Stream> stream_;
  std::vector<std::shared_ptr<Stream>> retired_;
  std::atomic<bool> up_{false};
  FailureDetector prober_;
};

}  // namespace fluidedge::cluster
