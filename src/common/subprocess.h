// A child process with line-based pipes to its stdin and stdout: the ONNX Runtime peer in
// benchmarks, device nodes started by `fluidedge bench`. The child is killed on destruction.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace fluidedge {

class Subprocess {
 public:
  // Starts argv[0] (searched in PATH) with the given arguments; stderr is inherited unless
  // `quiet_stderr`. Throws Error if it cannot be started.
  explicit Subprocess(const std::vector<std::string>& argv, bool quiet_stderr = false);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  void write_line(const std::string& line);
  // The next line of the child's stdout (without the newline). Throws Error naming the command
  // if the child closed its stdout or `timeout_ms` passed.
  std::string read_line(int timeout_ms = 600000);
  // Closes stdin and waits for the exit status (killing the child after `timeout_ms`).
  int wait(int timeout_ms = 10000);
  void kill(int signal);
  pid_t pid() const { return pid_; }
  const std::string& command() const { return command_; }

 private:
  pid_t pid_ = -1;
  int in_fd_ = -1, out_fd_ = -1;
  std::string buffer_;
  std::string command_;
  bool exited_ = false;
  int status_ = 0;
};

// Runs a command to completion and returns its exit code (stdout and stderr inherited; with
// `stdout_to_stderr`, the child's stdout goes to our stderr, keeping our stdout for results).
int run_command(const std::vector<std::string>& argv, bool stdout_to_stderr = false);

}  // namespace fluidedge
