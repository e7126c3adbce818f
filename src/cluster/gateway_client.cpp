#include "cluster/gateway_client.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cluster/channel_settings.h"
#include "cluster/coordinator.h"
#include "cluster/failure_detector.h"
#include "cluster/gateway.h"
#include "cluster/protocol/health.grpc.pb.h"
#include "cluster/wire.h"
#include "common/error.h"

namespace fluidedge::cluster {
namespace {
using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::chrono::system_clock::time_point deadline_in(int ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}

// A node the client may have coordinate for it.
struct Entry {
  std::string name, address;
  std::unique_ptr<wire::Gateway::Stub> stub;
  std::unique_ptr<grpc::health::v1::Health::Stub> health;  // on its own connection
  bool set_up = false;
};

struct Pending {
  wire::ClientRequest request;
  std::function<void(Answer)> on_answer;  // called once, no lock held
  Clock::time_point submitted;
};

}  // namespace

struct GatewayClient::Impl {
  ClusterConfig config;
  wire::SetupRequest setup;
  std::vector<Entry> entries;

  mutable std::mutex mutex;  // everything below
  std::map<uint64_t, Pending> pending;
  uint64_t next_id = 1;
  std::vector<MembershipEvent> events;
  int current = -1;                               // the entry whose stream is open
  std::shared_ptr<grpc::ClientContext> context_;  // its context (to cancel it)
  grpc::ClientReaderWriter<wire::ClientRequest, wire::ClientAnswer>* stream = nullptr;
  bool stopping = false;
  std::condition_variable stop_wake;  // stopping, or a stream opened
  std::thread session;
  // Health-probes the coordinating node (a silent node breaks no stream) and, every beat, fails
  // requests that waited too long.
  std::unique_ptr<FailureDetector> prober;
  std::shared_ptr<grpc::ClientContext> probed;  // the stream the current probe is about (prober's thread)

  explicit Impl(ClusterConfig c) : config(std::move(c)) {
    *setup.mutable_spec() = to_spec(config);
    setup.set_cluster(fingerprint(setup.spec()));
    for (const auto& n : config.nodes) {
      Entry e;
      e.name = n.name;
      e.address = n.address;
      e.stub = wire::Gateway::NewStub(make_channel(n.address, config.tls, n.name));
      e.health = grpc::health::v1::Health::NewStub(make_channel(n.address, config.tls, n.name));
      entries.push_back(std::move(e));
    }
  }

  // Sets the cluster up on `e`; the reason it failed otherwise.
  std::string set_up(Entry& e, int wait_ms) {
    wire::SetupRequest request = setup;
    request.set_wait_ms(wait_ms);
    grpc::ClientContext context;
    context.set_deadline(deadline_in(wait_ms + 10000));  // the wait, then deploying the parts
    wire::SetupReply reply;
    grpc::Status status = e.stub->Setup(&context, request, &reply);
    if (!status.ok())
      return status.error_message().empty() ? fmt::format("gRPC status {}", static_cast<int>(status.error_code()))
                                            : status.error_message();
    e.set_up = true;
    return "";
  }

  void note(const std::string& node, bool up, const std::string& reason) {
    events.push_back({node, up, Clock::now(), reason});
  }

  void complete(const wire::ClientAnswer& wire_answer) {
    Pending p;
    {
      std::lock_guard lock(mutex);
      auto it = pending.find(wire_answer.id());
      if (it == pending.end()) return;  // answered already (a re-sent request's first answer)
      p = std::move(it->second);
      pending.erase(it);
    }
    Answer a;
    a.id = wire_answer.id();
    a.produced_by = wire_answer.produced_by();
    a.nodes.assign(wire_answer.nodes().begin(), wire_answer.nodes().end());
    a.mode = wire_answer.mode();
    a.attempts = wire_answer.attempts();
    a.coordinator = wire_answer.coordinator();
    a.error = wire_answer.error();
    if (a.error.empty()) {
      try {
        a.prediction = from_wire(wire_answer.prediction());
      } catch (const Error& e) {
        a.error = fmt::format("answer from node '{}': {}", a.coordinator, e.what());
      }
    }
    a.latency_ms = ms_between(p.submitted, Clock::now());
    p.on_answer(std::move(a));
  }

  void fail_late_requests() {
    std::vector<Pending> late;
    auto now = Clock::now();
    std::string where;
    {
      std::lock_guard lock(mutex);
      where = current >= 0 ? fmt::format("coordinated by '{}'", entries[current].name) : "no node coordinating";
      for (auto it = pending.begin(); it != pending.end();) {
        if (ms_between(it->second.submitted, now) > config.request_timeout_ms) {
          late.push_back(std::move(it->second));
          it = pending.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& p : late) {
      Answer a;
      a.id = p.request.id();
      a.error = fmt::format("request {} timed out after {} ms ({})", a.id, config.request_timeout_ms, where);
      p.on_answer(std::move(a));
    }
  }

  // Serves through one node at a time, moving to the next when it fails.
  void session_loop(int index) {
    int failed_in_a_row = 0;
    while (true) {
      {
        std::unique_lock lock(mutex);
        if (stopping) return;
      }
      Entry& e = entries[index];
      if (!e.set_up) {
        std::string why = set_up(e, 200);
        if (!why.empty()) {
          spdlog::debug("node '{}' cannot coordinate: {}", e.name, why);
          index = (index + 1) % static_cast<int>(entries.size());
          if (++failed_in_a_row >= static_cast<int>(entries.size())) {
            // Nobody can coordinate now: wait a little before the next round.
            std::unique_lock lock(mutex);
            stop_wake.wait_for(lock, std::chrono::milliseconds(50), [&] { return stopping; });
          }
          continue;
        }
      }
      auto context = std::make_shared<grpc::ClientContext>();
      auto rw = e.stub->Serve(context.get());
      {
        std::lock_guard lock(mutex);
        if (stopping) {
          context->TryCancel();
        } else {
          context_ = context;
          stream = rw.get();
          current = index;
          note(e.name, true, "coordinating");
          for (auto& [id, p] : pending) rw->Write(p.request);  // what the last node left unanswered
        }
      }
      stop_wake.notify_all();  // start() waits for the first stream
      wire::ClientAnswer answer;
      bool answered_any = false;
      while (rw->Read(&answer)) {
        answered_any = true;
        complete(answer);
      }
      {
        std::lock_guard lock(mutex);
        stream = nullptr;
        context_.reset();
        current = -1;
      }
      grpc::Status status = rw->Finish();
      {
        std::lock_guard lock(mutex);
        if (stopping) return;
        note(e.name, false, status.ok() ? "stream ended" : status.error_message());
      }
      e.set_up = false;  // set it up again before using it: it may have restarted
      if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        spdlog::info("node '{}' forgot the cluster (restarted?): setting it up again", e.name);
        failed_in_a_row = 0;
        continue;
      }
      spdlog::warn("node '{}' stopped coordinating ({}); moving to the next node", e.name,
                   status.ok() ? "stream ended" : status.error_message());
      failed_in_a_row = answered_any ? 0 : failed_in_a_row + 1;
      index = (index + 1) % static_cast<int>(entries.size());
    }
  }

  // The coordinating node's health stub, or nullptr when no stream is open.
  grpc::health::v1::Health::Stub* probe_target() {
    std::lock_guard lock(mutex);
    probed = context_;
    return current >= 0 && probed ? entries[current].health.get() : nullptr;
  }

  void coordinator_probed(const std::string& why) {
    if (why.empty()) return;
    spdlog::debug("the coordinating node failed its health check ({})", why);
    probed->TryCancel();
  }
};

GatewayClient::GatewayClient(ClusterConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

GatewayClient::~GatewayClient() { stop(); }

void GatewayClient::start(int wait_ms) {
  auto& im = *impl_;
  std::vector<std::string> refused;
  int first = -1;
  for (size_t i = 0; i < im.entries.size(); ++i) {
    // The first node waits for the cluster to come up; by then the others need not wait.
    std::string why = im.set_up(im.entries[i], first < 0 ? wait_ms : 200);
    if (why.empty()) {
      if (first < 0) first = static_cast<int>(i);
    } else {
      refused.push_back(fmt::format("'{}' ({}): {}", im.entries[i].name, im.entries[i].address, why));
    }
  }
  if (first < 0) fail("{}: no node would coordinate: {}", im.config.source, fmt::join(refused, "; "));
  for (const auto& r : refused) spdlog::warn("node {} cannot coordinate yet", r);
  im.session = std::thread([this, first] { impl_->session_loop(first); });
  im.prober = std::make_unique<FailureDetector>(
      im.config.detector, [&im] { return im.probe_target(); },
      [&im](const std::string& why) { im.coordinator_probed(why); }, [&im] { im.fail_late_requests(); });
  im.prober->start();
  std::unique_lock lock(im.mutex);
  im.stop_wake.wait_for(lock, std::chrono::seconds(2), [&] { return im.current >= 0 || im.stopping; });
}

void GatewayClient::stop() {
  auto& im = *impl_;
  std::vector<Pending> open;
  {
    std::lock_guard lock(im.mutex);
    if (im.stopping) return;
    im.stopping = true;
    if (im.context_) im.context_->TryCancel();
    for (auto& [id, p] : im.pending) open.push_back(std::move(p));
    im.pending.clear();
  }
  im.stop_wake.notify_all();
  if (im.session.joinable()) im.session.join();
  if (im.prober) im.prober->stop();
  for (auto& p : open) {
    Answer a;
    a.id = p.request.id();
    a.error = "the client stopped before an answer came";
    p.on_answer(std::move(a));
  }
}

void GatewayClient::submit(runtime::TensorMap inputs, std::function<void(Answer)> on_answer) {
  auto& im = *impl_;
  Pending p;
  p.on_answer = std::move(on_answer);
  p.submitted = Clock::now();
  to_wire(inputs, p.request.mutable_inputs());
  p.request.set_cluster(im.setup.cluster());
  {
    std::lock_guard lock(im.mutex);
    if (!im.stopping) {
      uint64_t id = im.next_id++;
      p.request.set_id(id);
      // A failed write means the stream is ending: the session re-sends the request on the next one.
      if (im.stream) im.stream->Write(p.request);
      im.pending.emplace(id, std::move(p));
      return;
    }
  }
  Answer a;
  a.error = "the client is stopped";
  p.on_answer(std::move(a));
}

std::vector<MembershipEvent> GatewayClient::events() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->events;
}

std::string GatewayClient::coordinator() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->current >= 0 ? impl_->entries[impl_->current].name : "";
}

std::future<Answer> InferenceClient::submit(runtime::TensorMap inputs) {
  auto promise = std::make_shared<std::promise<Answer>>();
  auto future = promise->get_future();
  submit(std::move(inputs), [promise](Answer a) { promise->set_value(std::move(a)); });
  return future;
}

std::unique_ptr<InferenceClient> make_inference_client(ClusterConfig config) {
  if (config.coordination == Coordination::kNodes) return std::make_unique<GatewayClient>(std::move(config));
  return std::make_unique<Coordinator>(std::move(config));
}

}  // namespace fluidedge::cluster
