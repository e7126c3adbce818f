#include "cluster/dispatch_policy.h"

#include <algorithm>

#include "cluster/chain_policy.h"
#include "cluster/fluid_policy.h"

namespace fluidedge::cluster {

DispatchMode AutoMode::choose(const Load& load, int ready_members) {
  const size_t backlog_limit = static_cast<size_t>(std::max(1, ready_members)) * static_cast<size_t>(max_batch_);
  if (high_accuracy_ && (load.backlog > backlog_limit || load.latency_ms > target_ms_))
    high_accuracy_ = false;
  else if (!high_accuracy_ && load.backlog <= 1 && load.latency_ms < 0.5 * target_ms_)
    high_accuracy_ = true;
  return high_accuracy_ ? DispatchMode::kHighAccuracy : DispatchMode::kHighThroughput;
}

std::unique_ptr<DispatchPolicy> make_dispatch_policy(const ClusterConfig& config, const Membership& members) {
  if (config.variant == Variant::kFluid) return std::make_unique<FluidPolicy>(config, members);
  return std::make_unique<ChainPolicy>(config, members);
}

}  // namespace fluidedge::cluster
