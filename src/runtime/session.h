// The one interface every backend implements: load a graph once, then run it on named input
// tensors as often as needed. The reference (ATen) and fast (oneDNN) backends are two
// implementations of it, and the differential tests hold them to the same answers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/tensor.h"

namespace fluidedge::runtime {

using TensorMap = std::map<std::string, graph::Tensor>;

struct SessionOptions {
  int threads = 1;  // intra-op threads; a device node owns one core
  // Fast backend: each convolution's activation layout, "auto" (measured at plan time),
  // "library" (oneDNN's choice) or "blocked" (nChw16c); see runtime/fast/layout_planner.h.
  std::string layout = "auto";
  // Fast backend: the algorithm of 3x3 stride-1 convolutions, "auto" (Winograd's where it is
  // measured faster than direct, up to 2x), "direct", or "winograd" (wherever oneDNN has a
  // Winograd kernel). Winograd's results differ from direct ones by rounding (~1e-6 relative).
  std::string conv_algorithm = "auto";
};

// Time of one executed step of a planned backend (a kernel with its fused nodes, or a layout
// conversion).
struct StepTiming {
  std::string name;                // main node's name, or "reorder:<value>"
  std::string op_type;             // main node's op, or "Reorder"
  std::vector<std::string> fused;  // nodes fused into it
  double ms = 0;                   // median over the profiled runs
};

class Session {
 public:
  virtual ~Session() = default;

  // Runs the graph on `inputs` (one tensor per graph input; inputs that are also initializers
  // may be left out). The batch size is taken from the inputs: dimension 0 may differ from the
  // graph's, every other dimension and the dtype must match. Returns every graph output.
  virtual TensorMap run(const TensorMap& inputs) = 0;

  // "reference", "fast" or "xnnpack".
  virtual std::string backend() const = 0;

  // Runs `inputs` `runs` times, timing every step; returns the median per step in execution
  // order. For profiles and cost models, not for serving (it synchronises after each step).
  // Backends that do not plan steps (the reference one) refuse with a message naming themselves.
  virtual std::vector<StepTiming> profile(const TensorMap& inputs, int runs);

  // The graph as loaded (after the backend's own rewrites, if any).
  virtual const graph::Graph& graph() const = 0;

  // Bytes held for running besides the graph: the activation arenas and scratch buffers of
  // every batch size planned so far (a planned backend keeps one plan per batch size). 0 for a
  // backend that allocates during each run.
  virtual int64_t held_bytes() const { return 0; }
};

// Creates a session of the named backend. Backends register themselves at static-init time,
// so a build without libtorch simply has no "reference" backend and says so.
std::unique_ptr<Session> make_session(const std::string& backend, const graph::Graph& graph,
                                      const SessionOptions& options = {});

// Backends compiled into this binary, sorted.
std::vector<std::string> available_backends();

using SessionFactory = std::function<std::unique_ptr<Session>(const graph::Graph&, const SessionOptions&)>;
// Called once per backend from its translation unit (see REGISTER_... in each backend).
bool register_backend(const std::string& name, SessionFactory factory);

// Checks `inputs` against the graph's inputs: every required input present, nothing unknown,
// dtype equal, rank equal, every dimension but the batch equal, one batch size for all.
// Returns the batch size. Errors name the input and say what was expected.
int64_t check_inputs(const graph::Graph& graph, const TensorMap& inputs);

}  // namespace fluidedge::runtime
