#include "quantize/calibration.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

#include "common/error.h"
#include "runtime/fast/fast_session.h"

namespace fluidedge::quantize {

namespace {

constexpr double kPercentile = 99.99;

// The observed range of one tensor. The percentile method keeps, of all the values it will see,
// the smallest and the largest as many as the 0.01 % and 99.99 % ranks need (a max-heap and a
// min-heap): the percentiles come out exact, in memory of 0.02 % of the values, not all of them.
class Observed {
 public:
  // `expected`: how many values this tensor will show in all, or more (sets the heaps' sizes).
  Observed(CalibrationMethod method, int64_t expected) {
    expected_ = expected;
    if (method != CalibrationMethod::kPercentile) return;
    const auto [lo_rank, hi_rank] = ranks(expected);
    keep_low_ = lo_rank + 1;
    keep_high_ = static_cast<size_t>(expected) - hi_rank;
  }

  void add(const float* values, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      const float x = values[i];
      lo_ = std::min(lo_, x);
      hi_ = std::max(hi_, x);
      keep(low_, keep_low_, x, std::less<float>());
      keep(high_, keep_high_, x, std::greater<float>());
    }
    count_ += n;
  }

  TensorRange minmax() const { return {lo_, hi_}; }

  // The values at ranks 0.01 % and 99.99 % (of count - 1, rounded down) of all seen.
  TensorRange percentiles() {
    if (count_ < 2) return minmax();
    const auto [lo_rank, hi_rank] = ranks(count_);
    // low_ holds the smallest min(count, keep_low) values, high_ the largest likewise.
    std::sort(low_.begin(), low_.end());
    std::sort(high_.begin(), high_.end());
    const size_t from_top = static_cast<size_t>(count_ - 1) - hi_rank;
    if (lo_rank >= low_.size() || from_top >= high_.size())
      fail("calibration: a tensor showed {} values, more than the {} its first run promised", count_, expected_);
    return {low_[lo_rank], high_[high_.size() - 1 - from_top]};
  }

 private:
  static std::pair<size_t, size_t> ranks(int64_t n) {
    const double last = static_cast<double>(std::max<int64_t>(n, 1) - 1);
    return {static_cast<size_t>((100.0 - kPercentile) / 100.0 * last), static_cast<size_t>(kPercentile / 100.0 * last)};
  }
  // Keeps the `limit` values first in `order` in a heap whose front is the last of them.
  template <class Order>
  static void keep(std::vector<float>& heap, size_t limit, float x, Order order) {
    if (limit == 0) return;
    if (heap.size() < limit) {
      heap.push_back(x);
      std::push_heap(heap.begin(), heap.end(), order);
    } else if (order(x, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), order);
      heap.back() = x;
      std::push_heap(heap.begin(), heap.end(), order);
    }
  }

  float lo_ = std::numeric_limits<float>::infinity(), hi_ = -std::numeric_limits<float>::infinity();
  int64_t count_ = 0, expected_ = 0;
  size_t keep_low_ = 0, keep_high_ = 0;
  std::vector<float> low_, high_;
};

}  // namespace

CalibrationMethod calibration_method(const std::string& name) {
  if (name == "minmax") return CalibrationMethod::kMinMax;
  if (name == "percentile") return CalibrationMethod::kPercentile;
  fail("calibration method '{}': expected minmax or percentile", name);
}

std::string calibration_method_name(CalibrationMethod method) {
  return method == CalibrationMethod::kMinMax ? "minmax" : "percentile";
}

std::map<std::string, TensorRange> calibrate(const graph::Graph& graph, const std::vector<std::string>& tensors,
                                             const std::vector<runtime::TensorMap>& batches, CalibrationMethod method,
                                             const std::function<void(int64_t, int64_t)>& on_batch,
                                             int64_t observed_bytes_per_run) {
  if (batches.empty()) fail("calibration needs at least one batch of inputs");
  // The float model with every observed tensor an output.
  graph::Graph observed = graph;
  for (const auto& t : tensors) {
    if (!observed.has_value(t)) fail("calibration: '{}' is no value of the model", t);
    if (!observed.is_output(t) && !observed.is_initializer(t)) observed.outputs.push_back(t);
  }
  runtime::fast::FastSession session(observed, {});
  int64_t total_rows = 0;
  for (const auto& b : batches) total_rows += b.begin()->second.dim(0);
  std::map<std::string, Observed> seen;
  // A constant is observed once, as it is.
  for (const auto& t : tensors)
    if (const graph::Tensor* v = observed.initializer(t)) {
      if (v->dtype() != graph::DType::kFloat32) fail("calibration: '{}' is {}, not float32", t, dtype_name(v->dtype()));
      seen.emplace(t, Observed(method, v->numel())).first->second.add(v->data<float>(), v->numel());
    }
  auto observe = [&](const runtime::TensorMap& rows, int64_t row_count) {
    runtime::TensorMap out = session.run(rows);
    int64_t bytes = 0;
    for (const auto& t : tensors) {
      if (observed.is_initializer(t)) continue;
      const graph::Tensor& v = out.at(t);
      if (v.dtype() != graph::DType::kFloat32) fail("calibration: '{}' is {}, not float32", t, dtype_name(v.dtype()));
      bytes += static_cast<int64_t>(v.nbytes());
      auto it = seen.find(t);
      if (it == seen.end()) {
        // The values per input row, from this first run (whatever dimension the batch is in,
        // or none): the heaps are sized for every row.
        it = seen.emplace(t, Observed(method, v.numel() / row_count * total_rows)).first;
      }
      it->second.add(v.data<float>(), v.numel());
    }
    return bytes;
  };
  int64_t rows_per_run = 0;  // known after the first run of one row
  for (size_t k = 0; k < batches.size(); ++k) {
    const int64_t rows = batches[k].begin()->second.dim(0);
    for (int64_t begin = 0; begin < rows;) {
      const int64_t n = rows_per_run ? std::min(rows_per_run, rows - begin) : 1;
      runtime::TensorMap part;
      for (const auto& [name, t] : batches[k]) part[name] = n == rows ? t : t.rows(begin, n);
      const int64_t bytes = observe(part, n);
      if (!rows_per_run) rows_per_run = std::max<int64_t>(1, observed_bytes_per_run / std::max<int64_t>(bytes, 1));
      begin += n;
    }
    if (on_batch) on_batch(static_cast<int64_t>(k) + 1, static_cast<int64_t>(batches.size()));
  }
  std::map<std::string, TensorRange> ranges;
  for (auto& [t, o] : seen) ranges[t] = method == CalibrationMethod::kPercentile ? o.percentiles() : o.minmax();
  return ranges;
}

}  // namespace fluidedge::quantize
