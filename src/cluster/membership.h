// Who serves in a cluster and in what state: each node's part and its inputs, whether it is
// ready, its requests in flight and its measured time per request, and the log of nodes going
// down and coming back. Plain state, no links or threads: the coordinator holds it under its
// lock and the dispatch policies read it, so each rule here is tested on its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "cluster/cluster_config.h"
#include "cluster/inference_client.h"

namespace fluidedge::cluster {

struct NodeStatus {
  std::string name, address, key;
  bool ready = false;  // up, deployed and streaming
  int in_flight = 0;
  int64_t answered = 0;   // requests this node contributed to
  double service_ms = 0;  // measured time per request
};

struct Member {
  NodeSpec spec;
  std::string part_id;                   // what the node calls its part (the file's stem)
  std::vector<std::string> part_inputs;  // as the node reported at deploy
  bool ready = false;                    // deployed and streaming
  bool joining = false;                  // up, being deployed
  int in_flight = 0;
  int64_t answered = 0;
  double service_ms = 1.0;  // per request, smoothed
};

class Membership {
 public:
  // One member per node of `nodes`, in order; at most `window` requests in flight on each.
  Membership(const std::vector<NodeSpec>& nodes, int window);

  int size() const { return static_cast<int>(members_.size()); }
  Member& operator[](int m) { return members_[static_cast<size_t>(m)]; }
  const Member& operator[](int m) const { return members_[static_cast<size_t>(m)]; }

  std::vector<int> ready() const;  // the ready members, in order
  int ready_count() const;
  bool all_ready() const;
  // Ready, with fewer than `window` requests in flight.
  bool has_room(int m) const;

  // Member m serves again: ready with nothing in flight. Its time per request starts from the
  // other ready members' mean, not from its old estimate (stale and, without traffic, never
  // refreshed, it could keep the node idle); 1 ms when it is alone.
  void joined(int m, std::vector<std::string> part_inputs, std::chrono::steady_clock::time_point when);
  // Member m is gone: not ready, nothing in flight (what it held is the book's to re-issue).
  void went_down(int m, const std::string& reason, std::chrono::steady_clock::time_point when);
  // Member m answered a batch of `batch` requests in `compute_ms`: one fewer in flight, and its
  // time per request smoothed. One slow batch (a first run planning a new batch size, a
  // scheduler hiccup) moves the estimate at most 4x, so it cannot starve the node of the traffic
  // that would correct it.
  void replied(int m, double compute_ms, int batch);

  const std::vector<MembershipEvent>& events() const { return events_; }
  std::vector<NodeStatus> status() const;

 private:
  std::vector<Member> members_;
  int window_;
  std::vector<MembershipEvent> events_;
};

}  // namespace fluidedge::cluster
