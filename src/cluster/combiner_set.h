// The combiners of a Fluid model in HA mode, each loaded on first use and kept: one small ONNX
// model per subset of sub-networks ("1+2"), run on the client on the features its members sent.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/session.h"

namespace fluidedge::cluster {

class CombinerSet {
 public:
  // The prediction of the combiner of `key` (loaded from `path` the first time) on `features`.
  // Throws Error if it cannot be loaded or run. Safe from any thread.
  graph::Tensor run(const std::string& key, const std::string& path, const runtime::TensorMap& features);

 private:
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<runtime::Session>> sessions_;
};

}  // namespace fluidedge::cluster
