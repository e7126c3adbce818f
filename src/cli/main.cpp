// The `fluidedge` command. This is the error boundary: every fluidedge::Error and every
// command-line mistake ends here as one line on stderr and a non-zero exit.
#include <dlfcn.h>

#include <cstdio>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/error_boundary.h"
#include "common/error.h"
#include "runtime/backends.h"
#ifdef FLUIDEDGE_WITH_TORCH
#include "runtime/reference/reference_session.h"
#endif

int main(int argc, char** argv) {
  // Debian's pthread OpenBLAS spins its threads; fluidedge controls parallelism itself.
  if (auto set_threads = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set_threads(1);
  fluidedge::runtime::register_lean_backends();
#ifdef FLUIDEDGE_WITH_TORCH
  fluidedge::runtime::reference::register_reference_backend();
#endif
  CLI::App app{"fluidedge: reliable, adaptive, distributed DNN inference on groups of edge devices"};
  app.set_version_flag("--version", "fluidedge 0.1.0");
  app.require_subcommand(1);
  fluidedge::cli::add_certs_command(app);
  fluidedge::cli::add_info_command(app);
  fluidedge::cli::add_run_command(app);
  fluidedge::cli::add_zoo_command(app);
  auto* bench = fluidedge::cli::add_bench_command(app);
  fluidedge::cli::add_node_command(app);
  fluidedge::cli::add_infer_command(app);
  fluidedge::cli::add_profile_command(app);
  fluidedge::cli::add_partition_command(app);
  fluidedge::cli::add_quantize_command(app);
  fluidedge::cli::add_bench_partition_command(*bench);
#ifdef FLUIDEDGE_WITH_TORCH
  fluidedge::cli::add_train_command(app);
  fluidedge::cli::add_demo_command(app);
  fluidedge::cli::add_bench_fluid_command(*bench);
  fluidedge::cli::add_bench_soak_command(*bench);
#endif
  return fluidedge::cli::run_app(app, argc, argv, "fluidedge");
}
