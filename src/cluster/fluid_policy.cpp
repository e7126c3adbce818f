#include "cluster/fluid_policy.h"

#include <algorithm>

#include <fmt/format.h>

namespace fluidedge::cluster {

FluidPolicy::FluidPolicy(ClusterConfig config, const Membership& members)
    : config_(std::move(config)), members_(members), auto_mode_(config_.latency_target_ms, config_.max_batch) {}

void FluidPolicy::admit(Request& req) const { req.progress = FluidProgress{}; }

DispatchMode FluidPolicy::choose(const Load& load) {
  switch (config_.mode) {
    case Mode::kHighThroughput:
      return DispatchMode::kHighThroughput;
    case Mode::kHighAccuracy:
      return DispatchMode::kHighAccuracy;
    case Mode::kAuto:
      break;
  }
  return auto_mode_.choose(load, members_.ready_count());
}

std::vector<std::string> FluidPolicy::wanted(const Request& req, int m) const {
  const NodeSpec& spec = members_[m].spec;
  if (req.mode == DispatchMode::kHighThroughput) return {spec.prediction};
  return {spec.prediction, spec.features};
}

Dispatch FluidPolicy::dispatch(Request& req, const Load& load, DispatchActions& act) {
  if (req.waiting.empty()) req.mode = choose(load);
  std::vector<int> ready = members_.ready();
  if (ready.empty()) return Dispatch::kBlocked;  // wait for a node to (re)join
  req.attempts++;
  if (req.mode == DispatchMode::kHighThroughput) {
    // The member with the fewest requests in flight (ties: the faster one). A faster member
    // drains its queue sooner and so takes a larger share: traffic follows measured capacity,
    // links and micro-batching included, without trusting a model of either.
    int best = -1;
    for (int m : ready) {
      if (!members_.has_room(m)) continue;
      const Member& c = members_[m];
      if (best < 0 || c.in_flight < members_[best].in_flight ||
          (c.in_flight == members_[best].in_flight && c.service_ms < members_[best].service_ms))
        best = m;
    }
    if (best < 0 || !act.send(req, best, req.inputs, wanted(req, best))) {
      req.attempts--;
      return Dispatch::kBlocked;
    }
    return Dispatch::kSent;
  }
  // HA: every ready member, or none until each has room.
  if (!std::all_of(ready.begin(), ready.end(), [&](int m) { return members_.has_room(m); })) {
    req.attempts--;
    return Dispatch::kBlocked;
  }
  for (int m : ready) act.send(req, m, req.inputs, wanted(req, m));
  if (req.waiting.empty()) {
    req.attempts--;
    return Dispatch::kBlocked;
  }
  return Dispatch::kSent;
}

void FluidPolicy::on_outputs(Request& req, int m, runtime::TensorMap outputs, DispatchActions& act) {
  const NodeSpec& spec = members_[m].spec;
  if (req.mode == DispatchMode::kHighThroughput) {
    Answer a;
    a.prediction = outputs.at(spec.prediction);
    a.produced_by = spec.key;
    act.answer(req, std::move(a));
    return;
  }
  req.fluid().gathered[m] = std::move(outputs);
  if (req.waiting.empty()) finish_high_accuracy(req, act);
}

void FluidPolicy::on_lost(Request& req, int /*m*/, DispatchActions& act) {
  if (req.mode == DispatchMode::kHighAccuracy) {
    if (!req.waiting.empty()) return;  // others still working on it
    if (!req.fluid().gathered.empty()) {
      finish_high_accuracy(req, act);  // the members that answered are the live subset
      return;
    }
  }
  req.fluid().gathered.clear();
  act.requeue(req);
}

void FluidPolicy::finish_high_accuracy(Request& req, DispatchActions& act) {
  auto& gathered = req.fluid().gathered;
  std::vector<int> ms;
  for (auto& [m, out] : gathered) ms.push_back(m);
  std::sort(ms.begin(), ms.end(), [&](int a, int b) { return members_[a].spec.key < members_[b].spec.key; });
  std::string key;
  for (int m : ms) key += (key.empty() ? "" : "+") + members_[m].spec.key;
  if (ms.size() == 1) {
    Answer a;
    a.prediction = gathered[ms[0]].at(members_[ms[0]].spec.prediction);
    a.produced_by = key;
    act.answer(req, std::move(a));
    return;
  }
  auto combiner = config_.combiners.find(key);
  if (combiner == config_.combiners.end()) {
    act.fail(req, fmt::format("the model has no combiner for sub-networks {}", key));
    return;
  }
  runtime::TensorMap features;
  for (int m : ms) {
    const auto& f = members_[m].spec.features;
    features[f] = gathered[m].at(f);
  }
  act.combine(req, key, combiner->second, std::move(features));
}

std::string FluidPolicy::cannot_serve(int /*waited_ms*/) const { return {}; }  // any member serves

}  // namespace fluidedge::cluster
