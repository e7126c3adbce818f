// The device node: the daemon an edge device runs. It holds the model parts deployed to it, runs
// them on a lean backend (fast or xnnpack; one worker, its own core), batches queued requests of
// the same part into one run (adaptive micro-batching: the busier it is, the larger the batch),
// answers the standard gRPC health check, and emulates its network link and a slower CPU when
// asked. This is the gRPC service; its queue and micro-batching are micro_batcher.h, its
// emulated speed speed_emulator.h, its link link_emulator.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cluster/link_emulator.h"
#include "cluster/tls.h"
#include "graph/graph.h"

namespace fluidedge::cluster {

// A declared device the node emulates (`fluidedge node --emulate`): given a part as deployed, the
// time in ms that device takes for a batch of `rows` of it. The node runs the part on its own CPU
// and waits out the rest, so what the cluster sees is that device's speed, whatever this host is
// doing at the moment; a run that alone takes longer is counted as an overrun.
struct EmulatedDevice {
  std::string description;  // for the start line and the stats: "dev1 of system.yaml (4 GFLOP/s ...)"
  std::function<std::function<double(int64_t rows)>(const graph::Graph& part)> part_timer;

  explicit operator bool() const { return static_cast<bool>(part_timer); }
};

struct NodeOptions {
  std::string name = "node";
  std::string listen = "127.0.0.1:0";  // port 0: any free port (see DeviceNode::address)
  LinkSettings link;                   // applied to what arrives and to what leaves
  double slowdown = 1.0;               // >1: emulate a CPU this many times slower than this core at its best
  EmulatedDevice emulate;              // set: emulate that device instead (exclusive with slowdown)
  std::string backend;                 // fast or xnnpack; empty: runtime::default_backend()
  int threads = 1;                     // backend threads per run
  int max_batch = 8;                   // default micro-batching limit of a part
  TlsIdentity tls;                     // mutual TLS (every peer's certificate checked); empty: plaintext
  // Bounds: requests admitted (on the emulated link or queued) beyond these are answered
  // RESOURCE_EXHAUSTED at once, so a flood costs the node no memory beyond them.
  int max_queue = 1024;                 // requests
  int64_t max_queue_bytes = 256 << 20;  // their serialized bytes
  int64_t max_model_bytes = 1LL << 30;  // a part deployed (inline or by path)
  int max_streams_per_peer = 64;        // concurrent Infer streams from one peer (certificate name, or host)
};

class DeviceNode {
 public:
  // Binds and starts serving; throws Error if the address cannot be bound.
  explicit DeviceNode(NodeOptions options);
  ~DeviceNode();
  DeviceNode(const DeviceNode&) = delete;
  DeviceNode& operator=(const DeviceNode&) = delete;

  // "host:port" as bound (the real port when the options asked for port 0).
  std::string address() const;
  const NodeOptions& options() const;

  // Stops accepting work: health turns NOT_SERVING, streams are closed after at most
  // `grace_ms`, queued requests are dropped (their senders see the stream end and re-issue).
  void shutdown(int grace_ms = 1000);
  // Blocks until shutdown() has completed.
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A one-line description of the settings, printed at start: "name at addr: fast backend,
// 1 thread, link 100 Mbit/s + 1 ms each way, CPU slowdown 1x".
std::string describe(const NodeOptions& options, const std::string& address);

}  // namespace fluidedge::cluster
