#include "common/files.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace fluidedge {

std::string read_file(const std::string& path, const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) fail("{}: no such file (expected {})", path, what);
  if (fs::is_directory(path, ec)) fail("{}: is a directory, expected {}", path, what);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open {} for reading ({})", path, what, std::strerror(errno));
  in.seekg(0, std::ios::end);
  std::string bytes(static_cast<size_t>(std::max<std::streamoff>(in.tellg(), 0)), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) fail("{}: cannot read {}", path, what);
  return bytes;
}

}  // namespace fluidedge
