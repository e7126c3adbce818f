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

// Found by fuzz_idx: a header whose dimensions multiply past int64 (signed overflow), or to
// more than the file holds, is refused before anything is allocated.
TEST_F(DatasetFiles, HeaderDeclaringMoreThanTheFileHoldsIsRefusedBeforeAllocating) {
  auto header = [&](const std::string& name, std::vector<uint32_t> dims) {
    std::string bytes = {'\0', '\0', '\x08', static_cast<char>(dims.size())};
    for (uint32_t d : dims)
      for (int shift : {24, 16, 8, 0}) bytes += static_cast<char>((d >> shift) & 0xff);
    std::ofstream(dir_ / name, std::ios::binary) << bytes << "abc";
    return (dir_ / name).string();
  };
  for (const auto& [file, needle] :
       {std::pair{header("overflow", {0xffffffff, 0xffffffff, 0xffffffff}), "more elements"},
        std::pair{header("huge", {100000, 100000, 100}), "needs 1000000000000 bytes"}}) {
    try {
      read_idx(file);
      ADD_FAILURE() << file << " was read";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    }
  }
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

TEST_F(DatasetFiles, MissingLabelsFile) {
  write_split("train", 5);
  write_split("test", 3);
  fs::remove(dir_ / "train-labels-idx1-ubyte");
  std::string e = error_of(dir_.string());
  EXPECT_NE(e.find("no train labels file"), std::string::npos) << e;
  EXPECT_NE(e.find(dir_.string()), std::string::npos) << e;
}

TEST_F(DatasetFiles, NoSuchIdxFile) {
  try {
    read_idx((dir_ / "absent-idx3-ubyte").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent-idx3-ubyte: no such file"), std::string::npos) << e.what();
  }
}

// A dataset whose file is not IDX at all: the error names the file.
TEST_F(DatasetFiles, WrongMagicInADataset) {
  write_split("train", 5);
  write_split("test", 3);
  std::ofstream(dir_ / "test-labels-idx1-ubyte", std::ios::trunc) << "label,0\nlabel,1\n";
  std::string e = error_of(dir_.string());
  EXPECT_NE(e.find("wrong magic"), std::string::npos) << e;
  EXPECT_NE(e.find("test-labels-idx1-ubyte"), std::string::npos) << e;
}

TEST_F(DatasetFiles, UnknownTypeCodeAndTruncatedHeader) {
  const char bad_type[] = {0, 0, 0x07, 1, 0, 0, 0, 1, 5};
  std::ofstream(dir_ / "type-idx", std::ios::binary).write(bad_type, sizeof bad_type);
  try {
    read_idx((dir_ / "type-idx").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown type code 0x07"), std::string::npos) << e.what();
  }
  const char short_header[] = {0, 0, 0x08, 3, 0, 0, 0, 2};  // rank 3, one dimension given
  std::ofstream(dir_ / "header-idx", std::ios::binary).write(short_header, sizeof short_header);
  try {
    read_idx((dir_ / "header-idx").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("truncated IDX header"), std::string::npos) << e.what();
  }
}

TEST_F(DatasetFiles, TruncatedGzip) {
  write_split("train", 5);
  write_split("test", 3);
  std::string raw = (dir_ / "train-images-idx3-ubyte").string();
  std::ifstream in(raw, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  in.close();
  gzFile gz = gzopen((raw + ".gz").c_str(), "wb");
  gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(gz);
  fs::remove(raw);
  fs::resize_file(raw + ".gz", fs::file_size(raw + ".gz") - 12);  // cut into the stream
  std::string e = error_of(dir_.string());
  EXPECT_NE(e.find("train-images-idx3-ubyte.gz"), std::string::npos) << e;
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
}

// Labels stored as signed bytes may be negative.
TEST_F(DatasetFiles, NegativeLabel) {
  write_split("train", 2);
  write_split("test", 2);
  const char labels[] = {0, 0, 0x09, 1, 0, 0, 0, 2, 1, static_cast<char>(-1)};
  std::ofstream(dir_ / "test-labels-idx1-ubyte", std::ios::binary | std::ios::trunc).write(labels, sizeof labels);
  std::string e = error_of(dir_.string());
  EXPECT_NE(e.find("label -1 is out of range (0 to 9)"), std::string::npos) << e;
}

TEST_F(DatasetFiles, ImagesOfTheWrongRank) {
  write_split("train", 5);
  write_split("test", 3);
  fs::copy_file(dir_ / "train-labels-idx1-ubyte", dir_ / "train-images-idx3-ubyte",
                fs::copy_options::overwrite_existing);
  std::string e = error_of(dir_.string());
  EXPECT_NE(e.find("expected uint8 images of shape [N, H, W]"), std::string::npos) << e;
}

TEST_F(DatasetFiles, TrainAndTestImageSizesDiffer) {
  write_split("train", 5);
  graph::Tensor images(graph::DType::kUInt8, {3, 5, 5});
  graph::Tensor labels(graph::DType::kUInt8, {3});
  write_idx(images, (dir_ / "test-images-idx3-ubyte").string());
  write_idx(labels, (dir_ / "test-labels-idx1-ubyte").string());
  std::string e = error_of(dir_.string());
  EXPECT_NE(e.find("training images are 4x4 but test images are 5x5"), std::string::npos) << e;
}

TEST_F(DatasetFiles, MnistNotInstalled) {
  const char* old = std::getenv("FLUIDEDGE_DATA_DIR");
  std::string saved = old ? old : "";
  ::setenv("FLUIDEDGE_DATA_DIR", dir_.c_str(), 1);  // holds no mnist/
  std::string e = error_of("mnist");
  if (old)
    ::setenv("FLUIDEDGE_DATA_DIR", saved.c_str(), 1);
  else
    ::unsetenv("FLUIDEDGE_DATA_DIR");
  EXPECT_NE(e.find("not installed"), std::string::npos) << e;
  EXPECT_NE(e.find("scripts/setup.sh"), std::string::npos) << e;
}

// The shipped mnist source (made by scripts/setup.sh): 10,000 digits, a fifth of each held out.
TEST(ShippedData, MnistSplit) {
  if (!fs::exists(mnist_dir()))
    GTEST_SKIP() << "mnist not installed in " << mnist_dir() << " (scripts/setup.sh makes it)";
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
