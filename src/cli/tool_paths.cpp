#include "cli/tool_paths.h"

#include <cstdlib>
#include <filesystem>

#include "common/error.h"

namespace fluidedge::cli {

std::string executable_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "." : exe.parent_path().string();
}

std::string tool_binary() { return (std::filesystem::path(executable_dir()) / "fluidedge").string(); }

std::string node_binary() {
  auto path = std::filesystem::path(executable_dir()) / "fluidedge-node";
  if (!std::filesystem::exists(path))
    fail("{}: the device-node binary is missing (build target fluidedge-node)", path.string());
  return path.string();
}

std::string js_tools_dir() {
  std::string dir =
      std::getenv("FLUIDEDGE_JS_TOOLS") ? std::getenv("FLUIDEDGE_JS_TOOLS") : FLUIDEDGE_SOURCE_DIR "/tools/js";
  if (!std::filesystem::exists(std::filesystem::path(dir) / "node_modules" / "onnxruntime-node"))
    fail("{}: onnxruntime-node is not installed there (run scripts/setup.sh, or set FLUIDEDGE_JS_TOOLS)", dir);
  return dir;
}

std::string examples_dir() {
  std::string dir =
      std::getenv("FLUIDEDGE_EXAMPLES") ? std::getenv("FLUIDEDGE_EXAMPLES") : FLUIDEDGE_SOURCE_DIR "/examples";
  if (!std::filesystem::is_directory(dir)) fail("{}: the shipped examples are not there (set FLUIDEDGE_EXAMPLES)", dir);
  return dir;
}

}  // namespace fluidedge::cli
