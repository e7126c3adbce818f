// An ONNX file as the importer reads it: protobuf decoding, the checks, shape inference.
#include "fuzz_input.h"
#include "graph/onnx_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fluidedge::fuzz::expect_only_errors(
      [&] { fluidedge::graph::parse_onnx(fluidedge::fuzz::as_text(data, size), "fuzz.onnx", "/nonexistent"); });
  return 0;
}
