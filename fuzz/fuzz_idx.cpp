// An IDX file (train --data, infer --data: a user's own dataset).
#include "data/idx.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string file = fluidedge::fuzz::as_file(data, size, ".idx");
  fluidedge::fuzz::expect_only_errors([&] { fluidedge::data::read_idx(file); });
  return 0;
}
