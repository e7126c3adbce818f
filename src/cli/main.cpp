// The `fluidedge` command. This is the error boundary: every fluidedge::Error and every
// command-line mistake ends here as one line on stderr and a non-zero exit.
#include <dlfcn.h>

#include <cstdio>
#include <iostream>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "common/allocator.h"
#include "common/error.h"
#include "runtime/fast/fast_session.h"
#ifdef FLUIDEDGE_WITH_TORCH
#include "runtime/reference/reference_session.h"
#endif

int main(int argc, char** argv) {
  fluidedge::keep_large_allocations_in_heap();
  // Debian's pthread OpenBLAS spins its threads; fluidedge controls parallelism itself.
  if (auto set_threads = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set_threads(1);
  fluidedge::runtime::fast::register_fast_backend();
#ifdef FLUIDEDGE_WITH_TORCH
  fluidedge::runtime::reference::register_reference_backend();
#endif
  spdlog::set_pattern("%^%l%$: %v");
  CLI::App app{"fluidedge: reliable, adaptive, distributed DNN inference on groups of edge devices"};
  app.set_version_flag("--version", "fluidedge 0.1.0");
  app.require_subcommand(1);
  fluidedge::cli::add_info_command(app);
  fluidedge::cli::add_run_command(app);
  fluidedge::cli::add_zoo_command(app);
  fluidedge::cli::add_bench_command(app);
#ifdef FLUIDEDGE_WITH_TORCH
  fluidedge::cli::add_train_command(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    for (auto& c : what)
      if (c == '\n') c = ' ';
    std::cerr << "fluidedge: error: " << what << " (see fluidedge --help)" << std::endl;
    return e.get_exit_code() == 0 ? 2 : e.get_exit_code();
  } catch (const fluidedge::Error& e) {
    std::cerr << "fluidedge: error: " << e.what() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "fluidedge: internal error: " << e.what() << std::endl;
    return 3;
  }
  return 0;
}
