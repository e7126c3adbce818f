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

// The instruction set oneDNN's kernels use on this CPU (e.g. "avx512_core", "avx2").
std::string cpu_features();

struct FastPlanStats {
  int64_t batch = 0;
  int64_t steps = 0;           // kernels executed per run, reorders included
  int64_t reorders = 0;        // layout conversions inserted between kernels
  int64_t fused_nodes = 0;     // nodes folded into a preceding kernel
  int64_t fallback_steps = 0;  // steps run by the reference backend
  // Convolutions' activation layouts as planned: "library" (none channel-blocked), "blocked"
  // (all) or "mixed".
  std::string layout;
  int64_t blocked_convolutions = 0;        // convolutions whose output is channel-blocked
  int64_t winograd_convolutions = 0;       // convolutions running Winograd's algorithm
  int64_t elided_concats = 0;              // concatenations whose inputs were written in place (no copy)
  double layout_planning_ms = 0;           // time spent measuring and choosing layouts ("auto")
  int64_t activation_bytes = 0;            // bytes of the activation arena (after reuse)
  int64_t peak_live_activation_bytes = 0;  // the most bytes alive at one step (no plan needs less)
  int64_t unshared_activation_bytes = 0;   // what they would take without reuse
  int64_t scratchpad_bytes = 0;            // the primitives' scratch memory (one buffer, shared by all steps)
};

class FastSession : public Session {
 public:
  FastSession(const graph::Graph& graph, const SessionOptions& options);
  ~FastSession() override;

  TensorMap run(const TensorMap& inputs) override;
  std::string backend() const override { return "fast"; }
  const graph::Graph& graph() const override;
  int64_t held_bytes() const override;

  // Plans for `batch` (if not done yet) and reports what the plan holds.
  FastPlanStats plan_stats(int64_t batch);

  // Testing aid: when on, every activation buffer is filled with NaN before each run, so an
  // element a kernel forgets to write shows up in the outputs.
  void set_poison_buffers(bool on);

  // Runs `inputs` `runs` times, timing every step; returns the median per step in execution
  // order. For profiles and cost models, not for serving (it synchronises after each step).
  std::vector<StepTiming> profile(const TensorMap& inputs, int runs) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fluidedge::runtime::fast
