#include "data/idx.h"

#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace fluidedge::data {

namespace {

std::string read_all(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("{}: no such file", path);
  gzFile f = gzopen(path.c_str(), "rb");  // reads raw files unchanged, too
  if (f == nullptr) fail("{}: cannot open for reading", path);
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  int err = 0;
  const char* msg = gzerror(f, &err);
  bool bad = n < 0 || (err != Z_OK && err != Z_STREAM_END);
  std::string what = msg ? msg : "";
  gzclose(f);
  if (bad) fail("{}: cannot decompress ({}; truncated?)", path, what);
  return out;
}

uint32_t be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

graph::Tensor read_idx(const std::string& path) {
  std::string bytes = read_all(path);
  auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 4 || p[0] != 0 || p[1] != 0) fail("{}: not an IDX file (wrong magic number)", path);
  graph::DType dtype;
  switch (p[2]) {
    case 0x08:
      dtype = graph::DType::kUInt8;
      break;
    case 0x09:
      dtype = graph::DType::kInt8;
      break;
    case 0x0B:
      dtype = graph::DType::kInt16;
      break;
    case 0x0C:
      dtype = graph::DType::kInt32;
      break;
    case 0x0D:
      dtype = graph::DType::kFloat32;
      break;
    case 0x0E:
      dtype = graph::DType::kFloat64;
      break;
    default:
      fail("{}: not an IDX file (unknown type code 0x{:02x})", path, p[2]);
  }
  int rank = p[3];
  if (rank < 1 || bytes.size() < 4 + 4 * static_cast<size_t>(rank)) fail("{}: truncated IDX header", path);
  graph::Shape shape;
  for (int i = 0; i < rank; ++i) shape.push_back(be32(p + 4 + 4 * i));
  size_t offset = 4 + 4 * static_cast<size_t>(rank);
  // Checked before allocating: the header alone must not make the reader ask for gigabytes.
  uint64_t needed = 0;
  try {
    needed = static_cast<uint64_t>(graph::shape_numel(shape)) * graph::dtype_size(dtype);
  } catch (const Error& e) {
    fail("{}: {}", path, e.what());
  }
  if (bytes.size() - offset < needed)
    fail("{}: truncated: shape {} needs {} bytes of data, the file has {}", path, graph::shape_str(shape), needed,
         bytes.size() - offset);
  graph::Tensor t(dtype, shape);
  // IDX stores multi-byte values big-endian.
  size_t es = graph::dtype_size(dtype);
  auto* dst = static_cast<unsigned char*>(t.raw());
  for (size_t i = 0; i < t.nbytes(); i += es)
    for (size_t b = 0; b < es; ++b) dst[i + b] = p[offset + i + es - 1 - b];
  return t;
}

void write_idx(const graph::Tensor& tensor, const std::string& path) {
  if (tensor.dtype() != graph::DType::kUInt8) fail("{}: only uint8 tensors are written as IDX", path);
  std::ofstream out(path, std::ios::binary);
  if (!out) fail("{}: cannot open for writing", path);
  unsigned char head[4] = {0, 0, 0x08, static_cast<unsigned char>(tensor.rank())};
  out.write(reinterpret_cast<const char*>(head), 4);
  for (int64_t d : tensor.shape()) {
    unsigned char b[4] = {static_cast<unsigned char>(d >> 24), static_cast<unsigned char>(d >> 16),
                          static_cast<unsigned char>(d >> 8), static_cast<unsigned char>(d)};
    out.write(reinterpret_cast<const char*>(b), 4);
  }
  out.write(static_cast<const char*>(tensor.raw()), static_cast<std::streamsize>(tensor.nbytes()));
  if (!out) fail("{}: write failed (disk full?)", path);
}

}  // namespace fluidedge::data
