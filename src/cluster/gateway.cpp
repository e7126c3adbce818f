#include "cluster/gateway.h"

#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cluster/coordinator.h"
#include "cluster/wire.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/files.h"

namespace fluidedge::cluster {
namespace fs = std::filesystem;

namespace {

// A file name a spec may use: no directories, nothing hidden.
void check_file_name(const std::string& name, const std::string& where) {
  if (name.empty() || name.find('/') != std::string::npos || name.find('\\') != std::string::npos ||
      name.front() == '.')
    fail("{}: '{}' is not a plain file name", where, name);
}

}  // namespace

wire::ClusterSpec to_spec(const ClusterConfig& config) {
  wire::ClusterSpec spec;
  spec.set_variant(variant_name(config.variant));
  spec.set_mode(mode_name(config.mode));
  std::set<std::string> files;
  auto add_file = [&](const std::string& path) {
    std::string name = fs::path(path).filename().string();
    if (files.insert(name).second) {
      auto* f = spec.add_files();
      f->set_name(name);
      f->set_data(read_file(path, "a file of the model directory"));
    }
    return name;
  };
  for (const auto& n : config.nodes) {
    auto* w = spec.add_nodes();
    w->set_name(n.name);
    w->set_address(n.address);
    w->set_part_file(add_file(n.part_file));
    w->set_key(n.key);
    w->set_prediction(n.prediction);
    w->set_features(n.features);
  }
  for (const auto& [key, path] : config.combiners) {
    auto* c = spec.add_combiners();
    c->set_key(key);
    c->set_file(add_file(path));
  }
  spec.set_max_batch(config.max_batch);
  spec.set_window(config.window);
  spec.set_latency_target_ms(config.latency_target_ms);
  spec.set_request_timeout_ms(config.request_timeout_ms);
  spec.set_heartbeat_ms(config.detector.heartbeat_ms);
  spec.set_timeout_ms(config.detector.timeout_ms);
  spec.set_misses(config.detector.misses);
  return spec;
}

std::string fingerprint(const wire::ClusterSpec& spec) {
  // FNV-1a over the serialised spec (no map fields, so the bytes are canonical).
  std::string bytes = spec.SerializeAsString();
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return fmt::format("{:016x}", h);
}

ClusterConfig from_spec(const wire::ClusterSpec& spec, const fs::path& dir, const std::string& source) {
  ClusterConfig c;
  c.source = source;
  try {
    c.variant = parse_variant(spec.variant());
    c.mode = parse_mode(spec.mode());
    c.max_batch = spec.max_batch();
    c.window = spec.window();
    c.request_timeout_ms = spec.request_timeout_ms();
    c.detector.heartbeat_ms = spec.heartbeat_ms();
    c.detector.timeout_ms = spec.timeout_ms();
    c.detector.misses = spec.misses();
    c.latency_target_ms = spec.latency_target_ms();
    fs::create_directories(dir);
    std::set<std::string> files;
    for (const auto& f : spec.files()) {
      check_file_name(f.name(), "files");
      write_file_atomically((dir / f.name()).string(), "", f.data());
      files.insert(f.name());
    }
    auto local = [&](const std::string& name, const std::string& where) {
      check_file_name(name, where);
      if (!files.count(name)) fail("{}: '{}' is not among the files sent", where, name);
      return (dir / name).string();
    };
    for (const auto& n : spec.nodes()) {
      c.nodes.push_back({n.name(), n.address(), local(n.part_file(), "node '" + n.name() + "'"), n.key(),
                         n.prediction(), n.features()});
    }
    for (const auto& comb : spec.combiners()) c.combiners[comb.key()] = local(comb.file(), "combiner " + comb.key());
  } catch (const Error& e) {
    fail("{}: {}", source, e.what());
  }
  c.model_dir = dir.string();
  c.validate();  // the checks cluster.yaml passes (duplicate addresses, Dynamic group order, ...)
  return c;
}

Gateway::Gateway(std::string node_name, TlsIdentity tls)
    : node_name_(std::move(node_name)),
      tls_(std::move(tls)),
      work_dir_(fs::temp_directory_path() / fmt::format("fluidedge-gateway-{}", ::getpid())) {}

Gateway::~Gateway() {
  stop();
  std::error_code ignored;
  fs::remove_all(work_dir_, ignored);
}

void Gateway::stop() {
  std::map<std::string, std::shared_ptr<Coordinator>> clusters;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    clusters.swap(clusters_);
  }
  for (auto& [id, c] : clusters) c->stop();
}

std::shared_ptr<Coordinator> Gateway::find(const std::string& cluster) {
  std::lock_guard lock(mutex_);
  auto it = clusters_.find(cluster);
  if (it == clusters_.end()) return nullptr;
  last_used_[cluster] = std::chrono::steady_clock::now();
  return it->second;
}

void Gateway::drop_idle() {
  constexpr auto kIdle = std::chrono::minutes(10);
  std::vector<std::shared_ptr<Coordinator>> idle;
  {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    for (auto it = clusters_.begin(); it != clusters_.end();) {
      if (now - last_used_[it->first] > kIdle) {
        spdlog::info("{}: no client used cluster {} for 10 minutes: stopping its coordinator", node_name_, it->first);
        idle.push_back(it->second);
        last_used_.erase(it->first);
        it = clusters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : idle) c->stop();
}

grpc::Status Gateway::Setup(grpc::ServerContext*, const wire::SetupRequest* request, wire::SetupReply* reply) {
  std::lock_guard setup_lock(setup_mutex_);
  std::string id = fingerprint(request->spec());
  if (id != request->cluster())
    return {grpc::StatusCode::INVALID_ARGUMENT,
            fmt::format("node '{}': cluster id '{}' does not match its spec ({})", node_name_, request->cluster(), id)};
  reply->set_cluster(id);
  drop_idle();
  if (find(id)) return grpc::Status::OK;  // a standby already: nothing to do
  try {
    auto config = from_spec(request->spec(), work_dir_ / id,
                            fmt::format("cluster {} (coordinated by node '{}')", id, node_name_));
    config.tls = tls_;
    auto coordinator = std::make_shared<Coordinator>(std::move(config));
    coordinator->start(std::clamp(request->wait_ms(), 0, 60000));
    for (const auto& n : coordinator->nodes())
      if (n.ready) reply->add_ready(n.name);
    std::lock_guard lock(mutex_);
    if (stopping_) return {grpc::StatusCode::UNAVAILABLE, fmt::format("node '{}' is shutting down", node_name_)};
    clusters_[id] = std::move(coordinator);
    last_used_[id] = std::chrono::steady_clock::now();
  } catch (const Error& e) {
    return {grpc::StatusCode::FAILED_PRECONDITION, e.what()};
  }
  spdlog::info("{}: coordinating cluster {} for a client", node_name_, id);
  return grpc::Status::OK;
}

grpc::Status Gateway::Serve(grpc::ServerContext*,
                            grpc::ServerReaderWriter<wire::ClientAnswer, wire::ClientRequest>* stream) {
  // Answers come from coordinator threads; they write while the stream is open, and after it
  // closes they only note that they are done.
  struct State {
    std::mutex mutex;
    bool open = true;
  };
  auto state = std::make_shared<State>();
  auto close = [&] {
    std::lock_guard lock(state->mutex);
    state->open = false;
  };
  wire::ClientRequest request;
  while (stream->Read(&request)) {
    auto coordinator = find(request.cluster());
    if (!coordinator) {
      close();
      return {
          grpc::StatusCode::FAILED_PRECONDITION,
          fmt::format("node '{}' does not coordinate cluster '{}' (set it up first)", node_name_, request.cluster())};
    }
    uint64_t id = request.id();
    runtime::TensorMap inputs;
    try {
      inputs = from_wire(request.inputs());
    } catch (const Error& e) {
      wire::ClientAnswer a;
      a.set_id(id);
      a.set_error(e.what());
      a.set_coordinator(node_name_);
      std::lock_guard lock(state->mutex);
      stream->Write(a);
      continue;
    }
    coordinator->submit(std::move(inputs), [this, state, stream, id](Answer answer) {
      wire::ClientAnswer a;
      a.set_id(id);
      if (answer.prediction.defined()) to_wire("prediction", answer.prediction, a.mutable_prediction());
      a.set_produced_by(answer.produced_by);
      for (const auto& n : answer.nodes) a.add_nodes(n);
      a.set_mode(answer.mode);
      a.set_latency_ms(answer.latency_ms);
      a.set_attempts(answer.attempts);
      a.set_error(answer.error);
      a.set_coordinator(node_name_);
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return;  // not an answer: the client re-sends it elsewhere
      }
      std::lock_guard lock(state->mutex);
      if (state->open) stream->Write(a);
    });
  }
  close();
  return grpc::Status::OK;
}

}  // namespace fluidedge::cluster
