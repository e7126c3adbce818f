// `fluidedge bench ...`: the end-to-end experiments, each starting what it needs.
#include "cli/commands.h"

namespace fluidedge::cli {

void add_bench_command(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Benchmarks: runtime (more to come: fluid, partition)");
  bench->require_subcommand(1);
  add_bench_runtime_command(*bench);
}

}  // namespace fluidedge::cli
