// `fluidedge bench runtime`: the two lean backends (fast on oneDNN, xnnpack on XNNPACK) against
// the reference backend and ONNX Runtime (one intra-op thread, same ONNX file, same inputs),
// timed in the same run and interleaved so that drifts of the machine hit all alike. The lean
// backends run where a device runs them: in a fresh `fluidedge-node` process per backend, model
// and batch, as ORT runs in a fresh node.js process; the reference backend runs in this process.
// Everything is pinned to one core.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <unistd.h>

#include "cli/bench_runtime.h"
#include "cli/commands.h"
#include "cli/error_boundary.h"
#include "cli/json_output.h"
#include "cli/report/sections.h"
#include "cli/timing_server.h"
#include "cli/tool_paths.h"
#include "common/atomic_file.h"
#include "common/cpu_affinity.h"
#include "common/progress.h"
#include "common/statistics.h"
#include "common/subprocess.h"
#include "graph/npy.h"
#include "graph/onnx_io.h"
#include "graph/shape_inference.h"
#include "runtime/session.h"
#include "zoo/zoo.h"

namespace fluidedge::cli {

Json run_bench_runtime(const BenchRuntimeOptions& o) {
  if (o.int8) return run_bench_runtime_int8(o);
  std::vector<std::string> models = o.models.empty() ? zoo::zoo_names() : split_list(o.models);
  std::vector<int64_t> batches = parse_batches(o.batches);
  for (const auto& m : models)
    if (!zoo::zoo_has(m)) zoo::build_model(m);  // throws the list of valid names
  int cpu = pin_bench_cpu(o.cpu);
  auto backends = runtime::available_backends();
  bool with_reference = !o.no_reference && std::count(backends.begin(), backends.end(), "reference");
  std::string js = js_tools_dir();

  auto dir = std::filesystem::temp_directory_path() / fmt::format("fluidedge-bench-runtime-{}", getpid());
  std::filesystem::create_directories(dir);
  Json rows = Json::array();
  ProgressBar bar("bench runtime", static_cast<int64_t>(models.size() * batches.size()));
  for (const auto& name : models) {
    std::string file = (dir / (name + ".onnx")).string();
    graph::save_onnx(zoo::build_model(name), file);
    graph::Graph g = graph::load_onnx(file);
    for (int64_t batch : batches) {
      graph::Shape shape = g.value(g.inputs.at(0)).shape;
      shape[0] = batch;
      graph::Tensor x(graph::DType::kFloat32, shape);
      std::mt19937 rng(1);
      std::normal_distribution<float> normal;
      for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = normal(rng);
      std::string xfile = (dir / "input.npy").string();
      graph::save_npy(x, xfile);
      runtime::TensorMap feeds{{g.inputs.at(0), x}};
      std::string input = g.inputs.at(0) + "=" + xfile;

      TimingServer fast({node_binary(), "run", file, "--input", input, "--serve", "--backend", "fast"});
      TimingServer xnn({node_binary(), "run", file, "--input", input, "--serve", "--backend", "xnnpack"});
      TimingServer ort({"node", js + "/ort_run.js", file, "--input", input, "--serve"});
      std::unique_ptr<runtime::Session> reference;
      if (with_reference) {
        reference = runtime::make_session("reference", g);
        reference->run(feeds);
      }

      std::vector<double> fast_ms, xnn_ms, ref_ms, ort_ms;
      double budget = o.seconds / o.rounds;
      for (int r = 0; r < o.rounds; ++r) {
        fast.run_for(budget, fast_ms);
        xnn.run_for(budget, xnn_ms);
        if (reference) time_repeated([&] { reference->run(feeds); }, budget, ref_ms);
        ort.run_for(budget, ort_ms);
      }
      Json row{{"model", name},
               {"batch", batch},
               {"fast_ms", percentile(fast_ms, 0.5)},
               {"reference_ms", reference ? Json(percentile(ref_ms, 0.5)) : Json()},
               {"ort_ms", percentile(ort_ms, 0.5)},
               {"fast_over_ort", percentile(fast_ms, 0.5) / percentile(ort_ms, 0.5)},
               {"fast_runs", fast_ms.size()},
               {"ort_runs", ort_ms.size()},
               {"fast_activation_mb", fast.ready.value("activation_mb", -1.0)},
               {"fast_fallback_steps", fast.ready.value("fallback_steps", -1)},
               {"fast_layout", fast.ready.value("layout", std::string())},
               {"fast_node_rss_mb", fast.peak_rss_mb()},
               {"ort_rss_mb", ort.peak_rss_mb()},
               {"xnnpack_ms", percentile(xnn_ms, 0.5)},
               {"xnnpack_over_ort", percentile(xnn_ms, 0.5) / percentile(ort_ms, 0.5)},
               {"xnnpack_over_fast", percentile(xnn_ms, 0.5) / percentile(fast_ms, 0.5)},
               {"xnnpack_runs", xnn_ms.size()},
               {"xnnpack_activation_mb", xnn.ready.value("activation_mb", -1.0)},
               {"xnnpack_fallback_steps", xnn.ready.value("fallback_steps", -1)},
               {"xnnpack_node_rss_mb", xnn.peak_rss_mb()},
               {"xnnpack_cpu_features", xnn.ready.value("cpu_features", std::string())}};
      rows.push_back(row);
      bar.advance(1, fmt::format("{} b{}", name, batch));
    }
  }
  bar.finish();
  std::filesystem::remove_all(dir);
  Json result{{"settings",
               {{"threads", 1},
                {"cpu", cpu},
                {"rounds", o.rounds},
                {"seconds_per_backend", o.seconds},
                {"fast", "fluidedge-node run --serve --backend fast, a fresh process per model and batch"},
                {"xnnpack", "fluidedge-node run --serve --backend xnnpack, likewise"},
                {"ort", "onnxruntime-node, 1 intra-op thread, graph optimizations all"}}},
              {"results", rows}};
  if (o.json) return result;
  fmt::print("{:<16} {:>5} {:>9} {:>10} {:>12} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}  {}\n", "model", "batch",
             "fast ms", "xnnpack ms", "reference ms", "ORT ms", "fast/ORT", "xnn/ORT", "xnn/fast", "fast MB", "xnn MB",
             "ORT MB", "fast layouts");
  for (const auto& r : rows)
    fmt::print(
        "{:<16} {:>5} {:>9.3f} {:>10.3f} {:>12} {:>9.3f} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.1f} {:>8.1f} {:>8.1f}  {}\n",
        r["model"].get<std::string>(), r["batch"].get<int64_t>(), r["fast_ms"].get<double>(),
        r["xnnpack_ms"].get<double>(),
        r["reference_ms"].is_null() ? std::string("-") : fmt::format("{:.3f}", r["reference_ms"].get<double>()),
        r["ort_ms"].get<double>(), r["fast_over_ort"].get<double>(), r["xnnpack_over_ort"].get<double>(),
        r["xnnpack_over_fast"].get<double>(), r["fast_node_rss_mb"].get<double>(),
        r["xnnpack_node_rss_mb"].get<double>(), r["ort_rss_mb"].get<double>(), r["fast_layout"].get<std::string>());
  return result;
}

void add_bench_runtime_command(CLI::App& bench) {
  auto opts = std::make_shared<BenchRuntimeOptions>();
  auto* cmd = bench.add_subcommand(
      "runtime", "fast and xnnpack backends vs reference backend vs ONNX Runtime, one thread, zoo models");
  cmd->add_option("--models", opts->models, "Comma-separated zoo models (default: all)");
  cmd->add_option("--batch", opts->batches, "Comma-separated batch sizes (default 1,32)");
  cmd->add_option("--rounds", opts->rounds, "Interleaved rounds per measurement (default 5)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seconds", opts->seconds, "Seconds per backend, model and batch (default 1)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--cpu", opts->cpu, "Core to pin every backend to (default: the last one)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--no-reference", opts->no_reference, "Skip the reference backend (it is slow on big models)");
  cmd->add_flag("--int8", opts->int8,
                "Int8: each model quantized by `fluidedge quantize` (QDQ, per channel, random calibration), our fast "
                "backend against ONNX Runtime on that file and against our own fp32 (default models: resnet18, "
                "mobilenet_v2, efficientnet_b0, squeezenet1_1)");
  cmd->add_flag("--json", opts->json, "Print one JSON object to stdout");
  cmd->add_option("--report", opts->report, "Also write an HTML report of this run to DIR/index.html");
  cmd->callback([opts] {
    if (!opts->report.empty() && opts->int8) fail("--report: the HTML report does not cover --int8 yet; use --json");
    if (!opts->report.empty()) check_writable_dir(opts->report, "--report");
    Json result = run_bench_runtime(*opts);
    if (opts->json) print_json(result);
    if (!opts->report.empty()) {
      report::write_bench_report(opts->report, "fluidedge bench runtime",
                                 report::runtime_sections(result, opts->report, invoked_command()));
      if (!opts->json) std::cout << "report: " << (std::filesystem::path(opts->report) / "index.html").string() << "\n";
    }
  });
}

}  // namespace fluidedge::cli
