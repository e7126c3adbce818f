// Reading a whole file, with the one set of messages every layer gives for a path that is
// missing, a directory or unreadable.
#pragma once

#include <string>

namespace fluidedge {

// The bytes of the file at `path`; an Error naming the path, what went wrong and `what` the file
// should have been ("an ONNX model", "this peer's private key") otherwise.
std::string read_file(const std::string& path, const std::string& what);

}  // namespace fluidedge
