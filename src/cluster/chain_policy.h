// The chains' dispatch: stage k of a request runs on member k, on the request's inputs and what
// earlier stages produced. Static needs every stage: a lost stage fails the request, naming the
// node. Dynamic answers from the latest group that ran when a later group is down (HT always
// stops at group 1), and fails only without group 1.
#pragma once

#include "cluster/dispatch_policy.h"

namespace fluidedge::cluster {

class ChainPolicy final : public DispatchPolicy {
 public:
  ChainPolicy(ClusterConfig config, const Membership& members);
  void admit(Request& req) const override;
  Dispatch dispatch(Request& req, const Load& load, DispatchActions& act) override;
  void on_outputs(Request& req, int m, runtime::TensorMap outputs, DispatchActions& act) override;
  void on_lost(Request& req, int m, DispatchActions& act) override;
  std::string cannot_serve(int waited_ms) const override;

  // Whether the request's current stage gives the answer: the last stage; or, Dynamic, group 1
  // in HT, or a group whose successor is down.
  bool last_stage(const Request& req) const;
  // What the current stage must send back: only the prediction when it answers, everything
  // mid-chain.
  std::vector<std::string> wanted(const Request& req, int m) const;

 private:
  bool is_static() const { return config_.variant == Variant::kStatic; }
  bool is_dynamic() const { return config_.variant == Variant::kDynamic; }
  std::string lost_stage_error(int m) const;
  void deliver(Request& req, DispatchActions& act) const;

  ClusterConfig config_;
  const Membership& members_;
  AutoMode auto_mode_;
};

}  // namespace fluidedge::cluster
