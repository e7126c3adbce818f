// Fluid DyDNNs' dispatch: in HT each request goes to one member (the one with the fewest in
// flight, ties to the faster), in HA to every live member and the outputs are joined by the
// combiner of the subset that answered; auto switches between the two by load. A member lost
// mid-request costs nothing but accuracy: HA answers with the members left, HT re-issues.
#pragma once

#include "cluster/dispatch_policy.h"

namespace fluidedge::cluster {

class FluidPolicy final : public DispatchPolicy {
 public:
  FluidPolicy(ClusterConfig config, const Membership& members);
  void admit(Request& req) const override;
  Dispatch dispatch(Request& req, const Load& load, DispatchActions& act) override;
  void on_outputs(Request& req, int m, runtime::TensorMap outputs, DispatchActions& act) override;
  void on_lost(Request& req, int m, DispatchActions& act) override;
  std::string cannot_serve(int waited_ms) const override;

  // What member m must send back: its prediction in HT, and the features the combiner reads
  // in HA.
  std::vector<std::string> wanted(const Request& req, int m) const;

 private:
  DispatchMode choose(const Load& load);
  void finish_high_accuracy(Request& req, DispatchActions& act);

  ClusterConfig config_;
  const Membership& members_;
  AutoMode auto_mode_;
};

}  // namespace fluidedge::cluster
