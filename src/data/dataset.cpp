#include "data/dataset.h"

#include <cstdlib>
#include <filesystem>

#include "common/error.h"
#include "data/idx.h"

namespace fluidedge::data {

namespace {

namespace fs = std::filesystem;

// The first existing file among the usual MNIST names for `split` ("train"/"test") and `kind`.
std::string find_file(const fs::path& dir, const std::string& split, const std::string& kind) {
  std::vector<std::string> prefixes =
      split == "train" ? std::vector<std::string>{"train"} : std::vector<std::string>{"test", "t10k"};
  std::string suffix = kind == "images" ? "-images-idx3-ubyte" : "-labels-idx1-ubyte";
  for (const auto& p : prefixes)
    for (const char* ext : {"", ".gz"}) {
      fs::path f = dir / (p + suffix + ext);
      if (fs::exists(f)) return f.string();
    }
  fail("{}: no {} {} file (expected {}{}[.gz])", dir.string(), split, kind, prefixes[0], suffix);
}

Split load_split(const fs::path& dir, const std::string& split, int64_t& classes) {
  std::string image_file = find_file(dir, split, "images");
  std::string label_file = find_file(dir, split, "labels");
  graph::Tensor images = read_idx(image_file);
  graph::Tensor labels = read_idx(label_file);
  if (images.rank() != 3 || images.dtype() != graph::DType::kUInt8)
    fail("{}: expected uint8 images of shape [N, H, W], got {} {}", image_file, graph::dtype_name(images.dtype()),
         graph::shape_str(images.shape()));
  if (labels.rank() != 1)
    fail("{}: expected labels of shape [N], got {}", label_file, graph::shape_str(labels.shape()));
  if (images.dim(0) != labels.dim(0))
    fail("{} has {} images but {} has {} labels", image_file, images.dim(0), label_file, labels.dim(0));
  Split s;
  s.labels = labels.cast(graph::DType::kInt64);
  for (int64_t l : s.labels.values<int64_t>())
    if (l < 0 || l >= classes) fail("{}: label {} is out of range (0 to {})", label_file, l, classes - 1);
  s.images = graph::Tensor(graph::DType::kFloat32, {images.dim(0), 1, images.dim(1), images.dim(2)});
  const uint8_t* src = images.data<uint8_t>();
  float* dst = s.images.data<float>();
  for (int64_t i = 0; i < images.numel(); ++i) dst[i] = static_cast<float>(src[i]) / 255.f;
  return s;
}

}  // namespace

std::string mnist_dir() {
  if (const char* d = std::getenv("FLUIDEDGE_DATA_DIR")) return (fs::path(d) / "mnist").string();
  return FLUIDEDGE_SOURCE_DIR "/data/mnist";
}

Dataset load_dataset(const std::string& source) {
  Dataset d;
  d.name = source;
  fs::path dir;
  if (source == "mnist") {
    dir = mnist_dir();
    if (!fs::exists(dir)) fail("dataset 'mnist' is not installed in {} (run scripts/setup.sh)", dir.string());
  } else if (source == "fashion-mnist") {
    dir = "/usr/share/datasets/fashion-mnist";
    if (!fs::exists(dir)) fail("dataset 'fashion-mnist' is not installed (apt-get install dataset-fashion-mnist)");
  } else {
    dir = source;
    if (!fs::is_directory(dir)) fail("dataset '{}': not 'mnist', 'fashion-mnist' or a directory of IDX files", source);
  }
  d.train = load_split(dir, "train", d.classes);
  d.test = load_split(dir, "test", d.classes);
  if (d.train.images.shape() != d.test.images.shape() &&
      (d.train.images.dim(2) != d.test.images.dim(2) || d.train.images.dim(3) != d.test.images.dim(3)))
    fail("dataset '{}': training images are {}x{} but test images are {}x{}", source, d.train.images.dim(2),
         d.train.images.dim(3), d.test.images.dim(2), d.test.images.dim(3));
  return d;
}

}  // namespace fluidedge::data
