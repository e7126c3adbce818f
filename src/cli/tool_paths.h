// Where the CLI finds its companions: the device-node and workstation binaries beside it, and the JavaScript
// tools (the ONNX Runtime peer) of the source tree, unless FLUIDEDGE_JS_TOOLS says otherwise.
#pragma once

#include <string>

namespace fluidedge::cli {

std::string executable_dir();
std::string node_binary();   // fluidedge-node next to the running executable
std::string tool_binary();   // fluidedge next to it (to train with, as a child)
std::string js_tools_dir();  // contains ort_run.js and node_modules/onnxruntime-node
std::string examples_dir();  // the shipped system.yaml examples (FLUIDEDGE_EXAMPLES, else the source tree's)

}  // namespace fluidedge::cli
