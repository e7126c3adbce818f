// The failure detector DESIGN names: a thread that probes a node's gRPC health service every
// `heartbeat_ms`, each probe bounded by `timeout_ms`, and reports the outcomes. Used by the
// coordinator's node links (up/down and rejoin) and by the gateway client (is the coordinating
// node still there?), so a node that stops answering is found even when no request is in
// flight. Success is reported at every probe; failure once `misses` probes in a row failed, so
// a node that stalls for a moment (a loaded board, a busy core) is not taken for a dead one:
// each false "down" costs the node's part a redeploy and HA its accuracy meanwhile. A frozen
// node or a cut link is found within one period plus `misses` deadlines; a killed one sooner,
// its probes being refused at once (and its Infer stream, which the node link watches, breaks
// at once).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "cluster/protocol/health.grpc.pb.h"

namespace fluidedge::cluster {

struct DetectorSettings {
  int heartbeat_ms = 20;  // probe period
  int timeout_ms = 60;    // deadline of one probe
  int misses = 3;         // failed probes in a row before a failure is reported
};

class FailureDetector {
 public:
  // The stub to probe at this beat, or nullptr to skip it (nothing to watch yet).
  using Target = std::function<grpc::health::v1::Health::Stub*()>;
  // The outcome of a probe: `why` is empty when the node answered SERVING.
  using Report = std::function<void(const std::string& why)>;

  // `after_beat`, if given, runs after every beat, probed or skipped (periodic chores).
  FailureDetector(DetectorSettings settings, Target target, Report report, std::function<void()> after_beat = {});
  ~FailureDetector();
  FailureDetector(const FailureDetector&) = delete;
  FailureDetector& operator=(const FailureDetector&) = delete;

  // Starts the beats (the first at once); stop() ends them and joins the thread.
  void start();
  void stop();

  // One probe of `stub`, bounded by `timeout_ms`: empty when it answered SERVING, else why not.
  static std::string probe(grpc::health::v1::Health::Stub& stub, int timeout_ms);

 private:
  void run();

  DetectorSettings settings_;
  Target target_;
  Report report_;
  std::function<void()> after_beat_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace fluidedge::cluster
