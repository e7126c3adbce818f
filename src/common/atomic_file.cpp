#include "common/atomic_file.h"

#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace fluidedge {

void write_file_atomically(const std::string& path, std::string_view header, std::string_view data) {
  std::filesystem::path p(path);
  if (p.has_parent_path() && !std::filesystem::is_directory(p.parent_path()))
    fail("{}: directory '{}' does not exist", path, p.parent_path().string());
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("{}: cannot open for writing", path);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) {
      std::filesystem::remove(tmp);
      fail("{}: write failed (disk full?)", path);
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    fail("{}: cannot write: {}", path, ec.message());
  }
}

}  // namespace fluidedge
