#include "runtime/reference/reference_session.h"

#include <ATen/Parallel.h>

#include "runtime/reference/aten_executor.h"
#include "runtime/reference/aten_ops.h"

namespace fluidedge::runtime::reference {

namespace {

class ReferenceSession : public Session {
 public:
  ReferenceSession(const graph::Graph& graph, const SessionOptions& options)
      : executor_(graph), threads_(options.threads) {}
  // ATen's mkldnn convolutions stay on (without them ResNet-18 at batch 32 takes 22 s instead
  // of 0.9 s here); the Conv op itself avoids them for single-channel inputs.

  TensorMap run(const TensorMap& inputs) override {
    check_inputs(executor_.graph(), inputs);
    at::set_num_threads(threads_);
    at::NoGradGuard no_grad;
    std::map<std::string, at::Tensor> feeds;
    for (const auto& [name, t] : inputs) feeds[name] = to_aten(t);
    TensorMap out;
    for (const auto& [name, t] : executor_.forward(feeds, false)) out[name] = from_aten(t);
    return out;
  }

  std::string backend() const override { return "reference"; }
  const graph::Graph& graph() const override { return executor_.graph(); }

 private:
  AtenExecutor executor_;
  int threads_;
};

}  // namespace

std::vector<std::string> reference_table_ops() { return aten_table_ops(); }

void register_reference_backend() {
  static bool done = register_backend("reference", [](const graph::Graph& g, const SessionOptions& o) {
    return std::unique_ptr<Session>(new ReferenceSession(g, o));
  });
  (void)done;
}

}  // namespace fluidedge::runtime::reference
