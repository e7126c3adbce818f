// A .npy file (run --input, --input-dir).
#include "fuzz_input.h"
#include "graph/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string file = fluidedge::fuzz::as_file(data, size, ".npy");
  fluidedge::fuzz::expect_only_errors([&] { fluidedge::graph::load_npy(file); });
  return 0;
}
