#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "graph/npy.h"

namespace fluidedge::graph {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) { return (fs::temp_directory_path() / name).string(); }

TEST(Npy, RoundTripsEveryDtype) {
  auto f = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  save_npy(f, temp_path("fe_f.npy"));
  EXPECT_TRUE(load_npy(temp_path("fe_f.npy")).equals(f));
  auto i = Tensor::from_vector<int64_t>({4}, {-1, 0, 7, 1LL << 40});
  save_npy(i, temp_path("fe_i.npy"));
  EXPECT_TRUE(load_npy(temp_path("fe_i.npy")).equals(i));
  auto u = Tensor::from_vector<uint8_t>({1, 2, 2}, {0, 255, 3, 4});
  save_npy(u, temp_path("fe_u.npy"));
  EXPECT_TRUE(load_npy(temp_path("fe_u.npy")).equals(u));
  auto s = Tensor::scalar<float>(3.5f);
  save_npy(s, temp_path("fe_s.npy"));
  EXPECT_TRUE(load_npy(temp_path("fe_s.npy")).equals(s));
}

TEST(Npy, TruncatedFileIsAnError) {
  auto f = Tensor::from_vector<float>({100}, std::vector<float>(100, 1.f));
  std::string p = temp_path("fe_trunc.npy");
  save_npy(f, p);
  fs::resize_file(p, fs::file_size(p) - 10);
  try {
    load_npy(p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

TEST(Npy, NotNpyAndMissingFile) {
  std::string p = temp_path("fe_text.npy");
  std::ofstream(p) << "hello";
  EXPECT_THROW(load_npy(p), Error);
  EXPECT_THROW(load_npy(temp_path("fe_does_not_exist.npy")), Error);
}

}  // namespace
}  // namespace fluidedge::graph
