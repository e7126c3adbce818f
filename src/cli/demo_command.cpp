// `fluidedge demo`: both papers on this machine in one run and one report. Trains the Static,
// Dynamic and Fluid models on the shipped mnist (or reuses a training with the same settings),
// runs the Fluid experiment on two device-node processes with its failure runs, partitions
// EfficientNet-B0 for the shipped two-board system and deploys the plan on two nodes, and times
// the device runtime against ONNX Runtime; then writes OUT/report/index.html. A part that cannot
// run leaves a section saying why, and the command exits non-zero after writing the report.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "cli/bench_fluid.h"
#include "cli/bench_partition.h"
#include "cli/bench_runtime.h"
#include "cli/commands.h"
#include "cli/report/sections.h"
#include "cli/tool_paths.h"
#include "cluster/model_directory.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "experiment/trained_models.h"

namespace fluidedge::cli {
namespace {

namespace fs = std::filesystem;
using report::Section;

struct DemoOptions {
  std::string out = "demo-output";
  std::string data = "mnist";
  int epochs = 15;
  std::string tls = "on";
};

// The first "model name" of /proc/cpuinfo (x86) or its "CPU part" line (Arm).
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0 || line.rfind("Model", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  return "unknown CPU";
}

double memory_gib() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kib = 0;
  in >> key >> kib;
  return kib / (1024.0 * 1024.0);
}

std::string pct(double fraction) { return fmt::format("{:.1f} %", 100 * fraction); }

Section training_section(const fs::path& models, const DemoOptions& o,
                         const std::vector<std::pair<std::string, experiment::TrainingReuse>>& runs,
                         const std::string& command) {
  Section s;
  s.id = "training";
  s.title = "Training: Static, Dynamic and Fluid on " + o.data;
  s.command = command;
  s.blocks.push_back(report::Paragraph{fmt::format(
      "The paper's CNN in three variants, {} epochs each on {}: Static (one network, cut in two for two devices), "
      "Dynamic "
      "(nested sub-networks, the later ones needing the first) and Fluid (sub-networks trained by nested incremental "
      "training so that each runs alone and together). A training with the same data and epochs in {} is reused.",
      o.epochs, o.data, models.string())});
  report::Table table{"", {"variant", "trained", "seconds", "parameters", "MACs", "accuracy per prediction"}, {}};
  for (const auto& [variant, reuse] : runs) {
    const cluster::ModelManifest m = cluster::ModelDirectory((models / variant).string()).read("demo");
    std::string accuracy;
    for (const auto& [name, value] : m.accuracy)
      accuracy += fmt::format("{}{}: {}", accuracy.empty() ? "" : ", ", name, pct(value));
    table.rows.push_back({variant, reuse.reused ? "reused (an earlier run, same settings)" : "in this run",
                          fmt::format("{:.0f}", reuse.seconds), m.params >= 0 ? std::to_string(m.params) : "?",
                          m.macs >= 0 ? std::to_string(m.macs) : "?", accuracy});
  }
  s.blocks.push_back(table);
  return s;
}

void run_demo(const DemoOptions& o) {
  std::cout << std::unitbuf;  // progress as it happens, also into a pipe or a log file
  const fs::path out(o.out), report_dir = out / "report", models = out / "models";
  check_writable_dir(report_dir, "--out");
  const fs::path system_file = fs::path(examples_dir()) / "two_boards_100mbit.yaml";
  const auto demo_start = std::chrono::steady_clock::now();
  std::vector<Section> sections;
  std::vector<std::pair<std::string, double>> timings;
  int failed = 0, part = 0;
  const int parts = 5;
  Json fluid_settings;

  // One part: its sections, or one saying why it did not run; timed either way.
  auto run_part = [&](const std::string& id, const std::string& title, const std::string& command,
                      const std::function<std::vector<Section>()>& body) {
    std::cout << fmt::format("\n== demo [{}/{}] {}\n", ++part, parts, title) << std::flush;
    const auto start = std::chrono::steady_clock::now();
    std::vector<Section> made;
    try {
      made = body();
    } catch (const std::exception& e) {
      ++failed;
      std::cout << fmt::format("demo: {} did not run: {}\n", title, e.what());
      made = {report::unavailable_section(id, title, e.what(), command)};
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!made.empty()) made.front().seconds = seconds;
    timings.push_back({title, seconds});
    sections.insert(sections.end(), made.begin(), made.end());
  };

  const std::string train_command = fmt::format(
      "fluidedge train --variant VARIANT --data {} --epochs {} --out {}/VARIANT", o.data, o.epochs, models.string());
  run_part("training", "Training: Static, Dynamic and Fluid on " + o.data, train_command, [&] {
    std::vector<std::pair<std::string, experiment::TrainingReuse>> runs;
    for (std::string variant : {"static", "dynamic", "fluid"}) {
      runs.push_back(
          {variant, experiment::ensure_trained(tool_binary(), models.string(), variant, o.data, o.epochs, "demo")});
      std::cout << fmt::format("  {}: {}\n", variant,
                               runs.back().second.reused
                                   ? "reusing the training in " + (models / variant).string()
                                   : fmt::format("trained in {:.0f} s", runs.back().second.seconds));
    }
    return std::vector<Section>{training_section(models, o, runs, train_command)};
  });

  const std::string fluid_command =
      fmt::format("fluidedge bench fluid --models {} --data {} --epochs {} --tls {} --report DIR", models.string(),
                  o.data, o.epochs, o.tls);
  run_part("fluid", "The Fluid DyDNN experiment on two device nodes, and a device killed mid-stream", fluid_command,
           [&] {
             FluidBenchOptions f;
             f.run.models = models.string();
             f.run.data = o.data;
             f.run.epochs = o.epochs;
             f.tls = o.tls;
             f.plot.clear();  // the report draws its own
             Json result = run_bench_fluid(f);
             fluid_settings = result["settings"];
             return report::fluid_sections(result, report_dir, fluid_command);
           });

  const std::string partition_command =
      fmt::format("fluidedge bench partition --models efficientnet_b0 --system {} --tls {} --out {} --report DIR",
                  system_file.string(), o.tls, (out / "partition").string());
  run_part("partition", "Partitioning EfficientNet-B0 for two boards, deployed on two device nodes", partition_command,
           [&] {
             PartitionBenchOptions p;
             p.models = {"efficientnet_b0"};
             p.system_file = system_file.string();
             p.out = (out / "partition").string();
             p.tls = o.tls;
             p.plot.clear();
             return report::partition_sections(run_bench_partition(p), report_dir, partition_command);
           });

  // The partitioning paper's mixed-precision setting: one device computing in fp16, one in int8.
  const fs::path mixed_system = fs::path(examples_dir()) / "fp16_and_int8_boards.yaml";
  const std::string mixed_command = fmt::format(
      "fluidedge bench partition --models efficientnet_b0 --system {} --accuracy-samples 16 --tls {} --out {} "
      "--report DIR",
      mixed_system.string(), o.tls, (out / "partition-fp16-int8").string());
  run_part("partition-fp16-int8",
           "Partitioning EfficientNet-B0 for an fp16 board and an int8 board: plans scored at each device's "
           "precision, the int8 stage deployed quantized",
           mixed_command, [&] {
             PartitionBenchOptions p;
             p.models = {"efficientnet_b0"};
             p.system_file = mixed_system.string();
             p.accuracy_samples = 16;  // every front plan is run quantized: 16 inputs keep it to a minute or two
             p.out = (out / "partition-fp16-int8").string();
             p.tls = o.tls;
             p.plot.clear();
             return report::partition_sections(run_bench_partition(p), report_dir, mixed_command,
                                               "partition-fp16-int8");
           });

  // Last: it pins this process to one core.
  const std::string runtime_command =
      "fluidedge bench runtime --models resnet18,efficientnet_b0 --batch 1 --no-reference --report DIR";
  run_part("runtime", "The device runtime against ONNX Runtime", runtime_command, [&] {
    BenchRuntimeOptions r;
    r.models = "resnet18,efficientnet_b0";
    r.batches = "1";
    r.no_reference = true;
    return report::runtime_sections(run_bench_runtime(r), report_dir, runtime_command);
  });

  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - demo_start).count();
  Section settings;
  settings.id = "settings";
  settings.title = "This run";
  settings.command = "fluidedge demo --out " + o.out;
  settings.blocks.push_back(report::Paragraph{fmt::format(
      "On {} ({} cores, {:.0f} GiB). Every device is a fluidedge-node process on its own core that emulates a declared "
      "device (fluidedge node --emulate): each part waits until the time the partitioner's cost model gives for that "
      "device, so what is measured is the declared device, not this host's moment. Fluid experiment: {}. Partitioning: "
      "the boards of {}. Mutual TLS between the client and the nodes: {}.",
      cpu_model(), std::thread::hardware_concurrency(), memory_gib(),
      fluid_settings.is_object()
          ? fmt::format("two identical devices of {:g} GFLOP/s and {:g} GB/s, each behind a {:g} Mbit/s, {:g} ms link",
                        fluid_settings.value("device_gflops", 0.0), fluid_settings.value("device_bandwidth_gbps", 0.0),
                        fluid_settings.value("link_rate_mbps", 0.0), fluid_settings.value("link_latency_ms", 0.0))
          : std::string("did not run"),
      system_file.string(), o.tls)});
  report::Table took{"How long each part took", {"part", "seconds"}, {}};
  for (const auto& [title, seconds] : timings) took.rows.push_back({title, fmt::format("{:.0f}", seconds)});
  took.rows.push_back({"all of the demo", fmt::format("{:.0f}", total)});
  settings.blocks.push_back(took);
  sections.insert(sections.begin(), settings);
  report::write_html_report(
      report_dir, "fluidedge demo: Fluid DyDNNs and automated partitioning on this machine",
      {"Every number on this page comes from the run that wrote it; a part that could not run says "
       "why instead. Under every section is the command that reruns it alone."},
      sections);

  std::cout << "\n== demo: done in " << fmt::format("{:.0f}", total) << " s (";
  for (size_t i = 0; i < timings.size(); ++i) std::cout << fmt::format("{}{:.0f} s", i ? ", " : "", timings[i].second);
  const std::string index = fs::absolute(report_dir / "index.html").string();
  std::cout << ")\nreport: " << index << "\nopen it in a browser: xdg-open " << index
            << "  (one page, its images beside it; over ssh: python3 -m http.server -d "
            << fs::absolute(report_dir).string() << ")\n";
  if (failed > 0) fail("demo: {} of {} parts did not run (the report says why)", failed, parts);
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("demo",
                         "Both papers on this machine: train, the Fluid experiment with a failure, partition and "
                         "deploy EfficientNet-B0, the runtime against ONNX Runtime; one HTML report");
  auto o = std::make_shared<DemoOptions>();
  cmd->add_option("--out", o->out, "Directory for the models, stage files and the report (OUT/report/index.html)")
      ->capture_default_str();
  cmd->add_option("--data", o->data, "mnist, fashion-mnist or an IDX directory")->capture_default_str();
  cmd->add_option("--epochs", o->epochs, "Epochs per training")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--tls", o->tls, "on: mutual TLS between the client and the nodes (a throwaway CA); off: plaintext")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd->callback([o] { run_demo(*o); });
}

}  // namespace fluidedge::cli
