#include "cluster/request_book.h"

namespace fluidedge::cluster {
namespace {
constexpr uint64_t kAttemptBits = 8;
}  // namespace

std::string dispatch_mode_name(DispatchMode mode) {
  switch (mode) {
    case DispatchMode::kHighThroughput:
      return "ht";
    case DispatchMode::kHighAccuracy:
      return "ha";
    case DispatchMode::kPipeline:
      return "pipeline";
  }
  return "?";
}

uint64_t RequestBook::wire_id(const Request& req) {
  return (req.id << kAttemptBits) | static_cast<uint64_t>(req.attempts & 0xff);
}

void RequestBook::add(std::shared_ptr<Request> req) {
  req->id = next_id_++;
  pending_.push_back(req->id);
  requests_[req->id] = std::move(req);
}

Request* RequestBook::match_reply(uint64_t wire, int m) {
  auto it = requests_.find(wire >> kAttemptBits);
  if (it == requests_.end() || wire_id(*it->second) != wire || !it->second->waiting.count(m)) {
    ++late_;
    return nullptr;
  }
  return it->second.get();
}

std::shared_ptr<Request> RequestBook::remove(uint64_t id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return nullptr;
  auto req = std::move(it->second);
  requests_.erase(it);
  return req;
}

Request* RequestBook::next_pending() {
  while (!pending_.empty()) {
    auto it = requests_.find(pending_.front());
    if (it != requests_.end()) return it->second.get();
    pending_.pop_front();  // answered or failed while queued
  }
  return nullptr;
}

std::vector<std::shared_ptr<Request>> RequestBook::held_by(int m) const {
  std::vector<std::shared_ptr<Request>> out;
  for (const auto& [id, req] : requests_)
    if (req->waiting.count(m)) out.push_back(req);
  return out;
}

std::vector<std::shared_ptr<Request>> RequestBook::submitted_before(std::chrono::steady_clock::time_point t) const {
  std::vector<std::shared_ptr<Request>> out;
  for (const auto& [id, req] : requests_)
    if (req->submitted < t) out.push_back(req);
  return out;
}

std::vector<std::shared_ptr<Request>> RequestBook::all() const {
  std::vector<std::shared_ptr<Request>> out;
  for (const auto& [id, req] : requests_) out.push_back(req);
  return out;
}

}  // namespace fluidedge::cluster
