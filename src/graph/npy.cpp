#include "graph/npy.h"

#include "common/atomic_file.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fluidedge::graph {

namespace {

struct NpyType {
  const char* descr;
  DType dtype;
};

constexpr NpyType kTypes[] = {
    {"<f4", DType::kFloat32}, {"<f8", DType::kFloat64}, {"<f2", DType::kFloat16},
    {"|i1", DType::kInt8},    {"|u1", DType::kUInt8},   {"<i2", DType::kInt16},
    {"<i4", DType::kInt32},   {"<i8", DType::kInt64},   {"|b1", DType::kBool},
};

// The value of `key` in the header's Python dict literal, e.g. 'descr': '<f4'.
std::string header_field(const std::string& header, const std::string& key, const std::string& path) {
  auto pos = header.find("'" + key + "'");
  if (pos == std::string::npos) fail("{}: .npy header has no '{}'", path, key);
  pos = header.find(':', pos);
  if (pos == std::string::npos) fail("{}: malformed .npy header", path);
  ++pos;
  while (pos < header.size() && header[pos] == ' ') ++pos;
  if (pos >= header.size()) fail("{}: malformed .npy header", path);
  char open = header[pos];
  if (open == '\'') {
    auto end = header.find('\'', pos + 1);
    if (end == std::string::npos) fail("{}: malformed .npy header", path);
    return header.substr(pos + 1, end - pos - 1);
  }
  if (open == '(') {
    auto end = header.find(')', pos);
    if (end == std::string::npos) fail("{}: malformed .npy header", path);
    return header.substr(pos + 1, end - pos - 1);
  }
  auto end = header.find_first_of(",}", pos);
  return header.substr(pos, end - pos);
}

}  // namespace

Tensor load_npy(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("{}: no such file", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open for reading", path);
  char magic[8];
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) fail("{}: not a NumPy .npy file", path);
  int major = static_cast<unsigned char>(magic[6]);
  uint32_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  } else {
    fail("{}: .npy format version {} is not supported", path, major);
  }
  if (!in || header_len > (1u << 20)) fail("{}: truncated or malformed .npy header", path);
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  if (!in) fail("{}: truncated .npy header", path);

  std::string descr = header_field(header, "descr", path);
  std::string fortran = header_field(header, "fortran_order", path);
  std::string shape_text = header_field(header, "shape", path);
  if (fortran.find("True") != std::string::npos)
    fail("{}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray", path);
  DType dtype = DType::kUndefined;
  for (const auto& t : kTypes)
    if (descr == t.descr || (descr.size() == 3 && descr[0] == '=' && descr.substr(1) == std::string(t.descr).substr(1)))
      dtype = t.dtype;
  if (dtype == DType::kUndefined)
    fail(
        "{}: dtype '{}' is not supported (use float32, float64, int8, uint8, int16, int32, int64 or bool, "
        "little-endian)",
        path, descr);
  Shape shape;
  std::stringstream ss(shape_text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto first = item.find_first_not_of(" ");
    if (first == std::string::npos) continue;
    try {
      size_t used = 0;
      int64_t d = std::stoll(item.substr(first), &used);
      if (d < 0) throw std::invalid_argument("negative");
      shape.push_back(d);
    } catch (const std::exception&) {
      fail("{}: malformed shape '({})' in .npy header", path, shape_text);
    }
  }
  // The data the header declares must be in the file before it is allocated: a few bytes of
  // header must not make the reader ask for gigabytes.
  uint64_t declared = 0;
  try {
    declared = static_cast<uint64_t>(shape_numel(shape)) * dtype_size(dtype);
  } catch (const Error& e) {
    fail("{}: {}", path, e.what());
  }
  const auto data_start = in.tellg();
  in.seekg(0, std::ios::end);
  const auto available = static_cast<uint64_t>(in.tellg() - data_start);
  in.seekg(data_start);
  if (available < declared)
    fail("{}: truncated: shape {} of {} needs {} bytes of data, the file has {}", path, shape_str(shape),
         dtype_name(dtype), declared, available);
  Tensor t(dtype, shape);
  in.read(static_cast<char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
  if (static_cast<size_t>(in.gcount()) != t.nbytes())
    fail("{}: truncated: shape {} of {} needs {} bytes of data, the file has {}", path, shape_str(shape),
         dtype_name(dtype), t.nbytes(), in.gcount());
  return t;
}

void save_npy(const Tensor& tensor, const std::string& path) {
  const char* descr = nullptr;
  for (const auto& t : kTypes)
    if (t.dtype == tensor.dtype()) descr = t.descr;
  if (descr == nullptr) fail("{}: cannot save a {} tensor as .npy", path, dtype_name(tensor.dtype()));
  std::string shape;
  for (int64_t d : tensor.shape()) shape += std::to_string(d) + ", ";
  if (tensor.rank() > 1) shape.resize(shape.size() - 1);  // "(2, 3)" but "(2,)"
  if (tensor.rank() > 1) shape.pop_back();
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, shape);
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  uint16_t len = static_cast<uint16_t>(header.size());
  std::string head("\x93NUMPY\x01\x00", 8);
  head.push_back(static_cast<char>(len & 0xff));
  head.push_back(static_cast<char>(len >> 8));
  head += header;
  write_file_atomically(path, head, {static_cast<const char*>(tensor.raw()), tensor.nbytes()});
}

}  // namespace fluidedge::graph
