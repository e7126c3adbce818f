// cluster.yaml (infer --cluster).
#include "cluster/cluster_config.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fluidedge::fuzz::expect_only_errors([&] {
    fluidedge::cluster::parse_cluster_config(std::string(fluidedge::fuzz::as_text(data, size)), "fuzz.yaml",
                                             "/nonexistent");
  });
  return 0;
}
