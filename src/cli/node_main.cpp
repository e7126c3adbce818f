// `fluidedge-node`: the device-side binary. It links the graph layer and the fast backend only
// (no libtorch), so what runs on an edge device is lean; `fluidedge-node run` measures a model
// as the device would run it.
#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "runtime/fast/fast_session.h"

int main(int argc, char** argv) {
  fluidedge::runtime::fast::register_fast_backend();
  CLI::App app{"fluidedge-node: the device-side runtime of fluidedge (fast backend, no libtorch)"};
  app.set_version_flag("--version", "fluidedge-node 0.1.0");
  app.require_subcommand(1);
  fluidedge::cli::add_info_command(app);
  fluidedge::cli::add_run_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    for (auto& c : what)
      if (c == '\n') c = ' ';
    std::cerr << "fluidedge-node: error: " << what << " (see fluidedge-node --help)" << std::endl;
    return e.get_exit_code() == 0 ? 2 : e.get_exit_code();
  } catch (const fluidedge::Error& e) {
    std::cerr << "fluidedge-node: error: " << e.what() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "fluidedge-node: internal error: " << e.what() << std::endl;
    return 3;
  }
  return 0;
}
