// Runs the fluidedge binary as a user would and captures what it printed, for tests of the
// command-line contract (exit codes, one-line errors, --json on stdout).
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

// Skips a test of what only the workstation build has (libtorch: training, the reference
// backend), when the suite is built without it (the sanitized build, scripts/test.sh --sanitize).
#ifdef FLUIDEDGE_WITH_TORCH
#define FLUIDEDGE_SKIP_WITHOUT_TORCH() (void)0
#else
#define FLUIDEDGE_SKIP_WITHOUT_TORCH() GTEST_SKIP() << "needs the workstation build (libtorch)"
#endif

namespace fluidedge::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  // Non-empty lines of stderr.
  std::vector<std::string> err_lines() const {
    std::vector<std::string> lines;
    std::istringstream s(err);
    for (std::string l; std::getline(s, l);)
      if (!l.empty()) lines.push_back(l);
    return lines;
  }
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs the shell command `command` in `workdir`, capturing its stdout and stderr.
inline CliResult run_command(const std::string& command,
                             const std::filesystem::path& workdir = std::filesystem::temp_directory_path()) {
  static int counter = 0;
  auto base = std::filesystem::temp_directory_path() /
              ("fluidedge_cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::string cmd = "cd '" + workdir.string() + "' && OPENBLAS_NUM_THREADS=1 " + command + " >'" + base.string() +
                    ".out' 2>'" + base.string() + ".err'";
  int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(base.string() + ".out");
  r.err = slurp(base.string() + ".err");
  std::filesystem::remove(base.string() + ".out");
  std::filesystem::remove(base.string() + ".err");
  return r;
}

// Runs `fluidedge ARGS` (ARGS is shell-quoted by the caller) in `workdir`.
inline CliResult run_cli(const std::string& args,
                         const std::filesystem::path& workdir = std::filesystem::temp_directory_path()) {
  return run_command("'" + std::string(FLUIDEDGE_CLI) + "' " + args, workdir);
}

}  // namespace fluidedge::testing
