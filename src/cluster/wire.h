// Conversions between fluidedge tensors and their wire form, with the checks a receiver owes
// its sender: a message from the network is untrusted until its dtype, dims and byte count agree.
#pragma once

#include <string>

#include "cluster/protocol/device_node.pb.h"
#include "graph/tensor.h"
#include "runtime/session.h"

namespace fluidedge::cluster {

// The most a single message may carry, either way, on every channel and server (64 MiB: a batch
// of 32 ImageNet images is 19 MiB; larger models are deployed by path, not inline).
inline constexpr int kMaxMessageBytes = 64 << 20;

void to_wire(const std::string& name, const graph::Tensor& tensor, wire::TensorData* out);

// Throws Error naming the tensor if the dtype is unknown, a dim is negative, the element count
// overflows, or the byte count differs from what dtype and dims imply.
graph::Tensor from_wire(const wire::TensorData& data);

// All tensors of a repeated field as a map; duplicate names are an error.
runtime::TensorMap from_wire(const google::protobuf::RepeatedPtrField<wire::TensorData>& tensors);
void to_wire(const runtime::TensorMap& tensors, google::protobuf::RepeatedPtrField<wire::TensorData>* out);

}  // namespace fluidedge::cluster
