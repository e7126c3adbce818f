// The wire format: tensors survive the round trip, and a message whose dtype, dims and bytes do
// not agree is refused with a message naming the tensor.
#include <gtest/gtest.h>

#include "cluster/wire.h"
#include "common/error.h"

namespace fluidedge::cluster {
namespace {

TEST(Wire, RoundTripKeepsDtypeShapeAndBytes) {
  auto t = graph::Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  wire::TensorData d;
  to_wire("x", t, &d);
  auto back = from_wire(d);
  EXPECT_TRUE(back.equals(t));
  auto i = graph::Tensor::from_vector<int64_t>({3}, {7, -8, 9});
  to_wire("y", i, &d);
  EXPECT_TRUE(from_wire(d).equals(i));
}

void expect_refused(const wire::TensorData& d, const std::string& fragment) {
  try {
    from_wire(d);
    FAIL() << "accepted a malformed tensor";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'x'"), std::string::npos) << e.what();
  }
}

TEST(Wire, MalformedTensorsAreRefused) {
  wire::TensorData d;
  to_wire("x", graph::Tensor::from_vector<float>({2}, {1, 2}), &d);
  auto bad = d;
  bad.set_dtype("complex128");
  expect_refused(bad, "unknown dtype");
  bad = d;
  bad.set_data(std::string(7, '\0'));
  expect_refused(bad, "needs 8 bytes");
  bad = d;
  bad.add_dims(-1);
  expect_refused(bad, "negative");
  bad = d;
  bad.clear_dims();
  for (int k = 0; k < 4; ++k) bad.add_dims(1 << 20);
  expect_refused(bad, "too large");
}

TEST(Wire, DuplicateNamesInOneMessageAreRefused) {
  wire::InferRequest r;
  to_wire("x", graph::Tensor::from_vector<float>({1}, {1}), r.add_inputs());
  to_wire("x", graph::Tensor::from_vector<float>({1}, {2}), r.add_inputs());
  EXPECT_THROW(from_wire(r.inputs()), Error);
}

}  // namespace
}  // namespace fluidedge::cluster
