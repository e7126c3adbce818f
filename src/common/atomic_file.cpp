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

void check_writable_dir(const std::filesystem::path& dir, const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("{} {}: cannot create the directory: {}", what, dir.string(), ec.message());
  if (!fs::is_directory(dir)) fail("{} {}: exists and is not a directory", what, dir.string());
  fs::path probe = dir / ".fluidedge-write-test";
  {
    std::ofstream f(probe);
    if (!f || !(f << "x") || !f.flush()) fail("{} {}: the directory is not writable", what, dir.string());
  }
  fs::remove(probe, ec);
}

}  // namespace fluidedge
