// The messages a node accepts, decoded as its service decodes them: an InferRequest's tensors
// (from_wire, what every request goes through before it is queued), a DeployRequest's inline
// ONNX part, and a gateway's SetupRequest spec (the cluster a node is asked to coordinate).
#include "cluster/gateway.h"
#include "cluster/protocol/device_node.pb.h"
#include "cluster/protocol/gateway.pb.h"
#include "cluster/wire.h"
#include "fuzz_input.h"
#include "graph/onnx_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fluidedge;
  if (size == 0) return 0;
  const uint8_t kind = data[0] % 3;
  ++data;
  --size;
  if (kind == 0) {
    wire::InferRequest request;
    if (request.ParseFromArray(data, static_cast<int>(size)))
      fuzz::expect_only_errors([&] { cluster::from_wire(request.inputs()); });
  } else if (kind == 1) {
    wire::DeployRequest request;
    if (request.ParseFromArray(data, static_cast<int>(size)))
      fuzz::expect_only_errors([&] { graph::parse_onnx(request.onnx(), "part '" + request.part() + "'", ""); });
  } else {
    wire::SetupRequest request;
    if (request.ParseFromArray(data, static_cast<int>(size)))
      fuzz::expect_only_errors([&] {
        cluster::from_spec(request.spec(), "/tmp/fluidedge-fuzz-spec-" + std::to_string(::getpid()), "fuzz spec");
      });
  }
  return 0;
}
