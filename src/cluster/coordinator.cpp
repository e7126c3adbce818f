#include "cluster/coordinator.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "cluster/combiner_set.h"
#include "cluster/dispatch_policy.h"
#include "cluster/request_book.h"
#include "cluster/wire.h"
#include "common/error.h"
#include "common/files.h"
#include "runtime/backends.h"

namespace fluidedge::cluster {
namespace {

using Clock = std::chrono::steady_clock;
using Completions = std::vector<std::function<void()>>;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The part file of `spec`, inline when it fits in a message, else by path (the node reads its
// own copy).
wire::DeployRequest deploy_request(const NodeSpec& spec, const std::string& part_id, int max_batch) {
  wire::DeployRequest request;
  request.set_part(part_id);
  request.set_max_batch(max_batch);
  auto size = std::filesystem::file_size(spec.part_file);
  if (size + 4096 < static_cast<uintmax_t>(kMaxMessageBytes))
    request.set_onnx(read_file(spec.part_file, "a model part"));
  else
    request.set_path(spec.part_file);
  return request;
}

}  // namespace

struct Coordinator::Impl {
  ClusterConfig config;
  mutable std::mutex mutex;  // guards members, book, policy, latency_ms and stopping
  std::condition_variable wake;
  Membership members;
  RequestBook book;
  std::unique_ptr<DispatchPolicy> policy;
  std::vector<std::unique_ptr<NodeLink>> links;  // one per member, same order
  CombinerSet combiners;
  double latency_ms = 0;  // answers' latency, smoothed (auto mode)
  bool stopping = false;

  std::mutex join_mutex;
  std::condition_variable join_wake;
  std::deque<int> to_join;

  std::thread dispatcher, joiner;

  explicit Impl(ClusterConfig c)
      : config(std::move(c)), members(config.nodes, config.window), policy(make_dispatch_policy(config, members)) {}

  // What the policy does through: sends on the links, and answers collected in `done` to be
  // completed once the lock is released. Used under `mutex`.
  struct Actions final : DispatchActions {
    Impl& im;
    Completions& done;
    Actions(Impl& i, Completions& d) : im(i), done(d) {}

    bool send(Request& req, int m, const runtime::TensorMap& inputs, const std::vector<std::string>& wanted) override {
      Member& member = im.members[m];
      wire::InferRequest w;
      w.set_id(RequestBook::wire_id(req));
      w.set_part(member.part_id);
      // What is left of the request's time: the node will not spend work on it after that.
      w.set_budget_ms(static_cast<uint32_t>(
          std::max<double>(1.0, im.config.request_timeout_ms - ms_between(req.submitted, Clock::now()))));
      for (const auto& name : wanted) w.add_outputs(name);
      to_wire(inputs, w.mutable_inputs());
      if (!im.links[static_cast<size_t>(m)]->send(std::move(w))) {
        member.ready = false;  // the link says down; its own event follows
        return false;
      }
      req.waiting.insert(m);
      member.in_flight++;
      return true;
    }
    void answer(Request& req, Answer a) override { im.complete(req, std::move(a), done); }
    void fail(Request& req, const std::string& error) override {
      Answer a;
      a.error = error;
      im.complete(req, std::move(a), done);
    }
    void combine(Request& req, const std::string& key, const std::string& path, runtime::TensorMap features) override {
      // The combiner runs after the lock is released; the answer is set there.
      Answer a;
      a.produced_by = key;
      auto holder = im.detach(req, a);
      done.push_back([&im = im, holder, a = std::move(a), features = std::move(features), path, key]() mutable {
        try {
          a.prediction = im.combiners.run(key, path, features);
        } catch (const std::exception& e) {
          a.error = fmt::format("combiner {}: {}", key, e.what());
        }
        a.latency_ms = ms_between(holder->submitted, Clock::now());
        if (a.error.empty()) {
          std::lock_guard lock(im.mutex);
          im.note_latency(a.latency_ms);
        }
        holder->complete(std::move(a));
      });
    }
    void requeue(Request& req) override { im.book.queue_first(req); }
  };

  // ---------------------------------------------------------------- answers
  // Takes `req` off the books (its members' in-flight slots freed) and fills what `a` must say
  // about it. Returns the request, which the caller completes once the lock is released.
  std::shared_ptr<Request> detach(Request& req, Answer& a) {
    a.id = req.id;
    a.attempts = std::max(1, req.attempts);
    a.mode = dispatch_mode_name(req.mode);
    a.nodes = req.nodes;
    for (int m : req.waiting) members[m].in_flight--;
    req.waiting.clear();
    return book.remove(req.id);
  }

  void note_latency(double ms) { latency_ms = latency_ms == 0 ? ms : 0.9 * latency_ms + 0.1 * ms; }

  void complete(Request& req, Answer a, Completions& done) {
    auto holder = detach(req, a);
    a.latency_ms = ms_between(holder->submitted, Clock::now());
    if (a.error.empty()) note_latency(a.latency_ms);
    done.push_back([holder, a = std::move(a)]() mutable { holder->complete(std::move(a)); });
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
    Completions done;
    {
      std::lock_guard lock(mutex);
      const auto& spec = members[m].spec;
      spdlog::warn("node '{}' ({}) is down: {}", spec.name, spec.address, reason);
      members.went_down(m, reason, Clock::now());
      Actions act(*this, done);
      // The policy may answer (and so take off the books) requests: collect them first.
      for (auto& req : book.held_by(m)) {
        req->waiting.erase(m);
        policy->on_lost(*req, m, act);
      }
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
    NodeLink& link = *links[static_cast<size_t>(m)];
    NodeSpec spec;
    std::string part_id;
    {
      std::lock_guard lock(mutex);
      spec = members[m].spec;
      part_id = members[m].part_id;
    }
    try {
      auto reply = link.deploy(deploy_request(spec, part_id, config.max_batch), 60000);
      std::vector<std::string> inputs(reply.inputs().begin(), reply.inputs().end());
      link.open_stream();
      {
        std::lock_guard lock(mutex);
        if (!link.is_up()) return;  // went down again meanwhile
        members.joined(m, std::move(inputs), Clock::now());
      }
      spdlog::info("node '{}' ({}) serves '{}'", spec.name, spec.address, part_id);
      wake.notify_all();
    } catch (const std::exception& e) {
      spdlog::warn("node '{}' could not join: {}", spec.name, e.what());
      {
        std::lock_guard lock(mutex);
        members[m].joining = false;
      }
      link.mark_down(e.what());
    }
  }

  // ---------------------------------------------------------------- replies
  void on_reply(int m, const wire::InferReply& reply) {
    Completions done;
    {
      std::lock_guard lock(mutex);
      Request* req = book.match_reply(reply.id(), m);
      if (!req) return;  // late: answered, or re-issued elsewhere
      const std::string& name = members[m].spec.name;
      req->waiting.erase(m);
      members.replied(m, reply.compute_ms(), reply.batch());
      req->nodes.push_back(name);
      Actions act(*this, done);
      if (!reply.error().empty()) {
        act.fail(*req, fmt::format("node '{}': {}", name, reply.error()));
      } else {
        runtime::TensorMap outputs;
        bool decoded = true;
        try {
          outputs = from_wire(reply.outputs());
        } catch (const std::exception& e) {
          decoded = false;
          act.fail(*req, fmt::format("node '{}' sent a bad reply: {}", name, e.what()));
        }
        if (decoded) policy->on_outputs(*req, m, std::move(outputs), act);
      }
    }
    wake.notify_all();
    for (auto& f : done) f();
  }

  // ---------------------------------------------------------------- dispatch
  void dispatch_loop() {
    std::unique_lock lock(mutex);
    while (!stopping) {
      wake.wait_for(lock, std::chrono::milliseconds(10));
      if (stopping) break;
      Completions done;
      Actions act(*this, done);
      expire(act);
      // Requests are served in order; a blocked head waits (it is the oldest).
      while (Request* req = book.next_pending()) {
        if (policy->dispatch(*req, Load{book.backlog(), latency_ms}, act) == Dispatch::kBlocked) break;
        book.pop_pending();
      }
      if (!done.empty()) {
        lock.unlock();
        for (auto& f : done) f();
        lock.lock();
      }
    }
  }

  void expire(Actions& act) {
    for (auto& req : book.submitted_before(Clock::now() - std::chrono::milliseconds(config.request_timeout_ms))) {
      std::string where = req->waiting.empty() ? "waiting for a live node" : "in flight";
      act.fail(*req, fmt::format("request {} timed out after {} ms ({})", req->id, config.request_timeout_ms, where));
    }
  }
};

Coordinator::Coordinator(ClusterConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {
  runtime::register_lean_backends();
  auto& im = *impl_;
  for (int i = 0; i < im.members.size(); ++i) {
    NodeLinkEvents events;
    events.reply = [this, i](const wire::InferReply& r) { impl_->on_reply(i, r); };
    events.down = [this, i](const std::string& why) { impl_->on_down(i, why); };
    events.up = [this, i] { impl_->on_up(i); };
    const NodeSpec& spec = im.members[i].spec;
    im.links.push_back(
        std::make_unique<NodeLink>(spec.name, spec.address, im.config.detector, std::move(events), im.config.tls));
  }
}

Coordinator::~Coordinator() { stop(); }

void Coordinator::start(int wait_ms) {
  auto& im = *impl_;
  im.dispatcher = std::thread([this] { impl_->dispatch_loop(); });
  im.joiner = std::thread([this] { impl_->join_loop(); });
  for (auto& link : im.links) link->start();
  auto deadline = Clock::now() + std::chrono::milliseconds(wait_ms);
  std::unique_lock lock(im.mutex);
  im.wake.wait_until(lock, deadline, [&] { return im.members.all_ready(); });
  std::vector<std::string> missing;
  for (int m = 0; m < im.members.size(); ++m)
    if (!im.members[m].ready)
      missing.push_back(fmt::format("'{}' ({})", im.members[m].spec.name, im.members[m].spec.address));
  if (static_cast<int>(missing.size()) == im.members.size())
    fail("{}: node{} {} did not come up within {} ms", im.config.source, missing.size() == 1 ? "" : "s",
         fmt::join(missing, ", "), wait_ms);
  if (auto why = im.policy->cannot_serve(wait_ms); !why.empty()) fail("{}: {}", im.config.source, why);
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
  for (auto& link : im.links) link->stop();
  Completions done;
  {
    std::lock_guard lock(im.mutex);
    Impl::Actions act(im, done);
    for (auto& req : im.book.all()) act.fail(*req, "the coordinator stopped before an answer came");
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
      im.policy->admit(*req);
      im.book.add(std::move(req));
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
  return impl_->members.status();
}

std::vector<MembershipEvent> Coordinator::events() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->members.events();
}

const ClusterConfig& Coordinator::config() const { return impl_->config; }

int64_t Coordinator::late_replies() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->book.late_replies();
}

}  // namespace fluidedge::cluster
