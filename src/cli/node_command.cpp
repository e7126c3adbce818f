// `fluidedge node`: the device daemon. Serves until SIGTERM or SIGINT, then shuts down
// gracefully. The first line on stdout is "listening on HOST:PORT" (the real port when asked
// for port 0), so scripts and tests can start nodes without choosing ports.

#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cluster/device_node.h"
#include "common/cpu_affinity.h"
#include "common/error.h"

namespace fluidedge::cli {
namespace {

void pin_to_cpu(int cpu) {
  if (!pin_process_to_cpu(cpu))
    fail("--cpu {}: cannot pin to that core (this machine has {})", cpu, std::thread::hardware_concurrency());
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
  cmd->add_option("--backend", o->backend, kNodeBackendHelp)->check(CLI::IsMember(kNodeBackends));
  cmd->add_option("--threads", o->threads, "Backend threads per run")->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--max-batch", o->max_batch, "Default micro-batching limit per part")
      ->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--cpu", *cpu, "Pin the node to this core (-1 = no pinning)");
  auto queue_mb = std::make_shared<double>(static_cast<double>(o->max_queue_bytes) / (1 << 20));
  auto model_mb = std::make_shared<double>(static_cast<double>(o->max_model_bytes) / (1 << 20));
  cmd->add_option("--max-queue", o->max_queue,
                  "Requests a node holds (on its link or queued); beyond, it answers RESOURCE_EXHAUSTED at once")
      ->check(CLI::Range(1, 1000000))->capture_default_str();
  cmd->add_option("--max-queue-mb", *queue_mb, "MiB of requests a node holds; beyond, RESOURCE_EXHAUSTED")
      ->check(CLI::Range(0.001, 1e6))->capture_default_str();
  cmd->add_option("--max-model-mb", *model_mb, "Largest part (MiB) a Deploy may bring")
      ->check(CLI::Range(0.001, 1e6))->capture_default_str();
  cmd->add_option("--max-streams-per-peer", o->max_streams_per_peer,
                  "Concurrent Infer streams one peer (certificate name, or host) may hold")
      ->check(CLI::Range(1, 100000))->capture_default_str();
  auto tls = std::make_shared<TlsChoice>();
  add_tls_options(cmd, *tls, "this node's certificate, key and the cluster CA (`fluidedge certs issue`); every peer must present one from that CA");
  cmd->callback([o, cpu, tls, queue_mb, model_mb] {
    o->tls = resolve_tls(*tls);
    o->max_queue_bytes = static_cast<int64_t>(*queue_mb * (1 << 20));
    o->max_model_bytes = static_cast<int64_t>(*model_mb * (1 << 20));
    if (*cpu >= 0) pin_to_cpu(*cpu);
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
