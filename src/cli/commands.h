// The subcommands of `fluidedge`. Each add_*_command registers its options on the app and a
// callback that does the work; errors are fluidedge::Error, turned into one line on stderr and
// a non-zero exit by main().
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cluster/tls.h"

namespace fluidedge::cli {

// Help of `run --backend`.
inline constexpr const char* kBackendHelp =
    "Backend: fast (oneDNN), xnnpack (XNNPACK) or reference (ATen, workstation only); default: the fastest on "
    "this CPU (xnnpack on Arm, fast on x86)";
// Help of the --backend options that choose a device node's backend (node, profile, the benches).
inline constexpr const char* kNodeBackendHelp =
    "Backend: fast (oneDNN) or xnnpack (XNNPACK); default: the fastest on this CPU (xnnpack on Arm, fast on x86)";
// The lean backends a device node may run (the reference one needs libtorch).
inline const std::vector<std::string> kNodeBackends{"fast", "xnnpack"};

// --tls DIR or --insecure, one of them required: how a node or client authenticates its peers.
struct TlsChoice {
  std::string dir;
  bool insecure = false;
};
void add_tls_options(CLI::App* cmd, TlsChoice& choice, const std::string& what_dir_holds);
// The identity --tls names (checked: files, key, CA, dates), or none with --insecure (the caller
// warns once it is up); neither is an Error saying how to get one.
cluster::TlsIdentity resolve_tls(const TlsChoice& choice);

void add_certs_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_zoo_command(CLI::App& app);
// Returns the `bench` subcommand, so the workstation can add its own benchmarks to it.
CLI::App* add_bench_command(CLI::App& app);
void add_node_command(CLI::App& app);
void add_infer_command(CLI::App& app);
// Device profile for the partitioner (graph + fast runtime only: in both binaries).
void add_profile_command(CLI::App& app);
// Post-training int8 quantization (graph, fast runtime, quantize layer).
void add_quantize_command(CLI::App& app);
// Workstation only (the partitioner's reports).
void add_partition_command(CLI::App& app);
// Workstation only (links the trainer).
void add_train_command(CLI::App& app);
// Workstation only: both papers on this machine, one report (trains, runs the benches).
void add_demo_command(CLI::App& app);
// Subcommands of `bench`.
void add_bench_runtime_command(CLI::App& bench);
// Workstation only (trains the models it serves).
void add_bench_fluid_command(CLI::App& bench);
void add_bench_soak_command(CLI::App& bench);
// Workstation only (the partitioner's experiment with real node processes; no libtorch needed).
void add_bench_partition_command(CLI::App& bench);

}  // namespace fluidedge::cli
