#include <zlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "data/dataset.h"
#include "data/idx.h"

namespace fluidedge::data {
namespace {

namespace fs = std::filesystem;

class DatasetFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fluidedge_data_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A tiny dataset: `n` 4x4 images whose pixels are their index, labels i % 3.
  void write_split(const std::string& prefix, int64_t n, int64_t labels_n = -1, uint8_t max_label = 2) {
    graph::Tensor images(graph::DType::kUInt8, {n, 4, 4});
    for (int64_t i = 0; i < images.numel(); ++i) images.data<uint8_t>()[i] = static_cast<uint8_t>(i / 16);
    if (labels_n < 0) labels_n = n;
    graph::Tensor labels(graph::DType::kUInt8, {labels_n});
    for (int64_t i = 0; i < labels_n; ++i) labels.data<uint8_t>()[i] = static_cast<uint8_t>(i % 3);
    if (labels_n > 0) labels.data<uint8_t>()[0] = max_label;
    write_idx(images, (dir_ / (prefix + "-images-idx3-ubyte")).string());
    write_idx(labels, (dir_ / (prefix + "-labels-idx1-ubyte")).string());
  }
  std::string error_of(const std::string& source) {
    try {
      load_dataset(source);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
};

TEST_F(DatasetFiles, LoadsRawIdx) {
  write_split("train", 5);
  write_split("t10k", 3);
  Dataset d = load_dataset(dir_.string());
  EXPECT_EQ(d.train.size(), 5);
  EXPECT_EQ(d.test.size(), 3);
  EXPECT_EQ(d.train.images.shape(), (graph::Shape{5, 1, 4, 4}));
  EXPECT_FLOAT_EQ(d.train.images.data<float>()[16 * 4], 4.f / 255.f);
  EXPECT_EQ(d.train.labels.to_int64(), (std::vector<int64_t>{2, 1, 2, 0, 1}));
}

TEST_F(DatasetFiles, LoadsGzipIdx) {
  graph::Tensor t(graph::DType::kUInt8, {2, 3});
  for (int i = 0; i < 6; ++i) t.data<uint8_t>()[i] = static_cast<uint8_t>(10 * i);
  std::string raw = (dir_ / "x-idx2-ubyte").string();
  write_idx(t, raw);
  std::ifstream in(raw, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  gzFile gz = gzopen((raw + ".gz").c_str(), "wb");
  gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(gz);
  EXPECT_TRUE(read_idx(raw + ".gz").equals(t));
}

TEST_F(DatasetFiles, MissingFile) {
  write_split("train", 5);
  std::string e = error_of(dir_.string());
  EXPECT_NE(e.find("no test images file"), std::string::npos) << e;
  EXPECT_NE(error_of((dir_ / "nowhere").string()).find("nowhere"), std::string::npos);
}

TEST_F(DatasetFiles, WrongMagic) {
  std::ofstream(dir_ / "bad-idx") << "PK\x03\x04 a zip file";
  try {
    read_idx((dir_ / "bad-idx").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("wrong magic"), std::string::npos) << e.what();
  }
}

TEST_F(DatasetFiles, Truncated) {
  write_split("train", 5);
  write_split("test", 3);
  fs::resize_file(dir_ / "train-images-idx3-ubyte", 50);
  std::string e = error_of(dir_.string());
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
  EXPECT_NE(e.find("train-images-idx3-ubyte"), std::string::npos) << e;
}

TEST_F(DatasetFiles, ImageLabelCountMismatch) {
  write_split("train", 5, 4);
  write_split("test", 3);
  std::string e = error_of(dir_.string());
  EXPECT_NE(e.find("5 images but"), std::string::npos) << e;
  EXPECT_NE(e.find("4 labels"), std::string::npos) << e;
}

TEST_F(DatasetFiles, LabelOutOfRange) {
  write_split("train", 5, -1, 10);
  write_split("test", 3);
  std::string e = error_of(dir_.string());
  EXPECT_NE(e.find("label 10 is out of range"), std::string::npos) << e;
}

// The shipped mnist source (made by scripts/setup.sh): 10,000 digits, a fifth of each held out.
TEST(ShippedData, MnistSplit) {
  if (!fs::exists(mnist_dir())) GTEST_SKIP() << "mnist not installed in " << mnist_dir() << " (scripts/setup.sh makes it)";
  Dataset d = load_dataset("mnist");
  EXPECT_EQ(d.train.size() + d.test.size(), 10000);
  std::vector<int64_t> total(10, 0), test(10, 0);
  for (int64_t l : d.train.labels.values<int64_t>()) ++total[l];
  for (int64_t l : d.test.labels.values<int64_t>()) ++total[l], ++test[l];
  for (int c = 0; c < 10; ++c) {
    EXPECT_GE(total[c], 863) << c;
    EXPECT_LE(total[c], 1127) << c;
    EXPECT_EQ(test[c], total[c] / 5) << c;
  }
  EXPECT_EQ(d.train.images.shape(), (graph::Shape{d.train.size(), 1, 28, 28}));
}

TEST(ShippedData, FashionMnist) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist")) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  Dataset d = load_dataset("fashion-mnist");
  EXPECT_EQ(d.train.size(), 60000);
  EXPECT_EQ(d.test.size(), 10000);
}

}  // namespace
}  // namespace fluidedge::data
