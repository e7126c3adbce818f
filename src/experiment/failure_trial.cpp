#include "experiment/failure_trial.h"

#include <algorithm>
#include <cmath>
#include <thread>

namespace fluidedge::experiment {

namespace {

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// When the client saw `node` go up (or down) at or after `after`.
std::optional<Clock::time_point> membership(const cluster::InferenceClient& client, const std::string& node, bool up,
                                            Clock::time_point after) {
  for (const auto& e : client.events())
    if (e.node == node && e.up == up && e.time >= after) return e.time;
  return std::nullopt;
}

}  // namespace

FailureTrial run_failure_trial(cluster::InferenceClient& client, NodeProcess& victim, const RequestMaker& make_request,
                               const FailureTrialOptions& o) {
  const auto start = Clock::now();
  const auto kill_at = start + o.before_kill;
  const auto restart_at = kill_at + o.down;
  const auto stream_end = restart_at + o.after_restart;
  std::optional<Clock::time_point> killed_time, restart_time;
  std::thread restarter;  // the restart waits for the node's start line: not on the stream's thread
  StreamOptions stream;
  stream.concurrency = o.concurrency;
  stream.stop_at = stream_end;
  stream.tick = [&] {
    const auto now = Clock::now();
    if (!killed_time && now >= kill_at) {
      killed_time = now;
      victim.kill();
    }
    if (killed_time && !restart_time && now >= restart_at) {
      restart_time = now;
      restarter = std::thread([&victim] { victim.revive(); });
    }
  };
  StreamResult s = run_stream(client, make_request, stream);
  if (restarter.joinable()) restarter.join();

  std::optional<Clock::time_point> detected, rejoined;
  if (killed_time) detected = membership(client, victim.name(), false, *killed_time - std::chrono::milliseconds(50));
  for (auto deadline = Clock::now() + o.rejoin_wait;
       restart_time && !(rejoined = membership(client, victim.name(), true, *restart_time)) && Clock::now() < deadline;)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));

  FailureTrial f;
  f.killed = victim.name();
  f.sent = s.sent;
  f.answered = s.answered;
  f.failed = s.failed;
  f.lost = s.lost;
  f.duplicated = s.duplicated;
  f.error = s.failed ? s.first_error : "";
  if (detected && killed_time) f.detect_ms = ms_between(*killed_time, *detected);
  if (detected)
    for (const RequestRecord& r : s.requests)
      if (r.submitted >= *detected && r.done && r.ok) {
        if (killed_time) f.recover_ms = ms_between(*killed_time, *r.done);
        break;
      }
  if (rejoined && restart_time) f.rejoin_ms = ms_between(*restart_time, *rejoined);

  FailureTimeline& t = f.timeline;
  t.bin_ms = o.bin_ms;
  const size_t bins = static_cast<size_t>(std::ceil(ms_between(start, stream_end) / o.bin_ms));
  t.answered.assign(bins, 0);
  t.with_killed_device.assign(bins, 0);
  for (const RequestRecord& r : s.requests) {
    if (!r.done || !r.ok) continue;
    const auto bin = static_cast<size_t>(std::max(0.0, ms_between(start, *r.done)) / o.bin_ms);
    const bool by_victim = std::find(r.nodes.begin(), r.nodes.end(), victim.name()) != r.nodes.end();
    if (bin < bins) {
      ++t.answered[bin];
      t.with_killed_device[bin] += by_victim;
    }
    if (by_victim && rejoined && *r.done >= *rejoined) ++f.served_by_it_after_rejoin;
  }
  auto at_s = [&](const std::optional<Clock::time_point>& when) -> std::optional<double> {
    if (!when) return std::nullopt;
    return ms_between(start, *when) / 1000;
  };
  t.killed_s = at_s(killed_time);
  t.detected_s = at_s(detected);
  t.restarted_s = at_s(restart_time);
  t.rejoined_s = at_s(rejoined);
  return f;
}

}  // namespace fluidedge::experiment
