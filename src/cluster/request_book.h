// The requests a coordinator holds until each is answered: their queue (served in order; a
// request re-issued after a failure goes back to its head), which members hold each one, the
// progress a dispatch policy keeps on it, and the wire ids that tell a reply to the current
// attempt from a late one. Plain state, no links or threads: the coordinator holds it under its
// lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "cluster/inference_client.h"
#include "runtime/session.h"

namespace fluidedge::cluster {

// How one request is being served.
enum class DispatchMode {
  kHighThroughput,  // one member answers it
  kHighAccuracy,    // every live member runs it; the combiner of the live subset joins them
  kPipeline,        // a Static chain's stages, one after another
};
std::string dispatch_mode_name(DispatchMode mode);  // "ht", "ha", "pipeline" (Answer::mode)

// A Fluid request's progress: in HA, each member's outputs so far.
struct FluidProgress {
  std::map<int, runtime::TensorMap> gathered;
};

// A chain's (Static, Dynamic) progress: the stage it is at and what earlier stages produced.
struct ChainProgress {
  size_t step = 0;
  bool stops_early = false;  // Dynamic: this stage answers (the next group is down)
  runtime::TensorMap carried;
  std::string last_prediction, last_key;  // the latest prediction available, and whose
};

struct Request {
  uint64_t id = 0;
  runtime::TensorMap inputs;
  std::function<void(Answer)> complete;  // called once, without the coordinator's lock held
  std::chrono::steady_clock::time_point submitted;
  int attempts = 0;
  DispatchMode mode = DispatchMode::kHighThroughput;  // as dispatched
  std::set<int> waiting;                              // members holding it now
  std::vector<std::string> nodes;                     // members that answered it
  std::variant<FluidProgress, ChainProgress> progress;

  FluidProgress& fluid() { return std::get<FluidProgress>(progress); }
  ChainProgress& chain() { return std::get<ChainProgress>(progress); }
  const ChainProgress& chain() const { return std::get<ChainProgress>(progress); }
};

class RequestBook {
 public:
  // The id a request's attempt carries on the wire: the attempt in the low bits, so that a late
  // reply to an earlier attempt is never taken for the current one.
  static uint64_t wire_id(const Request& req);

  // Takes `req` on the books with the next id, at the back of the queue.
  void add(std::shared_ptr<Request> req);
  // The request a reply with `wire` answers, if member `m` still holds that attempt of it;
  // else null, and the reply is counted as late.
  Request* match_reply(uint64_t wire, int m);
  // Takes request `id` off the books (freeing nothing else: the caller settles its members).
  std::shared_ptr<Request> remove(uint64_t id);

  // The oldest queued request still on the books, or null.
  Request* next_pending();
  void pop_pending() { pending_.pop_front(); }
  void queue_first(const Request& req) { pending_.push_front(req.id); }
  size_t backlog() const { return pending_.size(); }

  std::vector<std::shared_ptr<Request>> held_by(int m) const;
  std::vector<std::shared_ptr<Request>> submitted_before(std::chrono::steady_clock::time_point t) const;
  std::vector<std::shared_ptr<Request>> all() const;
  int64_t late_replies() const { return late_; }

 private:
  std::map<uint64_t, std::shared_ptr<Request>> requests_;
  std::deque<uint64_t> pending_;
  uint64_t next_id_ = 1;
  int64_t late_ = 0;
};

}  // namespace fluidedge::cluster
