#include "cluster/membership.h"

#include <algorithm>
#include <filesystem>

namespace fluidedge::cluster {

Membership::Membership(const std::vector<NodeSpec>& nodes, int window) : window_(window) {
  for (const auto& spec : nodes) {
    Member m;
    m.spec = spec;
    m.part_id = std::filesystem::path(spec.part_file).stem().string();
    members_.push_back(std::move(m));
  }
}

std::vector<int> Membership::ready() const {
  std::vector<int> out;
  for (int m = 0; m < size(); ++m)
    if (members_[m].ready) out.push_back(m);
  return out;
}

int Membership::ready_count() const {
  return static_cast<int>(std::count_if(members_.begin(), members_.end(), [](const Member& m) { return m.ready; }));
}

bool Membership::all_ready() const { return ready_count() == size(); }

bool Membership::has_room(int m) const { return (*this)[m].ready && (*this)[m].in_flight < window_; }

void Membership::joined(int m, std::vector<std::string> part_inputs, std::chrono::steady_clock::time_point when) {
  Member& member = (*this)[m];
  member.part_inputs = std::move(part_inputs);
  member.ready = true;
  member.joining = false;
  member.in_flight = 0;
  double sum = 0;
  int known = 0;
  for (const auto& other : members_)
    if (&other != &member && other.ready) sum += other.service_ms, ++known;
  member.service_ms = known ? sum / known : 1.0;
  events_.push_back({member.spec.name, true, when, "joined"});
}

void Membership::went_down(int m, const std::string& reason, std::chrono::steady_clock::time_point when) {
  Member& member = (*this)[m];
  member.ready = false;
  member.in_flight = 0;
  events_.push_back({member.spec.name, false, when, reason});
}

void Membership::replied(int m, double compute_ms, int batch) {
  Member& member = (*this)[m];
  member.in_flight--;
  member.answered++;
  double per_request = std::min(compute_ms / std::max(1, batch), 4 * member.service_ms);
  member.service_ms = 0.8 * member.service_ms + 0.2 * per_request;
}

std::vector<NodeStatus> Membership::status() const {
  std::vector<NodeStatus> out;
  for (const auto& m : members_)
    out.push_back({m.spec.name, m.spec.address, m.spec.key, m.ready, m.in_flight, m.answered, m.service_ms});
  return out;
}

}  // namespace fluidedge::cluster
