// A benchmark's timing server: a process (`run --serve` of the node binary, `ort_run.js --serve`)
// that warms up, says it is ready, then times runs on request; and the comma lists benchmarks
// take, and the core they pin to. Shared by `bench runtime` and its int8 variant.
#pragma once

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "cli/json_output.h"
#include "common/cpu_affinity.h"
#include "common/error.h"
#include "common/subprocess.h"

namespace fluidedge::cli {

inline std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// "1,32" as positive batch sizes; what is not is an error naming --batch.
inline std::vector<int64_t> parse_batches(const std::string& list) {
  std::vector<int64_t> batches;
  for (const auto& b : split_list(list)) {
    try {
      batches.push_back(std::stoll(b));
    } catch (const std::exception&) {
      fail("--batch: '{}' is not a number", b);
    }
    if (batches.back() < 1) fail("--batch: {} is not a positive batch size", b);
  }
  return batches;
}

// Pins this process (and what it starts) to core `requested`, or the last core when it is
// negative; returns the core. A core the machine lacks is an error naming --cpu.
inline int pin_bench_cpu(int requested) {
  int cpus = static_cast<int>(std::thread::hardware_concurrency());
  int cpu = requested >= 0 ? requested : std::max(cpus - 1, 0);
  if (!pin_process_to_cpu(cpu)) fail("--cpu {}: cannot pin to that core (this machine has {})", cpu, cpus);
  return cpu;
}

// A timing server (`run --serve` of the node binary, `ort_run.js --serve`) started and warmed up.
struct TimingServer {
  Subprocess process;
  Json ready;

  explicit TimingServer(const std::vector<std::string>& argv) : process(argv) {
    std::string line = process.read_line();
    ready = Json::parse(line, nullptr, false);
    if (!ready.is_object() || !ready.value("ready", false))
      fail("{}: expected a ready line, got '{}'", process.command(), line);
  }
  // Runs for `seconds` and appends each run's ms.
  void run_for(double seconds, std::vector<double>& ms) {
    process.write_line(fmt::format("run_for {}", seconds));
    std::string line = process.read_line();
    Json answer = Json::parse(line, nullptr, false);
    if (!answer.is_object() || !answer.contains("ms")) fail("{}: unexpected answer '{}'", process.command(), line);
    for (const auto& v : answer["ms"]) ms.push_back(v.get<double>());
  }
  double peak_rss_mb() {
    process.write_line("rss");
    return Json::parse(process.read_line())["peak_rss_mb"].get<double>();
  }
  ~TimingServer() {
    try {
      process.write_line("quit");
      process.wait();
    } catch (const std::exception&) {
      // already gone: its answers were read or the error was reported
    }
  }
};

}  // namespace fluidedge::cli
