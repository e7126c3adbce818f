// `fluidedge bench ...`: the end-to-end experiments, each starting what it needs.
#include "cli/commands.h"

namespace fluidedge::cli {

CLI::App* add_bench_command(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Benchmarks: runtime, fluid, partition, soak");
  bench->require_subcommand(1);
  add_bench_runtime_command(*bench);
  return bench;
}

}  // namespace fluidedge::cli
