// system.yaml (partition --system).
#include "fuzz_input.h"
#include "partition/system.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fluidedge::fuzz::expect_only_errors([&] {
    fluidedge::partition::parse_system(std::string(fluidedge::fuzz::as_text(data, size)), "fuzz.yaml", "/nonexistent");
  });
  return 0;
}
