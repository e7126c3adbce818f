#include "cluster/combiner_set.h"

#include "graph/onnx_io.h"
#include "runtime/backends.h"

namespace fluidedge::cluster {

graph::Tensor CombinerSet::run(const std::string& key, const std::string& path, const runtime::TensorMap& features) {
  std::lock_guard lock(mutex_);
  auto& session = sessions_[key];
  if (!session) session = runtime::make_session("fast", graph::load_onnx(path));
  return session->run(features).begin()->second;
}

}  // namespace fluidedge::cluster
