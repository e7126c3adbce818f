// How a coordinator serves requests, one policy per variant: Fluid (HT: one member per
// request; HA: every live member, joined by the combiner of the live subset; auto: between the
// two by load), and chains (Static: a pipeline that needs every stage; Dynamic: group 1, then
// later groups on its activations, answering with the groups still alive). A policy decides;
// its coordinator acts (sends, answers, fails, combines) through DispatchActions, so each
// policy is tested without gRPC or threads.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "cluster/cluster_config.h"
#include "cluster/membership.h"
#include "cluster/request_book.h"

namespace fluidedge::cluster {

// What a policy asks of its coordinator. Called under the coordinator's lock; answers,
// failures and combinations complete the request after the lock is released.
class DispatchActions {
 public:
  virtual ~DispatchActions() = default;
  // Sends `inputs` to member m for `req`, asking for the outputs `wanted`; m then holds the
  // request. False if m's link is down (m is then no longer ready).
  virtual bool send(Request& req, int m, const runtime::TensorMap& inputs, const std::vector<std::string>& wanted) = 0;
  // Answers `req` with `answer`'s prediction and produced_by.
  virtual void answer(Request& req, Answer answer) = 0;
  virtual void fail(Request& req, const std::string& error) = 0;
  // Answers `req` with the combiner at `combiner_path` (the sub-networks `key`) run on `features`.
  virtual void combine(Request& req, const std::string& key, const std::string& combiner_path,
                       runtime::TensorMap features) = 0;
  // Puts `req` back at the head of the queue.
  virtual void requeue(Request& req) = 0;
};

// What the coordinator tells a policy about load when it dispatches.
struct Load {
  size_t backlog = 0;     // requests queued
  double latency_ms = 0;  // answers' latency, smoothed
};

enum class Dispatch {
  kSent,     // on its way: off the queue
  kBlocked,  // no room now: stays at the head
  kDone,     // answered or failed without sending: off the queue
};

// Auto mode's choice, with hysteresis: HA until the backlog passes one micro-batch per ready
// member or the latency passes the target; back to HA once the queue is (nearly) empty and the
// latency under half the target.
class AutoMode {
 public:
  AutoMode(double latency_target_ms, int max_batch) : target_ms_(latency_target_ms), max_batch_(max_batch) {}
  DispatchMode choose(const Load& load, int ready_members);

 private:
  double target_ms_;
  int max_batch_;
  bool high_accuracy_ = true;
};

class DispatchPolicy {
 public:
  virtual ~DispatchPolicy() = default;
  // A new request's progress.
  virtual void admit(Request& req) const = 0;
  // Tries to send the head of the queue.
  virtual Dispatch dispatch(Request& req, const Load& load, DispatchActions& act) = 0;
  // Member m's outputs for `req` (m no longer holds it).
  virtual void on_outputs(Request& req, int m, runtime::TensorMap outputs, DispatchActions& act) = 0;
  // Member m went down holding `req` (m no longer holds it).
  virtual void on_lost(Request& req, int m, DispatchActions& act) = 0;
  // Why the cluster cannot serve with the members ready now (empty: it can), for start().
  virtual std::string cannot_serve(int waited_ms) const = 0;
};

// The policy of config.variant over `members` (which must outlive it).
std::unique_ptr<DispatchPolicy> make_dispatch_policy(const ClusterConfig& config, const Membership& members);

}  // namespace fluidedge::cluster
