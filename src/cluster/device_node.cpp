#include "cluster/device_node.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include "cluster/channel_settings.h"
#include "cluster/gateway.h"
#include "cluster/micro_batcher.h"
#include "cluster/protocol/device_node.grpc.pb.h"
#include "cluster/speed_emulator.h"
#include "cluster/wire.h"
#include "common/error.h"
#include "common/thread_clock.h"
#include "graph/cost.h"
#include "graph/onnx_io.h"
#include "runtime/backends.h"
#include "runtime/session.h"

namespace fluidedge::cluster {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// What is wrong with a listening address, or "" if it is a well-formed HOST:PORT. (gRPC would
// take port 99999 as 34463.)
std::string malformed_address(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) return "it is not HOST:PORT";
  std::string port_text = address.substr(colon + 1);
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535)
    return fmt::format("the port '{}' is not a number from 0 to 65535", port_text);
  return "";
}

// Why gRPC could not listen on a well-formed `address`, in words a user can act on: a host that
// does not resolve, or what the kernel says when we try to bind it ourselves.
std::string why_cannot_listen(const std::string& address) {
  auto colon = address.rfind(':');
  std::string host = address.substr(0, colon), port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.empty() || host == "*" ? nullptr : host.c_str(), port_text.c_str(), &hints, &found);
      rc != 0)
    return fmt::format("the host '{}' does not resolve ({})", host, gai_strerror(rc));
  std::string reason = "gRPC refused it";
  for (addrinfo* a = found; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0) reason = std::strerror(errno);
    ::close(fd);
  }
  freeaddrinfo(found);
  return reason;
}

struct Part {
  std::string id;
  std::unique_ptr<runtime::Session> session;
  std::vector<std::string> inputs;
  int max_batch = 1;
  std::unique_ptr<SpeedEmulator> speed;  // how fast the node pretends to run it
};

// One open Infer stream. Replies are written from the link's thread; the handler returns only
// when every request it accepted has been answered (or the stream is gone).
struct StreamState {
  grpc::ServerReaderWriter<wire::InferReply, wire::InferRequest>* stream = nullptr;
  std::mutex mutex;
  std::condition_variable idle;
  int outstanding = 0;
  bool broken = false;
};

struct WorkItem {
  std::shared_ptr<StreamState> stream;
  uint64_t id = 0;
  std::shared_ptr<Part> part;
  runtime::TensorMap inputs;
  std::vector<std::string> wanted;  // outputs to return (empty: all)
  int64_t batch = 0;
  size_t size = 0;                                        // of the request, as admitted
  Clock::time_point deadline = Clock::time_point::max();  // from its budget_ms: not run after this

  // What the micro-batcher asks of an item (micro_batcher.h).
  int64_t rows() const { return batch; }
  size_t bytes() const { return size; }
  int limit() const { return part->max_batch; }
  bool batchable_with(const WorkItem& other) const;
};

// The size of a file a Deploy names (0 when it cannot be read: loading it says why).
uint64_t file_size_or_zero(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

// Requests can run in one batch if they are for the same part and agree on every dim but the
// first of every input.
bool WorkItem::batchable_with(const WorkItem& b) const {
  const WorkItem& a = *this;
  if (a.part != b.part || a.inputs.size() != b.inputs.size()) return false;
  for (const auto& [name, t] : a.inputs) {
    auto it = b.inputs.find(name);
    if (it == b.inputs.end() || it->second.dtype() != t.dtype() || it->second.rank() != t.rank() || t.rank() == 0)
      return false;
    for (int64_t d = 1; d < t.rank(); ++d)
      if (it->second.dim(d) != t.dim(d)) return false;
  }
  return true;
}

}  // namespace

struct DeviceNode::Impl final : wire::DeviceNode::Service {
  NodeOptions options;
  std::string bound_address;
  LinkEmulator rx;
  LinkEmulator tx;
  std::unique_ptr<grpc::Server> server;
  Clock::time_point started = Clock::now();

  std::mutex parts_mutex;
  std::map<std::string, std::shared_ptr<Part>> parts;

  MicroBatcher<WorkItem> batcher;  // requests read and not yet running (on the link or queued)

  std::mutex streams_mutex;
  std::map<std::string, int> streams_per_peer;
  std::thread worker;

  std::mutex stats_mutex;
  int64_t served = 0, rejected = 0, batches = 0;
  double compute_ms_total = 0;  // wall time per batch (with the slowdown)
  double cpu_ms_total = 0;      // CPU time per batch (without)
  double run_ms_total = 0;      // wall time of the runs themselves (without the slowdown's wait)
  int64_t overruns = 0;         // batches whose run alone took longer than the emulated device

  std::mutex shutdown_mutex;
  std::condition_variable shutdown_done;
  bool is_shut_down = false;

  // Coordination for clients (gateway.h), on the same server.
  std::unique_ptr<Gateway> gateway;

  explicit Impl(NodeOptions o)
      : options(std::move(o)),
        rx(options.link),
        tx(options.link),
        batcher(options.name, {options.max_queue, options.max_queue_bytes}),
        gateway(std::make_unique<Gateway>(options.name, options.tls)) {}

  // --- Deploy ---------------------------------------------------------------------------------
  grpc::Status Deploy(grpc::ServerContext* context, const wire::DeployRequest* request,
                      wire::DeployReply* reply) override {
    try {
      if (request->part().empty()) fail("deploy: the part needs a name");
      const auto size =
          static_cast<int64_t>(request->path().empty() ? request->onnx().size() : file_size_or_zero(request->path()));
      if (size > options.max_model_bytes)
        return {grpc::StatusCode::RESOURCE_EXHAUSTED,
                fmt::format("node '{}': part '{}' is {:.1f} MB, over this node's limit of {:.1f} MB (--max-model-mb)",
                            options.name, request->part(), size / 1e6, options.max_model_bytes / 1e6)};
      graph::Graph graph;
      if (!request->path().empty())
        graph = graph::load_onnx(request->path());
      else if (!request->onnx().empty())
        graph = graph::parse_onnx(request->onnx(), "part '" + request->part() + "'", "");
      else
        fail("deploy of part '{}': neither an ONNX model nor a path was sent", request->part());
      auto part = std::make_shared<Part>();
      part->id = request->part();
      runtime::SessionOptions session_options;
      session_options.threads = options.threads;
      part->session = runtime::make_session(options.backend, graph, session_options);
      part->inputs = graph.inputs;
      part->max_batch = request->max_batch() > 0 ? request->max_batch() : options.max_batch;
      std::function<double(int64_t)> device_ms;
      if (options.emulate) {
        device_ms = options.emulate.part_timer(graph);
        device_ms(1);  // costed now, not on the first request
        device_ms(part->max_batch);
      }
      part->speed = std::make_unique<SpeedEmulator>(options.slowdown, device_ms, part->max_batch);
      warm_up(*part, graph);
      auto cost = graph::graph_cost(graph);
      reply->set_part(part->id);
      for (const auto& in : part->inputs) reply->add_inputs(in);
      for (const auto& out : graph.outputs) reply->add_outputs(out);
      reply->set_params(cost.params);
      reply->set_macs(cost.macs);
      {
        std::lock_guard lock(parts_mutex);
        parts[part->id] = part;
      }
      std::string peer = peer_name(*context);
      spdlog::info("{}: deployed part '{}' ({} params, {} MACs) for {}", options.name, part->id, cost.params, cost.macs,
                   peer.empty() ? context->peer() + " (plaintext, unauthenticated)"
                                : "'" + peer + "' (" + context->peer() + ")");
      return grpc::Status::OK;
    } catch (const std::exception& e) {
      return {grpc::StatusCode::INVALID_ARGUMENT, e.what()};
    }
  }

  // Plans the part for the batch sizes it will see most (one request alone, a full micro-batch)
  // before the first request arrives, so the first answers are not slowed by planning. With a
  // slowdown, also times both sizes (best CPU time of several runs): the emulated device's speed.
  void warm_up(Part& part, const graph::Graph& graph) const {
    double best_ms[2] = {0, 0};  // one row, a full micro-batch
    for (int k = 0; k < 2; ++k) {
      const int64_t batch = k == 0 ? 1 : part.max_batch;
      if (k == 1 && batch == 1) break;
      runtime::TensorMap inputs;
      for (const auto& name : part.inputs) {
        graph::Shape shape = graph.value(name).shape;
        if (shape.empty()) return;
        shape[0] = batch;
        inputs[name] = graph::Tensor(graph.value(name).dtype, shape);
      }
      part.session->run(inputs);
      // The best of at least 5 runs and 200 ms of them (up to 100 runs): a short window can fall
      // entirely into a moment the shared core is slow (another process starting, a cache flushed).
      double best = 1e300;
      const auto window_start = Clock::now();
      for (int i = 0; part.speed->needs_calibration() && i < 100 && (i < 5 || ms_since(window_start) < 200); ++i) {
        double t0 = thread_cpu_ms();
        part.session->run(inputs);
        best = std::min(best, thread_cpu_ms() - t0);
      }
      best_ms[k] = part.speed->needs_calibration() ? best : 0.0;
    }
    if (part.speed->needs_calibration()) part.speed->calibrate(best_ms[0], best_ms[1]);
  }

  // --- Infer ----------------------------------------------------------------------------------
  grpc::Status Infer(grpc::ServerContext* context,
                     grpc::ServerReaderWriter<wire::InferReply, wire::InferRequest>* stream) override {
    std::string peer = peer_name(*context);
    if (peer.empty()) peer = context->peer().substr(0, context->peer().rfind(':'));
    {
      std::lock_guard lock(streams_mutex);
      if (streams_per_peer[peer] >= options.max_streams_per_peer)
        return {grpc::StatusCode::RESOURCE_EXHAUSTED,
                fmt::format("node '{}': {} has {} Infer streams open, the most this node allows one peer "
                            "(--max-streams-per-peer)",
                            options.name, peer, options.max_streams_per_peer)};
      ++streams_per_peer[peer];
    }
    std::shared_ptr<void> close_stream(nullptr, [this, peer](void*) {
      std::lock_guard lock(streams_mutex);
      if (--streams_per_peer[peer] == 0) streams_per_peer.erase(peer);
    });
    auto state = std::make_shared<StreamState>();
    state->stream = stream;
    wire::InferRequest request;
    while (stream->Read(&request)) {
      {
        std::lock_guard lock(state->mutex);
        ++state->outstanding;
      }
      size_t bytes = request.ByteSizeLong();
      if (std::string full = batcher.admit(bytes); !full.empty()) {
        reject(state, request.id(), full, grpc::StatusCode::RESOURCE_EXHAUSTED);
        request = wire::InferRequest();
        continue;
      }
      // The request occupies the incoming link before the node sees it.
      auto shared = std::make_shared<wire::InferRequest>(std::move(request));
      auto deadline = shared->budget_ms() > 0 ? Clock::now() + std::chrono::milliseconds(shared->budget_ms())
                                              : Clock::time_point::max();
      rx.deliver(bytes, [this, state, shared, bytes, deadline] { accept(state, *shared, bytes, deadline); });
      request = wire::InferRequest();
    }
    std::unique_lock lock(state->mutex);
    state->idle.wait(lock, [&] { return state->outstanding == 0 || state->broken; });
    // Replies still on the emulated link find the stream marked gone and are dropped.
    state->broken = true;
    (void)context;
    return grpc::Status::OK;
  }

  void accept(const std::shared_ptr<StreamState>& state, const wire::InferRequest& request, size_t bytes,
              Clock::time_point deadline) {
    WorkItem item;
    item.stream = state;
    item.id = request.id();
    item.size = bytes;
    item.deadline = deadline;
    try {
      {
        std::lock_guard lock(parts_mutex);
        auto it = parts.find(request.part());
        if (it == parts.end()) fail("node '{}' has no part '{}' (deploy it first)", options.name, request.part());
        item.part = it->second;
      }
      item.inputs = from_wire(request.inputs());
      item.wanted.assign(request.outputs().begin(), request.outputs().end());
      for (const auto& name : item.wanted)
        if (std::find(item.part->session->graph().outputs.begin(), item.part->session->graph().outputs.end(), name) ==
            item.part->session->graph().outputs.end())
          fail("part '{}' has no output '{}'", request.part(), name);
      if (item.inputs.empty()) fail("request {} carries no input tensor", request.id());
      item.batch = -1;
      for (const auto& [name, t] : item.inputs) {
        if (t.rank() == 0) fail("input '{}' has no batch dimension", name);
        if (item.batch >= 0 && t.dim(0) != item.batch)
          fail("inputs of request {} disagree on the batch size", request.id());
        item.batch = t.dim(0);
      }
    } catch (const std::exception& e) {
      batcher.release(bytes);
      reject(state, request.id(), e.what());
      return;
    }
    if (batcher.push(std::move(item))) return;
    // Shutting down: the request is dropped and the stream closed, so the sender re-issues it.
    std::lock_guard lock(state->mutex);
    --state->outstanding;
    state->broken = true;
    state->idle.notify_all();
  }

  void reject(const std::shared_ptr<StreamState>& state, uint64_t id, const std::string& message,
              grpc::StatusCode code = grpc::StatusCode::INVALID_ARGUMENT) {
    wire::InferReply reply;
    reply.set_id(id);
    reply.set_node(options.name);
    reply.set_error(message);
    reply.set_code(static_cast<int>(code));
    {
      std::lock_guard lock(stats_mutex);
      ++rejected;
    }
    send(state, std::move(reply));
  }

  void send(const std::shared_ptr<StreamState>& state, wire::InferReply reply) {
    size_t bytes = reply.ByteSizeLong();
    auto shared = std::make_shared<wire::InferReply>(std::move(reply));
    tx.deliver(bytes, [state, shared] {
      std::lock_guard lock(state->mutex);
      if (!state->broken && !state->stream->Write(*shared)) state->broken = true;
      --state->outstanding;
      state->idle.notify_all();
    });
  }

  // --- Worker: one batch at a time ------------------------------------------------------------
  void work() {
    while (true) {
      std::vector<WorkItem> batch = batcher.next_batch();
      if (batch.empty()) return;  // stopped
      // Requests whose sender has stopped waiting are answered DEADLINE_EXCEEDED, not run.
      const auto now = Clock::now();
      for (auto it = batch.begin(); it != batch.end();) {
        if (it->deadline >= now) {
          ++it;
          continue;
        }
        reject(it->stream, it->id,
               fmt::format("DEADLINE_EXCEEDED: request {} waited on node '{}' past its {} budget", it->id, options.name,
                           "sender's"),
               grpc::StatusCode::DEADLINE_EXCEEDED);
        it = batch.erase(it);
      }
      if (batch.empty()) continue;
      run_batch(batch);
    }
  }

  void run_batch(std::vector<WorkItem>& batch) {
    auto start = Clock::now();
    double cpu_start = thread_cpu_ms();
    runtime::TensorMap outputs;
    std::string error;
    try {
      runtime::TensorMap inputs;
      if (batch.size() == 1) {
        inputs = batch[0].inputs;
      } else {
        for (const auto& [name, t] : batch[0].inputs) {
          std::vector<const graph::Tensor*> slices;
          for (const auto& item : batch) slices.push_back(&item.inputs.at(name));
          inputs[name] = graph::concat_rows(slices);
        }
      }
      outputs = batch[0].part->session->run(inputs);
    } catch (const std::exception& e) {
      error = e.what();
    }
    double compute_ms = ms_since(start);
    const double run_ms = compute_ms;
    double busy_ms = options.threads == 1 ? thread_cpu_ms() - cpu_start : compute_ms;
    int64_t total = 0;
    for (const auto& item : batch) total += item.batch;
    // A declared device takes its own time (options.emulate). A slowed-down CPU takes `slowdown`
    // times what this core needs for such a batch at its best (timed at deploy), not times this
    // run's time: cold caches after idling and other load on this machine would otherwise be
    // multiplied too.
    const SpeedEmulator& speed = *batch[0].part->speed;
    const bool overran = speed.wait_out(start, total, run_ms);
    if (speed.active()) compute_ms = ms_since(start);
    {
      std::lock_guard lock(stats_mutex);
      ++batches;
      compute_ms_total += compute_ms;
      cpu_ms_total += busy_ms;
      run_ms_total += run_ms;
      overruns += overran ? 1 : 0;
      (error.empty() ? served : rejected) += static_cast<int64_t>(batch.size());
    }
    int64_t offset = 0;
    for (auto& item : batch) {
      wire::InferReply reply;
      reply.set_id(item.id);
      reply.set_node(options.name);
      reply.set_compute_ms(compute_ms);
      reply.set_batch(static_cast<int>(batch.size()));
      if (!error.empty()) {
        reply.set_error(error);
      } else {
        for (const auto& [name, t] : outputs) {
          if (!item.wanted.empty() && std::find(item.wanted.begin(), item.wanted.end(), name) == item.wanted.end())
            continue;
          bool batched = batch.size() > 1 && t.rank() > 0 && t.dim(0) == total;
          to_wire(name, batched ? t.rows(offset, item.batch) : t, reply.add_outputs());
        }
      }
      offset += item.batch;
      send(item.stream, std::move(reply));
    }
  }

  // --- Stats ----------------------------------------------------------------------------------
  grpc::Status Stats(grpc::ServerContext*, const wire::StatsRequest*, wire::NodeStats* reply) override {
    reply->set_name(options.name);
    {
      std::lock_guard lock(parts_mutex);
      for (const auto& [id, part] : parts) reply->add_parts(id);
    }
    reply->set_queued(static_cast<int64_t>(batcher.queued()));
    std::lock_guard lock(stats_mutex);
    reply->set_served(served);
    reply->set_rejected(rejected);
    reply->set_busy_fraction(compute_ms_total / std::max(1e-9, ms_since(started)));
    reply->set_mean_compute_ms(batches ? compute_ms_total / batches : 0.0);
    reply->set_mean_batch(batches ? static_cast<double>(served + rejected) / batches : 0.0);
    reply->set_link_rate_mbps(options.link.rate_mbps);
    reply->set_link_latency_ms(options.link.latency_ms);
    reply->set_slowdown(options.slowdown);
    reply->set_emulated_device(options.emulate.description);
    reply->set_mean_run_ms(batches ? run_ms_total / batches : 0.0);
    reply->set_overruns(overruns);
    reply->set_backend(options.backend);
    reply->set_cpu_features(runtime::backend_cpu_features(options.backend));
    return grpc::Status::OK;
  }
};

DeviceNode::DeviceNode(NodeOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  runtime::register_lean_backends();
  auto& o = impl_->options;
  if (o.slowdown < 1.0) fail("--slowdown must be at least 1 (got {})", o.slowdown);
  if (o.slowdown > 1.0 && o.emulate)
    fail("node '{}': --slowdown and --emulate both say how fast this node is: give one", o.name);
  if (o.max_batch < 1) fail("--max-batch must be at least 1 (got {})", o.max_batch);
  if (o.backend.empty()) o.backend = runtime::default_backend();
  if (o.backend != "fast" && o.backend != "xnnpack")
    fail("node '{}': backend '{}': a node runs fast or xnnpack", o.name, o.backend);
  if (auto problem = malformed_address(o.listen); !problem.empty())
    fail("node '{}': cannot listen on '{}': {}", o.name, o.listen, problem);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(o.listen, server_credentials(o.tls), &port);
  builder.RegisterService(impl_.get());
  builder.RegisterService(impl_->gateway.get());
  apply_server_settings(builder);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || port == 0)
    fail("node '{}': cannot listen on '{}': {}", o.name, o.listen, why_cannot_listen(o.listen));
  auto colon = o.listen.rfind(':');
  impl_->bound_address = o.listen.substr(0, colon) + ":" + std::to_string(port);
  impl_->server->GetHealthCheckService()->SetServingStatus(true);
  impl_->worker = std::thread([this] { impl_->work(); });
}

DeviceNode::~DeviceNode() {
  shutdown(0);
  wait();
}

std::string DeviceNode::address() const { return impl_->bound_address; }
const NodeOptions& DeviceNode::options() const { return impl_->options; }

void DeviceNode::shutdown(int grace_ms) {
  {
    std::lock_guard lock(impl_->shutdown_mutex);
    if (impl_->is_shut_down) return;
    impl_->is_shut_down = true;
  }
  impl_->server->GetHealthCheckService()->SetServingStatus(false);
  impl_->gateway->stop();  // its clients move to another node
  // Dropped requests: their streams see the end and the sender re-issues them elsewhere.
  for (auto& item : impl_->batcher.stop()) {
    std::lock_guard slock(item.stream->mutex);
    --item.stream->outstanding;
    item.stream->broken = true;
    item.stream->idle.notify_all();
  }
  if (impl_->worker.joinable()) impl_->worker.join();
  {
    std::lock_guard lock(impl_->stats_mutex);
    auto b = std::max<int64_t>(1, impl_->batches);
    spdlog::info(
        "{}: served {} requests ({} refused) in {} batches: mean batch {:.2f}, {:.3f} ms CPU and {:.3f} ms "
        "in all per batch",
        impl_->options.name, impl_->served, impl_->rejected, impl_->batches,
        static_cast<double>(impl_->served + impl_->rejected) / static_cast<double>(b),
        impl_->cpu_ms_total / static_cast<double>(b), impl_->compute_ms_total / static_cast<double>(b));
    if (impl_->overruns > 0)
      spdlog::warn(
          "{}: {} of {} batches took longer on this host than the emulated device ({}) should: "
          "the host was too busy or too slow to emulate it there",
          impl_->options.name, impl_->overruns, impl_->batches,
          impl_->options.emulate ? impl_->options.emulate.description
                                 : fmt::format("--slowdown {}", impl_->options.slowdown));
  }
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(grace_ms));
  {
    std::lock_guard lock(impl_->shutdown_mutex);
    impl_->shutdown_done.notify_all();
  }
}

void DeviceNode::wait() {
  std::unique_lock lock(impl_->shutdown_mutex);
  impl_->shutdown_done.wait(lock, [&] { return impl_->is_shut_down; });
  impl_->server->Wait();
}

std::string describe(const NodeOptions& o, const std::string& address) {
  std::string link = o.link.emulated() ? fmt::format("link {} Mbit/s + {} ms each way",
                                                     o.link.rate_mbps > 0 ? fmt::format("{:g}", o.link.rate_mbps)
                                                                          : std::string("unlimited"),
                                                     o.link.latency_ms)
                                       : std::string("no link emulation");
  std::string backend = o.backend.empty() ? runtime::default_backend() : o.backend;
  std::string security =
      o.tls.enabled()
          ? fmt::format("mutual TLS as '{}' (peers need a certificate from {}/ca.pem)", o.tls.name, o.tls.dir)
          : std::string("PLAINTEXT: anyone who reaches this port can deploy and read results");
  std::string speed = o.emulate ? "emulating " + o.emulate.description : fmt::format("CPU slowdown {:g}x", o.slowdown);
  return fmt::format(
      "{} at {}: {}; {} backend ({}), {} thread{}, micro-batches up to {}, {}, {}; "
      "holds at most {} requests and {:g} MiB of them, parts up to {:g} MiB, {} streams per peer",
      o.name, address, security, backend, runtime::backend_cpu_features(backend), o.threads, o.threads == 1 ? "" : "s",
      o.max_batch, link, speed, o.max_queue, o.max_queue_bytes / 1048576.0, o.max_model_bytes / 1048576.0,
      o.max_streams_per_peer);
}

}  // namespace fluidedge::cluster
