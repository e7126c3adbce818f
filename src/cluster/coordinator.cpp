#include "cluster/coordinator.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "cluster/wire.h"
#include "common/error.h"
#include "common/files.h"
#include "graph/onnx_io.h"
#include "runtime/backends.h"

namespace fluidedge::cluster {
namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Wire ids carry the attempt, so a late reply to an earlier attempt is never taken for the
// current one.
constexpr uint64_t kAttemptBits = 8;
uint64_t wire_id(uint64_t request, int attempt) {
  return (request << kAttemptBits) | static_cast<uint64_t>(attempt & 0xff);
}

struct Member {
  NodeSpec spec;
  std::string part_id;
  std::unique_ptr<NodeLink> link;
  bool ready = false;
  bool joining = false;
  int in_flight = 0;
  int64_t answered = 0;
  double service_ms = 1.0;  // per request, smoothed
  std::vector<std::string> part_inputs;
};

struct Request {
  uint64_t id = 0;
  runtime::TensorMap inputs;
  std::function<void(Answer)> complete;  // called once, without the lock held
  Clock::time_point submitted;
  int attempts = 0;
  std::string mode;                            // as dispatched: "ht", "ha", "pipeline"
  size_t step = 0;                             // chains: the stage it is at
  bool stops_early = false;                    // Dynamic: the current stage answers (later group down)
  runtime::TensorMap carried;                  // chains: outputs of earlier stages
  std::string last_prediction, last_key;       // chains: latest prediction available
  std::map<int, runtime::TensorMap> gathered;  // HA: member -> outputs
  std::set<int> waiting;                       // members holding it now
  std::vector<std::string> nodes;
};

}  // namespace

struct Coordinator::Impl {
  ClusterConfig config;
  mutable std::mutex mutex;
  std::condition_variable wake;
  std::vector<Member> members;
  std::map<uint64_t, std::shared_ptr<Request>> requests;
  std::deque<uint64_t> pending;
  uint64_t next_id = 1;
  bool stopping = false;
  std::vector<MembershipEvent> events;
  int64_t late = 0;
  bool ha_active = true;  // auto mode's current choice
  double latency_ms = 0;  // smoothed answer latency (auto mode)

  std::mutex join_mutex;
  std::condition_variable join_wake;
  std::deque<int> to_join;

  std::mutex combiner_mutex;
  std::map<std::string, std::unique_ptr<runtime::Session>> combiners;

  std::thread dispatcher, joiner;

  explicit Impl(ClusterConfig c) : config(std::move(c)) {}

  bool chained() const { return config.variant != Variant::kFluid; }

  // Chains: whether the request's current stage gives the answer (Dynamic HT stops at group 1,
  // Dynamic HA at the last group whose successor is down).
  bool last_stage(const Request& req) const {
    return req.step + 1 == members.size() || req.stops_early ||
           (config.variant == Variant::kDynamic && req.mode == "ht");
  }

  // ---------------------------------------------------------------- membership
  void on_up(int m) {
    {
      std::lock_guard lock(mutex);
      members[m].joining = true;
    }
    {
      std::lock_guard lock(join_mutex);
      to_join.push_back(m);
    }
    join_wake.notify_one();
  }

  void on_down(int m, const std::string& reason) {
    std::vector<std::function<void()>> done;
    {
      std::lock_guard lock(mutex);
      Member& member = members[m];
      events.push_back({member.spec.name, false, Clock::now(), reason});
      member.ready = false;
      spdlog::warn("node '{}' ({}) is down: {}", member.spec.name, member.spec.address, reason);
      // lose() may answer (and so erase) requests: collect them first.
      std::vector<std::shared_ptr<Request>> held;
      for (auto& [id, req] : requests)
        if (req->waiting.count(m)) held.push_back(req);
      for (auto& req : held) lose(*req, m, done);
    }
    wake.notify_all();
    for (auto& f : done) f();
  }

  void join_loop() {
    while (true) {
      int m;
      {
        std::unique_lock lock(join_mutex);
        join_wake.wait(lock, [&] {
          std::lock_guard l(mutex);
          return stopping || !to_join.empty();
        });
        {
          std::lock_guard l(mutex);
          if (stopping) return;
        }
        m = to_join.front();
        to_join.pop_front();
      }
      join(m);
    }
  }

  // Brings a node that answers its health check into service: (re)deploy its part (a restarted
  // node has none; deploying again is idempotent) and open a fresh stream.
  void join(int m) {
    Member& member = members[m];
    try {
      wire::DeployRequest request;
      request.set_part(member.part_id);
      request.set_max_batch(config.max_batch);
      auto size = std::filesystem::file_size(member.spec.part_file);
      if (size + 4096 < static_cast<uintmax_t>(kMaxMessageBytes))
        request.set_onnx(read_file(member.spec.part_file, "a model part"));
      else
        request.set_path(member.spec.part_file);  // too large to send: the node reads its own copy
      auto reply = member.link->deploy(request, 60000);
      std::vector<std::string> inputs(reply.inputs().begin(), reply.inputs().end());
      member.link->open_stream();
      {
        std::lock_guard lock(mutex);
        member.part_inputs = std::move(inputs);
        if (!member.link->is_up()) return;  // went down again meanwhile
        member.ready = true;
        member.joining = false;
        member.in_flight = 0;
        // A (re)joining node starts from the others' measured speed, not from its old estimate
        // (which, stale and unrefreshed without traffic, could keep it idle).
        double sum = 0;
        int known = 0;
        for (const auto& other : members)
          if (&other != &member && other.ready) sum += other.service_ms, ++known;
        member.service_ms = known ? sum / known : 1.0;
        events.push_back({member.spec.name, true, Clock::now(), "joined"});
      }
      spdlog::info("node '{}' ({}) serves '{}'", member.spec.name, member.spec.address, member.part_id);
      wake.notify_all();
    } catch (const std::exception& e) {
      spdlog::warn("node '{}' could not join: {}", member.spec.name, e.what());
      {
        std::lock_guard lock(mutex);
        member.joining = false;
      }
      member.link->mark_down(e.what());
    }
  }

  // ---------------------------------------------------------------- answers
  // Takes `req` off the books (its in-flight slots freed) and fills what `a` must say about it.
  // Returns the request, which the caller completes once the lock is released.
  std::shared_ptr<Request> detach(Request& req, Answer& a) {
    a.id = req.id;
    a.attempts = req.attempts;
    a.mode = req.mode;
    a.nodes = req.nodes;
    for (int m : req.waiting) members[m].in_flight--;
    req.waiting.clear();
    auto holder = requests.at(req.id);
    requests.erase(req.id);
    return holder;
  }

  // Auto mode's smoothed latency of answered requests (under `mutex`).
  void note_latency(double ms) { latency_ms = latency_ms == 0 ? ms : 0.9 * latency_ms + 0.1 * ms; }

  void answer(Request& req, Answer a, std::vector<std::function<void()>>& done) {
    auto holder = detach(req, a);
    a.latency_ms = ms_between(holder->submitted, Clock::now());
    if (a.error.empty()) note_latency(a.latency_ms);
    done.push_back([holder, a = std::move(a)]() mutable { holder->complete(std::move(a)); });
  }

  void fail_request(Request& req, const std::string& error, std::vector<std::function<void()>>& done) {
    Answer a;
    a.error = error;
    answer(req, std::move(a), done);
  }

  // A member holding `req` is gone.
  void lose(Request& req, int m, std::vector<std::function<void()>>& done) {
    req.waiting.erase(m);
    members[m].in_flight = 0;
    if (!chained()) {
      if (req.mode == "ha" && !req.waiting.empty()) return;  // others still working on it
      if (req.mode == "ha" && !req.gathered.empty()) {
        finish_ha(req, done);
        return;
      }
      requeue(req);
      return;
    }
    if (config.variant == Variant::kDynamic && req.step > 0 && !req.last_prediction.empty()) {
      // A later group died: answer with the sub-network the earlier groups form.
      deliver_chain(req, done);
      return;
    }
    fail_request(req, chain_error(m), done);
  }

  void requeue(Request& req) {
    req.gathered.clear();
    pending.push_front(req.id);
  }

  std::string chain_error(int m) const {
    const auto& spec = members[m].spec;
    if (config.variant == Variant::kStatic)
      return fmt::format(
          "Static DNN cannot answer: node '{}' ({}) holding {} is down, and a static model needs "
          "every stage",
          spec.name, spec.address, spec.key);
    return fmt::format(
        "Dynamic DNN cannot answer: node '{}' ({}) holding group 1 is down, and every group needs "
        "group 1's activations",
        spec.name, spec.address);
  }

  void deliver_chain(Request& req, std::vector<std::function<void()>>& done) {
    Answer a;
    a.prediction = req.carried.at(req.last_prediction);
    a.produced_by = config.variant == Variant::kStatic ? "full" : req.last_key;
    answer(req, std::move(a), done);
  }

  void finish_ha(Request& req, std::vector<std::function<void()>>& done) {
    std::vector<int> ms;
    for (auto& [m, out] : req.gathered) ms.push_back(m);
    std::sort(ms.begin(), ms.end(), [&](int a, int b) { return members[a].spec.key < members[b].spec.key; });
    std::string key;
    for (int m : ms) key += (key.empty() ? "" : "+") + members[m].spec.key;
    if (ms.size() == 1) {
      Answer a;
      a.prediction = req.gathered[ms[0]].at(members[ms[0]].spec.prediction);
      a.produced_by = key;
      answer(req, std::move(a), done);
      return;
    }
    runtime::TensorMap features;
    for (int m : ms) {
      const auto& f = members[m].spec.features;
      features[f] = req.gathered[m].at(f);
    }
    auto path_it = config.combiners.find(key);
    if (path_it == config.combiners.end()) {
      fail_request(req, fmt::format("the model has no combiner for sub-networks {}", key), done);
      return;
    }
    std::string path = path_it->second;
    // The combiner runs after the lock is released; the answer is set there.
    Answer a;
    a.produced_by = key;
    auto holder = detach(req, a);
    done.push_back([this, holder, a = std::move(a), features = std::move(features), path, key]() mutable {
      try {
        std::lock_guard lock(combiner_mutex);
        auto& session = combiners[key];
        if (!session) session = runtime::make_session("fast", graph::load_onnx(path));
        auto out = session->run(features);
        a.prediction = out.begin()->second;
      } catch (const std::exception& e) {
        a.error = fmt::format("combiner {}: {}", key, e.what());
      }
      a.latency_ms = ms_between(holder->submitted, Clock::now());
      if (a.error.empty()) {
        std::lock_guard lock(mutex);
        note_latency(a.latency_ms);
      }
      holder->complete(std::move(a));
    });
  }

  void on_reply(int m, const wire::InferReply& reply) {
    std::vector<std::function<void()>> done;
    {
      std::lock_guard lock(mutex);
      uint64_t id = reply.id() >> kAttemptBits;
      auto it = requests.find(id);
      if (it == requests.end() || wire_id(id, it->second->attempts) != reply.id() || !it->second->waiting.count(m)) {
        ++late;
        return;
      }
      Request& req = *it->second;
      Member& member = members[m];
      req.waiting.erase(m);
      member.in_flight--;
      member.answered++;
      // Time per request, smoothed; one slow batch (a first run planning a new batch size, a
      // scheduler hiccup) moves the estimate at most 4x, so it cannot starve the node of the
      // traffic that would correct it.
      double per_request = reply.compute_ms() / std::max(1, reply.batch());
      per_request = std::min(per_request, 4 * member.service_ms);
      member.service_ms = 0.8 * member.service_ms + 0.2 * per_request;
      req.nodes.push_back(member.spec.name);
      if (!reply.error().empty()) {
        fail_request(req, fmt::format("node '{}': {}", member.spec.name, reply.error()), done);
      } else {
        try {
          auto outputs = from_wire(reply.outputs());
          handle_outputs(req, m, std::move(outputs), done);
        } catch (const std::exception& e) {
          fail_request(req, fmt::format("node '{}' sent a bad reply: {}", member.spec.name, e.what()), done);
        }
      }
    }
    wake.notify_all();
    for (auto& f : done) f();
  }

  void handle_outputs(Request& req, int m, runtime::TensorMap outputs, std::vector<std::function<void()>>& done) {
    const NodeSpec& spec = members[m].spec;
    if (!chained()) {
      if (req.mode == "ht") {
        Answer a;
        a.prediction = outputs.at(spec.prediction);
        a.produced_by = spec.key;
        answer(req, std::move(a), done);
        return;
      }
      req.gathered[m] = std::move(outputs);
      if (req.waiting.empty()) finish_ha(req, done);
      return;
    }
    for (auto& [name, t] : outputs) req.carried[name] = std::move(t);
    if (!spec.prediction.empty()) {
      req.last_prediction = spec.prediction;
      req.last_key = spec.key;
    }
    if (last_stage(req)) {
      deliver_chain(req, done);
      return;
    }
    req.step++;
    pending.push_front(req.id);
  }

  // ---------------------------------------------------------------- dispatch
  enum class Dispatch { kSent, kBlocked, kDone };

  // What a member must send back for this request: only the prediction when it answers alone
  // (HT, or the last stage), the features the combiner needs in HA, everything mid-chain.
  std::vector<std::string> wanted(const Request& req, int m) const {
    const NodeSpec& spec = members[m].spec;
    if (!chained()) {
      if (req.mode == "ht") return {spec.prediction};
      return {spec.prediction, spec.features};
    }
    if (last_stage(req) && !spec.prediction.empty()) return {spec.prediction};
    return {};
  }

  bool send_to(Request& req, int m, const runtime::TensorMap& inputs) {
    wire::InferRequest w;
    w.set_id(wire_id(req.id, req.attempts));
    w.set_part(members[m].part_id);
    // What is left of the request's time: the node will not spend work on it after that.
    w.set_budget_ms(static_cast<uint32_t>(
        std::max<double>(1.0, config.request_timeout_ms - ms_between(req.submitted, Clock::now()))));
    for (const auto& name : wanted(req, m)) w.add_outputs(name);
    to_wire(inputs, w.mutable_inputs());
    if (!members[m].link->send(std::move(w))) {
      members[m].ready = false;  // the link says down; its own event follows
      return false;
    }
    req.waiting.insert(m);
    members[m].in_flight++;
    return true;
  }

  bool has_room(int m) const { return members[m].ready && members[m].in_flight < config.window; }

  std::string choose_mode() {
    if (config.mode == Mode::kHighThroughput) return "ht";
    if (config.mode == Mode::kHighAccuracy) return "ha";
    // auto: HA while the cluster keeps up; HT when a backlog builds or latency passes the target.
    int ready = 0;
    for (auto& m : members) ready += m.ready;
    size_t backlog_limit = static_cast<size_t>(std::max(1, ready)) * config.max_batch;
    if (ha_active && (pending.size() > backlog_limit || latency_ms > config.latency_target_ms))
      ha_active = false;
    else if (!ha_active && pending.size() <= 1 && latency_ms < 0.5 * config.latency_target_ms)
      ha_active = true;
    return ha_active ? "ha" : "ht";
  }

  Dispatch dispatch(Request& req, std::vector<std::function<void()>>& done) {
    if (!chained()) {
      if (req.waiting.empty()) {
        req.mode = choose_mode();
      }
      std::vector<int> ready;
      for (int m = 0; m < static_cast<int>(members.size()); ++m)
        if (members[m].ready) ready.push_back(m);
      if (ready.empty()) return Dispatch::kBlocked;  // wait for a node to (re)join
      req.attempts++;
      if (req.mode == "ht") {
        // The node with the fewest requests in flight (ties: the faster one). A faster node
        // drains its queue sooner and so takes a larger share: traffic follows measured
        // capacity, links and micro-batching included, without trusting a model of either.
        int best = -1;
        for (int m : ready) {
          if (!has_room(m)) continue;
          if (best < 0 || members[m].in_flight < members[best].in_flight ||
              (members[m].in_flight == members[best].in_flight && members[m].service_ms < members[best].service_ms))
            best = m;
        }
        if (best < 0 || !send_to(req, best, req.inputs)) {
          req.attempts--;
          return Dispatch::kBlocked;
        }
        return Dispatch::kSent;
      }
      for (int m : ready)
        if (!has_room(m)) {
          req.attempts--;
          return Dispatch::kBlocked;
        }
      for (int m : ready) send_to(req, m, req.inputs);
      if (req.waiting.empty()) {
        req.attempts--;
        return Dispatch::kBlocked;
      }
      return Dispatch::kSent;
    }
    // Chains: stage `step` runs on member `step`.
    if (req.step == 0) {
      req.mode = config.variant == Variant::kStatic ? "pipeline" : choose_mode() == "ht" ? "ht" : "ha";
      req.attempts++;
    }
    int m = static_cast<int>(req.step);
    if (!members[m].ready) {
      if (config.variant == Variant::kDynamic && req.step > 0) {
        deliver_chain(req, done);  // later group gone: the smaller sub-network answers
        return Dispatch::kDone;
      }
      if (members[m].joining) return Dispatch::kBlocked;
      fail_request(req, chain_error(m), done);
      return Dispatch::kDone;
    }
    if (!has_room(m)) return Dispatch::kBlocked;
    // Dynamic with the next group down: this group answers, so ask it for the logits only
    // rather than the activations no one would read.
    req.stops_early = config.variant == Variant::kDynamic && req.step + 1 < members.size() &&
                      !members[req.step + 1].ready && !members[req.step + 1].joining;
    runtime::TensorMap inputs;
    for (const auto& name : members[m].part_inputs) {
      auto it = req.inputs.find(name);
      if (it != req.inputs.end()) {
        inputs[name] = it->second;
        continue;
      }
      auto c = req.carried.find(name);
      if (c == req.carried.end()) {
        fail_request(
            req, fmt::format("part on '{}' needs '{}', which no earlier stage produced", members[m].spec.name, name),
            done);
        return Dispatch::kDone;
      }
      inputs[name] = c->second;
    }
    if (!send_to(req, m, inputs)) return Dispatch::kBlocked;
    return Dispatch::kSent;
  }

  void dispatch_loop() {
    std::unique_lock lock(mutex);
    while (!stopping) {
      wake.wait_for(lock, std::chrono::milliseconds(10));
      if (stopping) break;
      std::vector<std::function<void()>> done;
      expire(done);
      // Requests are served in order; a blocked head waits (it is the oldest).
      while (!pending.empty()) {
        auto it = requests.find(pending.front());
        if (it == requests.end()) {
          pending.pop_front();
          continue;
        }
        auto d = dispatch(*it->second, done);
        if (d == Dispatch::kBlocked) break;
        pending.pop_front();
      }
      if (!done.empty()) {
        lock.unlock();
        for (auto& f : done) f();
        lock.lock();
      }
    }
  }

  void expire(std::vector<std::function<void()>>& done) {
    auto now = Clock::now();
    std::vector<std::shared_ptr<Request>> late_ones;
    for (auto& [id, req] : requests)
      if (ms_between(req->submitted, now) > config.request_timeout_ms) late_ones.push_back(req);
    for (auto& req : late_ones) {
      std::string where = req->waiting.empty() ? "waiting for a live node" : "in flight";
      fail_request(
          *req, fmt::format("request {} timed out after {} ms ({})", req->id, config.request_timeout_ms, where), done);
    }
  }
};

Coordinator::Coordinator(ClusterConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {
  runtime::register_lean_backends();
  auto& im = *impl_;
  for (size_t i = 0; i < im.config.nodes.size(); ++i) {
    Member m;
    m.spec = im.config.nodes[i];
    m.part_id = std::filesystem::path(m.spec.part_file).stem().string();
    im.members.push_back(std::move(m));
  }
  for (int i = 0; i < static_cast<int>(im.members.size()); ++i) {
    NodeLinkEvents events;
    events.reply = [this, i](const wire::InferReply& r) { impl_->on_reply(i, r); };
    events.down = [this, i](const std::string& why) { impl_->on_down(i, why); };
    events.up = [this, i] { impl_->on_up(i); };
    im.members[i].link = std::make_unique<NodeLink>(im.members[i].spec.name, im.members[i].spec.address,
                                                    im.config.detector, std::move(events), im.config.tls);
  }
}

Coordinator::~Coordinator() { stop(); }

void Coordinator::start(int wait_ms) {
  auto& im = *impl_;
  im.dispatcher = std::thread([this] { impl_->dispatch_loop(); });
  im.joiner = std::thread([this] { impl_->join_loop(); });
  for (auto& m : im.members) m.link->start();
  auto deadline = Clock::now() + std::chrono::milliseconds(wait_ms);
  std::unique_lock lock(im.mutex);
  im.wake.wait_until(lock, deadline, [&] {
    return std::all_of(im.members.begin(), im.members.end(), [](const Member& m) { return m.ready; });
  });
  std::vector<std::string> missing;
  for (auto& m : im.members)
    if (!m.ready) missing.push_back(fmt::format("'{}' ({})", m.spec.name, m.spec.address));
  if (missing.size() == im.members.size())
    fail("{}: node{} {} did not come up within {} ms", im.config.source, missing.size() == 1 ? "" : "s",
         fmt::join(missing, ", "), wait_ms);
  if (im.config.variant == Variant::kStatic && !missing.empty()) {
    int down = 0;
    while (im.members[down].ready) ++down;
    fail(
        "{}: Static DNN cannot serve: node '{}' ({}) holding {} did not come up within {} ms, and a static "
        "model needs every stage",
        im.config.source, im.members[down].spec.name, im.members[down].spec.address, im.members[down].spec.key,
        wait_ms);
  }
  if (im.config.variant == Variant::kDynamic && !im.members[0].ready)
    fail(
        "{}: Dynamic DNN cannot serve: node '{}' ({}) holding group 1 did not come up within {} ms, and every "
        "group needs group 1's activations",
        im.config.source, im.members[0].spec.name, im.members[0].spec.address, wait_ms);
  for (auto& m : missing) spdlog::warn("node {} is not up yet; serving without it", m);
}

void Coordinator::stop() {
  auto& im = *impl_;
  {
    std::lock_guard lock(im.mutex);
    if (im.stopping) return;
    im.stopping = true;
  }
  im.wake.notify_all();
  im.join_wake.notify_all();
  if (im.dispatcher.joinable()) im.dispatcher.join();
  if (im.joiner.joinable()) im.joiner.join();
  for (auto& m : im.members) m.link->stop();
  std::vector<std::function<void()>> done;
  {
    std::lock_guard lock(im.mutex);
    std::vector<std::shared_ptr<Request>> open;
    for (auto& [id, req] : im.requests) open.push_back(req);
    for (auto& req : open) im.fail_request(*req, "the coordinator stopped before an answer came", done);
  }
  for (auto& f : done) f();
}

void Coordinator::submit(runtime::TensorMap inputs, std::function<void(Answer)> on_answer) {
  auto& im = *impl_;
  auto req = std::make_shared<Request>();
  req->inputs = std::move(inputs);
  req->submitted = Clock::now();
  req->complete = std::move(on_answer);
  {
    std::lock_guard lock(im.mutex);
    if (!im.stopping) {
      req->id = im.next_id++;
      im.requests[req->id] = req;
      im.pending.push_back(req->id);
      req.reset();
    }
  }
  if (req) {
    Answer a;
    a.error = "the coordinator is stopped";
    req->complete(std::move(a));
    return;
  }
  im.wake.notify_all();
}

std::vector<NodeStatus> Coordinator::nodes() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<NodeStatus> out;
  for (const auto& m : impl_->members)
    out.push_back({m.spec.name, m.spec.address, m.spec.key, m.ready, m.in_flight, m.answered, m.service_ms});
  return out;
}

std::vector<MembershipEvent> Coordinator::events() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->events;
}

const ClusterConfig& Coordinator::config() const { return impl_->config; }

int64_t Coordinator::late_replies() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->late;
}

}  // namespace fluidedge::cluster
