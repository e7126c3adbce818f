// The xnnpack backend: the graph optimised as for the fast backend (batch norms folded,
// identities removed, activations and residual adds fused), planned once per batch size on
// XNNPACK's operators (weights packed once per plan) with NHWC activations between the ops that
// work in it, and every activation in one arena planned by offsets. It is the backend made for
// Arm boards (XNNPACK's NEON kernels; oneDNN 2.6 has none for cores without SVE) and runs on
// XNNPACK's AVX/AVX2/AVX-512 kernels on x86.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/session.h"

namespace fluidedge::runtime::xnnpack {

// Registers the "xnnpack" backend with runtime::make_session (idempotent).
void register_xnnpack_backend();

// The CPU features XNNPACK's kernels use on this machine, as cpuinfo reports them
// (e.g. "avx512f avx2 fma" or "neon neonfma dot"), most capable first.
std::string cpu_features();

struct XnnpackPlanStats {
  int64_t batch = 0;
  int64_t steps = 0;                       // kernels executed per run, layout conversions included
  int64_t conversions = 0;                 // NCHW <-> NHWC conversions inserted between kernels
  int64_t fused_nodes = 0;                 // nodes folded into a preceding kernel
  int64_t fallback_steps = 0;              // steps run by the reference backend
  int64_t elided_concats = 0;              // concatenations whose parts their producers wrote in place
  int64_t activation_bytes = 0;            // bytes of the activation arena (after reuse)
  int64_t peak_live_activation_bytes = 0;  // the most bytes alive at one step
  int64_t unshared_activation_bytes = 0;   // what they would take without reuse
};

class XnnpackSession : public Session {
 public:
  XnnpackSession(const graph::Graph& graph, const SessionOptions& options);
  ~XnnpackSession() override;

  TensorMap run(const TensorMap& inputs) override;
  std::string backend() const override { return "xnnpack"; }
  const graph::Graph& graph() const override;
  int64_t held_bytes() const override;
  std::vector<StepTiming> profile(const TensorMap& inputs, int runs) override;

  // Plans for `batch` (if not done yet) and reports what the plan holds.
  XnnpackPlanStats plan_stats(int64_t batch);

  // Testing aid: when on, the activation arena is filled with NaN before each run, so an element
  // a kernel forgets to write shows up in the outputs.
  void set_poison_buffers(bool on);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fluidedge::runtime::xnnpack
