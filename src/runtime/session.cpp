#include "runtime/session.h"

#include <algorithm>

#include "common/error.h"
#include "graph/shape_inference.h"

namespace fluidedge::runtime {

namespace {

std::map<std::string, SessionFactory>& registry() {
  static std::map<std::string, SessionFactory> factories;
  return factories;
}

}  // namespace

std::vector<StepTiming> Session::profile(const TensorMap&, int) {
  fail("the {} backend does not time its steps; profile on the fast or xnnpack backend", backend());
}

bool register_backend(const std::string& name, SessionFactory factory) {
  registry()[name] = std::move(factory);
  return true;
}

std::vector<std::string> available_backends() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : registry()) names.push_back(name);
  return names;
}

std::unique_ptr<Session> make_session(const std::string& backend, const graph::Graph& graph,
                                      const SessionOptions& options) {
  auto it = registry().find(backend);
  if (it == registry().end()) {
    std::string known;
    for (const auto& name : available_backends()) known += (known.empty() ? "" : ", ") + name;
    fail("backend '{}' is not available in this build (available: {})", backend, known.empty() ? "none" : known);
  }
  if (options.threads < 1) fail("--threads must be at least 1, got {}", options.threads);
  return it->second(graph, options);
}

int64_t check_inputs(const graph::Graph& graph, const TensorMap& inputs) {
  for (const auto& [name, tensor] : inputs) {
    bool known = std::find(graph.inputs.begin(), graph.inputs.end(), name) != graph.inputs.end();
    if (!known && !graph.is_initializer(name)) {
      std::string expected;
      for (const auto& in : graph.inputs) expected += (expected.empty() ? "'" : ", '") + in + "'";
      fail("input '{}' is not an input of the model (inputs: {})", name, expected);
    }
  }
  // The batch is dimension 0 of the first input; other inputs follow it when their declared
  // dimension 0 is the graph's batch, and must match exactly otherwise (broadcast operands).
  const int64_t graph_batch = graph::graph_batch(graph);
  int64_t batch = -1;
  std::string batch_source;
  for (const auto& name : graph.inputs) {
    auto it = inputs.find(name);
    if (it == inputs.end()) fail("input '{}' is missing", name);
    const graph::Tensor& t = it->second;
    const graph::ValueInfo& v = graph.value(name);
    if (t.dtype() != v.dtype)
      fail("input '{}' has dtype {}, the model expects {}", name, graph::dtype_name(t.dtype()),
           graph::dtype_name(v.dtype));
    bool follows_batch = !v.shape.empty() && (batch < 0 || v.shape[0] == graph_batch);
    bool ok = t.rank() == static_cast<int64_t>(v.shape.size());
    for (size_t d = follows_batch ? 1 : 0; ok && d < v.shape.size(); ++d) ok = t.shape()[d] == v.shape[d];
    if (!ok) {
      std::string want_str = "[";
      for (size_t d = 0; d < v.shape.size(); ++d)
        want_str += (d ? "," : "") + (d == 0 && follows_batch ? std::string("N") : std::to_string(v.shape[d]));
      want_str += "]";
      fail("input '{}' has shape {}, the model expects {}", name, graph::shape_str(t.shape()), want_str);
    }
    if (!follows_batch) continue;
    if (t.shape()[0] < 1) fail("input '{}' has batch size {}; it must be at least 1", name, t.shape()[0]);
    if (batch < 0) {
      batch = t.shape()[0];
      batch_source = name;
    } else if (t.shape()[0] != batch) {
      fail("input '{}' has batch size {} but input '{}' has {}", name, t.shape()[0], batch_source, batch);
    }
  }
  return batch < 0 ? 1 : batch;
}

}  // namespace fluidedge::runtime
