// `fluidedge profile MODEL --out profile.json`: per-node latency of a model on this machine, as
// the backend a node would use (--backend) fuses and executes it, in the format system.yaml's `profile:` reads. In both
// binaries: a device measures itself with `fluidedge-node profile`. --precision int8 times the
// model's quantized form, keyed by the float model's node names.

#include <algorithm>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/json_output.h"
#include "cli/model_source.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "partition/device_profiler.h"

namespace fluidedge::cli {
namespace {

struct ProfileCommandOptions {
  std::string model, out;
  std::string precision = "fp32";
  partition::ProfileOptions profile;
  bool json = false;
};

void run_profile(ProfileCommandOptions o) {
  o.profile.precision = partition::parse_precision(o.precision, "--precision");
  graph::Graph model = load_model(o.model);
  std::filesystem::path out(o.out);
  if (out.has_parent_path() && !std::filesystem::is_directory(out.parent_path()))
    fail("--out {}: directory '{}' does not exist", o.out, out.parent_path().string());
  if (std::filesystem::is_directory(out))
    fail("--out {}: is a directory; give a file name such as profile.json", o.out);
  partition::MeasuredProfile m = partition::measure_device_profile(model, o.profile);
  write_file_atomically(o.out, "", m.json());

  int folded = 0, fused = 0;
  for (const auto& n : m.nodes) {
    folded += n.folded;
    fused += !n.fused_into.empty();
  }
  if (o.json) {
    print_json(Json{{"model", o.model},
                    {"device", m.options.device},
                    {"precision", o.precision},
                    {"out", o.out},
                    {"nodes", m.nodes.size()},
                    {"steps", m.steps},
                    {"fused_nodes", fused},
                    {"folded_nodes", folded},
                    {"total_ms", m.total_ms},
                    {"run_ms", m.run_ms},
                    {"threads", o.profile.threads},
                    {"repeats", o.profile.repeats},
                    {"scale", o.profile.scale}});
    return;
  }
  std::vector<const partition::ProfiledNode*> order;
  for (const auto& n : m.nodes) order.push_back(&n);
  std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->ms > b->ms; });
  std::cout << fmt::format(
      "{} in {} on '{}': {} nodes in {} executed steps ({} fused, {} folded), sum of steps {:.3f} ms, "
      "whole run {:.3f} ms{}\n",
      o.model, o.precision, m.options.device, m.nodes.size(), m.steps, fused, folded, m.total_ms, m.run_ms,
      o.profile.scale != 1 ? fmt::format(" (times scaled by {:g})", o.profile.scale) : "");
  std::cout << fmt::format("  {:<40} {:<20} {:>9} {:>6}\n", "slowest nodes", "op", "ms", "share");
  for (size_t i = 0; i < std::min<size_t>(10, order.size()); ++i)
    std::cout << fmt::format("  {:<40} {:<20} {:>9.3f} {:>5.1f}%\n", order[i]->name, order[i]->op_type, order[i]->ms,
                             m.total_ms > 0 ? 100 * order[i]->ms / m.total_ms : 0.0);
  std::cout << "profile: " << o.out << "\n";
}

}  // namespace

void add_profile_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "profile", "Measure per-node latency on this machine (as the node's backend fuses it) for system.yaml");
  auto o = std::make_shared<ProfileCommandOptions>();
  cmd->add_option("MODEL", o->model, kModelHelp)->required();
  cmd->add_option("--out", o->out, "Profile file to write (JSON; `profile:` of a device in system.yaml)")->required();
  cmd->add_option("--device", o->profile.device, "Device name recorded in the profile (default: host name)");
  cmd->add_option("--backend", o->profile.backend, kNodeBackendHelp)->check(CLI::IsMember(kNodeBackends));
  cmd->add_option("--threads", o->profile.threads, "Backend threads (a device node uses 1)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--repeats", o->profile.repeats, "Timed runs; each node keeps its median")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--scale", o->profile.scale,
                  "Multiply every time by this (emulate a device this many times slower, as `node --slowdown`)")
      ->check(CLI::Range(0.001, 1000.0))
      ->capture_default_str();
  cmd->add_option("--precision", o->precision,
                  "fp32, or int8: quantize the model (calibrated on random inputs) and time its int8 form; the "
                  "profile keeps the float model's node names (a device with `precision: int8` needs one)")
      ->capture_default_str();
  cmd->add_option("--seed", o->profile.seed, "Seed of the random input")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print one JSON object (summary) to stdout");
  cmd->callback([o] { run_profile(*o); });
}

}  // namespace fluidedge::cli
