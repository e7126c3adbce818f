// `fluidedge-node`: the device-side binary. It links the graph layer and the fast backend only
// (no libtorch), so what runs on an edge device is lean; `fluidedge-node run` measures a model
// as the device would run it.

#include "cli/commands.h"
#include "cli/error_boundary.h"
#include "common/error.h"
#include "runtime/backends.h"

int main(int argc, char** argv) {
  fluidedge::runtime::register_lean_backends();
  CLI::App app{"fluidedge-node: the device-side runtime of fluidedge (fast and xnnpack backends, no libtorch)"};
  app.set_version_flag("--version", "fluidedge-node 0.1.0");
  app.require_subcommand(1);
  fluidedge::cli::add_info_command(app);
  fluidedge::cli::add_run_command(app);
  fluidedge::cli::add_node_command(app);
  fluidedge::cli::add_profile_command(app);
  return fluidedge::cli::run_app(app, argc, argv, "fluidedge-node");
}
