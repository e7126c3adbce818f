// The node's request queue without gRPC: admission bounds (requests and bytes) with their
// message, batches of the oldest request and the later batchable ones up to its limit, and stop().
#include "cluster/micro_batcher.h"

#include <thread>

#include <gtest/gtest.h>

namespace fluidedge::cluster {
namespace {

struct Item {
  int id = 0;
  int part = 0;  // batchable with items of the same part
  int64_t n = 1;
  size_t size = 10;
  int max = 4;
  int64_t rows() const { return n; }
  size_t bytes() const { return size; }
  int limit() const { return max; }
  bool batchable_with(const Item& o) const { return part == o.part; }
};

std::vector<int> ids(const std::vector<Item>& batch) {
  std::vector<int> out;
  for (const auto& i : batch) out.push_back(i.id);
  return out;
}

TEST(MicroBatcher, AdmitsWithinItsBoundsAndNamesTheOneReached) {
  MicroBatcher<Item> q("dev1", {2, 1000});
  EXPECT_EQ(q.admit(10), "");
  EXPECT_EQ(q.admit(10), "");
  const std::string full = q.admit(10);
  EXPECT_NE(full.find("RESOURCE_EXHAUSTED"), std::string::npos) << full;
  EXPECT_NE(full.find("'dev1'"), std::string::npos) << full;
  EXPECT_NE(full.find("--max-queue 2"), std::string::npos) << full;
  q.release(10);
  EXPECT_EQ(q.admit(10), "") << "a released request frees its room";

  MicroBatcher<Item> bytes("dev2", {100, 1 << 20});
  EXPECT_EQ(bytes.admit(1 << 19), "");
  const std::string big = bytes.admit((1 << 19) + 1);
  EXPECT_NE(big.find("--max-queue-mb 1"), std::string::npos) << big;
  EXPECT_EQ(bytes.admitted(), 1);
}

TEST(MicroBatcher, BatchesTheOldestWithLaterBatchableOnesUpToItsLimit) {
  MicroBatcher<Item> q("dev1", {100, 1 << 20});
  // part 0: ids 1 (1 row), 3 (2 rows), 4 (2 rows); part 1: id 2; limit 4 rows.
  for (Item i : {Item{1, 0, 1}, Item{2, 1, 1}, Item{3, 0, 2}, Item{4, 0, 2}, Item{5, 0, 1}}) {
    ASSERT_EQ(q.admit(i.size), "");
    ASSERT_TRUE(q.push(i));
  }
  EXPECT_EQ(q.admitted(), 5);
  // 1 + 3 make 3 rows; 4 (2 rows) would exceed 4, so it waits; 5 (1 row) fits.
  EXPECT_EQ(ids(q.next_batch()), (std::vector<int>{1, 3, 5}));
  EXPECT_EQ(ids(q.next_batch()), (std::vector<int>{2}));
  EXPECT_EQ(ids(q.next_batch()), (std::vector<int>{4}));
  EXPECT_EQ(q.queued(), 0u);
  EXPECT_EQ(q.admitted(), 0) << "taken into a batch, a request no longer holds room";
}

TEST(MicroBatcher, StopWakesTheWorkerAndReturnsWhatWasQueued) {
  MicroBatcher<Item> q("dev1", {100, 1 << 20});
  std::vector<Item> got{Item{}};
  std::thread worker([&] { got = q.next_batch(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto dropped = q.stop();
  worker.join();
  EXPECT_TRUE(got.empty()) << "a stopped batcher gives the worker nothing";
  EXPECT_TRUE(dropped.empty());

  MicroBatcher<Item> r("dev1", {100, 1 << 20});
  ASSERT_EQ(r.admit(10), "");
  ASSERT_TRUE(r.push(Item{7}));
  auto left = r.stop();
  EXPECT_EQ(ids(left), (std::vector<int>{7}));
  EXPECT_EQ(r.admitted(), 0);
  ASSERT_EQ(r.admit(10), "");
  EXPECT_FALSE(r.push(Item{8})) << "after stop() nothing is queued";
  EXPECT_EQ(r.admitted(), 0) << "a refused push releases its room";
  EXPECT_TRUE(r.next_batch().empty());
}

}  // namespace
}  // namespace fluidedge::cluster
