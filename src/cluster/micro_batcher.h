// The device node's request queue: admission within its bounds (requests and bytes held, on the
// emulated link or queued), and adaptive micro-batching: the worker takes the oldest request and
// every later one that can run in the same batch, up to the part's limit, so the busier the node,
// the larger its batches. Generic over the queued item, so it is tested without gRPC.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace fluidedge::cluster {

struct QueueLimits {
  int max_requests = 1024;
  int64_t max_bytes = 256 << 20;
};

// `Item` has: int64_t rows() const (its batch size), size_t bytes() const (as admitted),
// int limit() const (the most rows of its batch), and bool batchable_with(const Item&) const.
template <class Item>
class MicroBatcher {
 public:
  MicroBatcher(std::string node, QueueLimits limits) : node_(std::move(node)), limits_(limits) {}

  // Reserves room for a request of `bytes` that has been read; "" when admitted, else why the
  // node is full (the caller refuses it with RESOURCE_EXHAUSTED). Every admitted request is
  // later push()ed or release()d.
  std::string admit(size_t bytes) {
    std::lock_guard lock(mutex_);
    if (admitted_ >= limits_.max_requests)
      return fmt::format(
          "RESOURCE_EXHAUSTED: node '{}' is full: {} requests waiting (--max-queue {}); retry later or "
          "elsewhere",
          node_, admitted_, limits_.max_requests);
    if (admitted_bytes_ + static_cast<int64_t>(bytes) > limits_.max_bytes)
      return fmt::format(
          "RESOURCE_EXHAUSTED: node '{}' is full: {:.1f} MB of requests waiting (--max-queue-mb {:g}); "
          "retry later or elsewhere",
          node_, static_cast<double>(admitted_bytes_) / 1e6, static_cast<double>(limits_.max_bytes) / 1048576.0);
    ++admitted_;
    admitted_bytes_ += static_cast<int64_t>(bytes);
    return "";
  }
  // An admitted request that will not be queued (refused, or dropped).
  void release(size_t bytes) {
    std::lock_guard lock(mutex_);
    release_locked(bytes);
  }
  // Queues an admitted request; false when stopped (its room is released, the caller drops it).
  bool push(Item item) {
    std::lock_guard lock(mutex_);
    if (stopped_) {
      release_locked(item.bytes());
      return false;
    }
    queue_.push_back(std::move(item));
    ready_.notify_one();
    return true;
  }
  // Blocks for the next batch: the oldest request and the later ones batchable with it, in
  // order, while their rows fit its limit; their room is released. Empty once stopped.
  std::vector<Item> next_batch() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return stopped_ || !queue_.empty(); });
    std::vector<Item> batch;
    if (stopped_) return batch;
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
    int64_t rows = batch[0].rows();
    const int limit = batch[0].limit();
    for (auto it = queue_.begin(); it != queue_.end() && rows < limit;) {
      if (batch[0].batchable_with(*it) && rows + it->rows() <= limit) {
        rows += it->rows();
        batch.push_back(std::move(*it));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    for (const Item& item : batch) release_locked(item.bytes());
    return batch;
  }
  // Stops: next_batch() returns empty from now on, push() refuses. Returns what was queued
  // (released), for the caller to drop.
  std::vector<Item> stop() {
    std::vector<Item> dropped;
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      for (auto& item : queue_) {
        release_locked(item.bytes());
        dropped.push_back(std::move(item));
      }
      queue_.clear();
    }
    ready_.notify_all();
    return dropped;
  }
  size_t queued() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
  }
  // Requests admitted and not yet taken into a batch or released.
  int64_t admitted() const {
    std::lock_guard lock(mutex_);
    return admitted_;
  }

 private:
  void release_locked(size_t bytes) {
    --admitted_;
    admitted_bytes_ -= static_cast<int64_t>(bytes);
  }

  std::string node_;
  QueueLimits limits_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Item> queue_;
  int64_t admitted_ = 0, admitted_bytes_ = 0;
  bool stopped_ = false;
};

}  // namespace fluidedge::cluster
