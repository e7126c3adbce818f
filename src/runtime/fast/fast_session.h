// The fast backend: the graph optimised (batch norms folded, identities removed, activations
// and residual adds fused), planned once per batch size on oneDNN primitives with blocked
// layouts between ops that accept them, and activation buffers reused by liveness.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "runtime/session.h"

namespace fluidedge::runtime::fast {

// Registers the "fast" backend with runtime::make_session (idempotent).
void register_fast_backend();

struct FastPlanStats {
  int64_t batch = 0;
  int64_t steps = 0;              // kernels executed per run, reorders included
  int64_t reorders = 0;           // layout conversions inserted between kernels
  int64_t fused_nodes = 0;        // nodes folded into a preceding kernel
  int64_t fallback_steps = 0;     // steps run by the reference backend
  int64_t activation_bytes = 0;   // bytes of all activation buffers (after reuse)
  int64_t unshared_activation_bytes = 0;  // what they would take without reuse
};

class FastSession : public Session {
 public:
  FastSession(const graph::Graph& graph, const SessionOptions& options);
  ~FastSession() override;

  TensorMap run(const TensorMap& inputs) override;
  std::string backend() const override { return "fast"; }
  const graph::Graph& graph() const override;

  // Plans for `batch` (if not done yet) and reports what the plan holds.
  FastPlanStats plan_stats(int64_t batch);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fluidedge::runtime::fast
