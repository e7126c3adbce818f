// `fluidedge node`: the device daemon. Serves until SIGTERM or SIGINT, then shuts down
// gracefully. The first line on stdout is "listening on HOST:PORT" (the real port when asked
// for port 0), so scripts and tests can start nodes without choosing ports.

#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cluster/device_node.h"
#include "common/cpu_affinity.h"
#include "common/error.h"
#include "partition/cost_model.h"
#include "partition/system.h"

namespace fluidedge::cli {
namespace {

void pin_to_cpu(int cpu) {
  if (!pin_process_to_cpu(cpu))
    fail("--cpu {}: cannot pin to that core (this machine has {})", cpu, std::thread::hardware_concurrency());
}

// --emulate SYSTEM.yaml[:DEVICE]: the device of that name (or the file's only one), costed as the
// partitioner costs it, so a plan's predicted stage times are what the node takes.
cluster::EmulatedDevice emulated_device(const std::string& spec) {
  std::string file = spec, name;
  if (auto colon = spec.rfind(':'); colon != std::string::npos && colon > 0) {
    file = spec.substr(0, colon);
    name = spec.substr(colon + 1);
  }
  partition::SystemDescription system;
  try {
    system = partition::load_system(file);
  } catch (const Error& e) {
    fail("--emulate: {}", e.what());
  }
  const partition::DeviceSpec* device = nullptr;
  std::string names;
  for (const auto& d : system.devices) {
    names += (names.empty() ? "" : ", ") + d.name;
    if (d.name == name || (name.empty() && system.devices.size() == 1)) device = &d;
  }
  if (!device)
    fail("--emulate {}: {} (it has {})", spec,
         name.empty() ? "name one of its devices as FILE:DEVICE" : fmt::format("no device '{}'", name), names);
  std::string what = device->profile
                         ? fmt::format("profile {} at batch {}", device->profile->path, device->profile->batch)
                         : fmt::format("{:g} GFLOP/s at efficiency {:g}, {:g} GB/s", device->peak_gflops,
                                       device->efficiency, device->memory_bandwidth_gbps);
  cluster::EmulatedDevice emulated;
  emulated.description = fmt::format("'{}' of {} ({})", device->name, file, what);
  emulated.part_timer = [model = partition::DeviceModel(*device)](const graph::Graph& part) {
    // Costed once per batch size seen (the worker asks for each batch it runs).
    struct Cache {
      std::mutex mutex;
      std::vector<double> ms;  // [rows], < 0: not yet costed
    };
    auto cache = std::make_shared<Cache>();
    return [model, part = std::make_shared<graph::Graph>(part), cache](int64_t rows) {
      std::lock_guard lock(cache->mutex);
      if (rows >= static_cast<int64_t>(cache->ms.size())) {
        if (rows > 65536) return model.graph_ms(*part, rows);
        cache->ms.resize(static_cast<size_t>(rows) + 1, -1.0);
      }
      double& ms = cache->ms[static_cast<size_t>(rows)];
      if (ms < 0) ms = model.graph_ms(*part, rows);
      return ms;
    };
  };
  return emulated;
}

}  // namespace

void add_node_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("node", "Run a device node: serve deployed model parts over gRPC");
  auto o = std::make_shared<cluster::NodeOptions>();
  auto cpu = std::make_shared<int>(-1);
  cmd->add_option("--listen", o->listen, "Address to listen on (HOST:PORT; port 0 = any free port)")
      ->capture_default_str();
  cmd->add_option("--name", o->name, "Name of this node in logs, stats and answers")->capture_default_str();
  cmd->add_option("--link-rate", o->link.rate_mbps, "Emulated link rate in Mbit/s, each direction (0 = none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--link-latency", o->link.latency_ms, "Emulated added latency in ms, each direction")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--slowdown", o->slowdown, "Emulate a slower CPU: every batch takes this many times longer")
      ->check(CLI::Range(1.0, 1000.0));
  auto emulate = std::make_shared<std::string>();
  cmd->add_option("--emulate", *emulate,
                  "Emulate a declared device, SYSTEM.yaml:DEVICE (its peak_gflops and bandwidth, or its profile): "
                  "each part takes what the partitioner's cost model says that device takes")
      ->excludes("--slowdown");
  cmd->add_option("--backend", o->backend, kNodeBackendHelp)->check(CLI::IsMember(kNodeBackends));
  cmd->add_option("--threads", o->threads, "Backend threads per run")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--max-batch", o->max_batch, "Default micro-batching limit per part")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--cpu", *cpu, "Pin the node to this core (-1 = no pinning)");
  auto queue_mb = std::make_shared<double>(static_cast<double>(o->max_queue_bytes) / (1 << 20));
  auto model_mb = std::make_shared<double>(static_cast<double>(o->max_model_bytes) / (1 << 20));
  cmd->add_option("--max-queue", o->max_queue,
                  "Requests a node holds (on its link or queued); beyond, it answers RESOURCE_EXHAUSTED at once")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--max-queue-mb", *queue_mb, "MiB of requests a node holds; beyond, RESOURCE_EXHAUSTED")
      ->check(CLI::Range(0.001, 1e6))
      ->capture_default_str();
  cmd->add_option("--max-model-mb", *model_mb, "Largest part (MiB) a Deploy may bring")
      ->check(CLI::Range(0.001, 1e6))
      ->capture_default_str();
  cmd->add_option("--max-streams-per-peer", o->max_streams_per_peer,
                  "Concurrent Infer streams one peer (certificate name, or host) may hold")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  auto tls = std::make_shared<TlsChoice>();
  add_tls_options(cmd, *tls,
                  "this node's certificate, key and the cluster CA (`fluidedge certs issue`); every peer must present "
                  "one from that CA");
  cmd->callback([o, cpu, tls, queue_mb, model_mb, emulate] {
    o->tls = resolve_tls(*tls);
    if (!emulate->empty()) o->emulate = emulated_device(*emulate);
    o->max_queue_bytes = static_cast<int64_t>(*queue_mb * (1 << 20));
    o->max_model_bytes = static_cast<int64_t>(*model_mb * (1 << 20));
    if (*cpu >= 0) pin_to_cpu(*cpu);
    // glibc gives each thread that allocates under contention its own arena and keeps what is
    // freed there: gRPC's pool, flooded, grew the peak by ~50 MiB more than the queue bound
    // allows. Two arenas keep a node's memory within --max-queue-mb plus a small fixed overhead.
    mallopt(M_ARENA_MAX, 2);
    // Signals are taken by one thread with sigwait, so the gRPC threads never see them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    cluster::DeviceNode node(*o);
    std::cerr << "fluidedge node " << cluster::describe(*o, node.address())
              << (*cpu >= 0 ? ", pinned to core " + std::to_string(*cpu) : std::string()) << std::endl;
    std::cout << "listening on " << node.address() << std::endl;
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("{}: {} received, shutting down", o->name, sig == SIGTERM ? "SIGTERM" : "SIGINT");
    node.shutdown(1000);
    node.wait();
  });
}

}  // namespace fluidedge::cli
