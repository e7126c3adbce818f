#include "cluster/chain_policy.h"

#include <fmt/format.h>

namespace fluidedge::cluster {

ChainPolicy::ChainPolicy(ClusterConfig config, const Membership& members)
    : config_(std::move(config)), members_(members), auto_mode_(config_.latency_target_ms, config_.max_batch) {}

void ChainPolicy::admit(Request& req) const { req.progress = ChainProgress{}; }

bool ChainPolicy::last_stage(const Request& req) const {
  const auto& chain = req.chain();
  return chain.step + 1 == static_cast<size_t>(members_.size()) || chain.stops_early ||
         (is_dynamic() && req.mode == DispatchMode::kHighThroughput);
}

std::vector<std::string> ChainPolicy::wanted(const Request& req, int m) const {
  const NodeSpec& spec = members_[m].spec;
  if (last_stage(req) && !spec.prediction.empty()) return {spec.prediction};
  return {};
}

std::string ChainPolicy::lost_stage_error(int m) const {
  const auto& spec = members_[m].spec;
  if (is_static())
    return fmt::format(
        "Static DNN cannot answer: node '{}' ({}) holding {} is down, and a static model needs "
        "every stage",
        spec.name, spec.address, spec.key);
  return fmt::format(
      "Dynamic DNN cannot answer: node '{}' ({}) holding group 1 is down, and every group needs "
      "group 1's activations",
      spec.name, spec.address);
}

void ChainPolicy::deliver(Request& req, DispatchActions& act) const {
  const auto& chain = req.chain();
  Answer a;
  a.prediction = chain.carried.at(chain.last_prediction);
  a.produced_by = is_static() ? "full" : chain.last_key;
  act.answer(req, std::move(a));
}

Dispatch ChainPolicy::dispatch(Request& req, const Load& load, DispatchActions& act) {
  auto& chain = req.chain();
  if (chain.step == 0) {
    req.mode = is_static()                             ? DispatchMode::kPipeline
               : config_.mode == Mode::kAuto           ? auto_mode_.choose(load, members_.ready_count())
               : config_.mode == Mode::kHighThroughput ? DispatchMode::kHighThroughput
                                                       : DispatchMode::kHighAccuracy;
  }
  const int m = static_cast<int>(chain.step);
  if (!members_[m].ready) {
    if (is_dynamic() && chain.step > 0) {
      deliver(req, act);  // a later group is gone: the smaller sub-network answers
      return Dispatch::kDone;
    }
    if (members_[m].joining) return Dispatch::kBlocked;
    act.fail(req, lost_stage_error(m));
    return Dispatch::kDone;
  }
  if (!members_.has_room(m)) return Dispatch::kBlocked;
  // Dynamic with the next group down: this group answers, so ask it for the logits only rather
  // than the activations no one would read.
  const size_t next = chain.step + 1;
  chain.stops_early = is_dynamic() && next < static_cast<size_t>(members_.size()) &&
                      !members_[static_cast<int>(next)].ready && !members_[static_cast<int>(next)].joining;
  runtime::TensorMap inputs;
  for (const auto& name : members_[m].part_inputs) {
    if (auto it = req.inputs.find(name); it != req.inputs.end()) {
      inputs[name] = it->second;
      continue;
    }
    auto c = chain.carried.find(name);
    if (c == chain.carried.end()) {
      act.fail(req,
               fmt::format("part on '{}' needs '{}', which no earlier stage produced", members_[m].spec.name, name));
      return Dispatch::kDone;
    }
    inputs[name] = c->second;
  }
  // One attempt per request: a chain never re-issues (a lost stage fails or answers it).
  if (chain.step == 0) req.attempts = 1;
  if (!act.send(req, m, inputs, wanted(req, m))) return Dispatch::kBlocked;
  return Dispatch::kSent;
}

void ChainPolicy::on_outputs(Request& req, int m, runtime::TensorMap outputs, DispatchActions& act) {
  auto& chain = req.chain();
  const NodeSpec& spec = members_[m].spec;
  for (auto& [name, t] : outputs) chain.carried[name] = std::move(t);
  if (!spec.prediction.empty()) {
    chain.last_prediction = spec.prediction;
    chain.last_key = spec.key;
  }
  if (last_stage(req)) {
    deliver(req, act);
    return;
  }
  chain.step++;
  act.requeue(req);
}

void ChainPolicy::on_lost(Request& req, int m, DispatchActions& act) {
  const auto& chain = req.chain();
  if (is_dynamic() && chain.step > 0 && !chain.last_prediction.empty()) {
    deliver(req, act);  // a later group died: the sub-network the earlier groups form answers
    return;
  }
  act.fail(req, lost_stage_error(m));
}

std::string ChainPolicy::cannot_serve(int waited_ms) const {
  if (is_static()) {
    for (int m = 0; m < members_.size(); ++m)
      if (!members_[m].ready)
        return fmt::format(
            "Static DNN cannot serve: node '{}' ({}) holding {} did not come up within {} ms, and a static model "
            "needs every stage",
            members_[m].spec.name, members_[m].spec.address, members_[m].spec.key, waited_ms);
    return {};
  }
  if (!members_[0].ready)
    return fmt::format(
        "Dynamic DNN cannot serve: node '{}' ({}) holding group 1 did not come up within {} ms, and every group "
        "needs group 1's activations",
        members_[0].spec.name, members_[0].spec.address, waited_ms);
  return {};
}

}  // namespace fluidedge::cluster
