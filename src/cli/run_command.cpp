// `fluidedge run MODEL`: one inference on given or random inputs, or a timed loop (--bench).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/json_output.h"
#include "cli/model_source.h"
#include "cli/run_inputs.h"
#include "common/resources.h"
#include "common/statistics.h"
#include "graph/npy.h"
#include "graph/shape_inference.h"
#include "runtime/backends.h"
#include "runtime/fast/fast_session.h"
#include "runtime/session.h"
#include "runtime/xnnpack/xnnpack_session.h"

namespace fluidedge::cli {

namespace {

struct RunOptions {
  std::string model;
  InputSources inputs;
  std::string backend;
  int threads = 1;
  std::string layout = "auto";
  std::string conv_algorithm = "auto";
  std::string output_dir;
  double bench_seconds = 0;
  bool steps = false;  // with --bench on the fast backend: where the time goes, per op type and step
  bool serve = false;  // stay up and answer timing requests on stdin (bench runtime drives this)
  bool json = false;
};

Json summary_json(const graph::Tensor& t) {
  Json j{{"dtype", graph::dtype_name(t.dtype())}, {"shape", t.shape()}};
  if (t.numel() > 0 && t.dtype() != graph::DType::kFloat16) {
    auto v = t.to_float();
    double sum = 0;
    for (float x : v) sum += x;
    j["min"] = *std::min_element(v.begin(), v.end());
    j["max"] = *std::max_element(v.begin(), v.end());
    j["mean"] = sum / static_cast<double>(v.size());
    if (t.rank() == 2) {
      Json argmax = Json::array();
      for (int64_t r = 0; r < t.dim(0); ++r) {
        auto row = v.begin() + r * t.dim(1);
        argmax.push_back(std::max_element(row, row + t.dim(1)) - row);
      }
      j["argmax"] = argmax;
    }
  }
  return j;
}

// Where a planned backend's time goes: each step timed alone (synchronised, median of `runs`),
// summed per op type (reorders between layouts are their own type), and the slowest steps.
Json step_breakdown(runtime::Session& session, const runtime::TensorMap& inputs, int runs) {
  std::vector<runtime::StepTiming> steps = session.profile(inputs, std::max(runs, 3));
  double total = 0;
  std::map<std::string, std::pair<double, int>> by_op;
  for (const auto& s : steps) {
    total += s.ms;
    by_op[s.op_type].first += s.ms;
    ++by_op[s.op_type].second;
  }
  Json ops = Json::array();
  for (const auto& [op, v] : by_op)
    ops.push_back(
        Json{{"op_type", op}, {"ms", v.first}, {"steps", v.second}, {"share", v.first / std::max(total, 1e-12)}});
  std::sort(ops.begin(), ops.end(),
            [](const Json& a, const Json& b) { return a["ms"].get<double>() > b["ms"].get<double>(); });
  std::vector<size_t> order(steps.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return steps[a].ms > steps[b].ms; });
  Json slowest = Json::array();
  for (size_t i = 0; i < std::min<size_t>(order.size(), 10); ++i) {
    const auto& s = steps[order[i]];
    slowest.push_back(Json{{"name", s.name}, {"op_type", s.op_type}, {"fused", s.fused}, {"ms", s.ms}});
  }
  return Json{{"total_ms", total}, {"count", steps.size()}, {"by_op", ops}, {"slowest", slowest}};
}

void print_step_breakdown(const Json& j) {
  fmt::print("  {} steps, {:.3f} ms timed one by one\n", j["count"].get<size_t>(), j["total_ms"].get<double>());
  for (const auto& op : j["by_op"])
    fmt::print("    {:<20} {:9.3f} ms {:5.1f} %  ({} steps)\n", op["op_type"].get<std::string>(),
               op["ms"].get<double>(), 100 * op["share"].get<double>(), op["steps"].get<int>());
  fmt::print("  slowest steps:\n");
  for (const auto& s : j["slowest"])
    fmt::print("    {:9.3f} ms  {} {}\n", s["ms"].get<double>(), s["op_type"].get<std::string>(),
               s["name"].get<std::string>());
}

// The plan of a planned backend at `batch` (activation memory, fallbacks; the fast backend's
// convolution layouts) and the CPU features its kernels use; an empty object for the reference one.
Json plan_json(runtime::Session& session, int64_t batch) {
  if (auto* fast = dynamic_cast<runtime::fast::FastSession*>(&session)) {
    auto stats = fast->plan_stats(batch);
    return Json{{"activation_mb", static_cast<double>(stats.activation_bytes) / 1e6},
                {"scratchpad_mb", static_cast<double>(stats.scratchpad_bytes) / 1e6},
                {"fallback_steps", stats.fallback_steps},
                {"layout", stats.layout},
                {"blocked_convolutions", stats.blocked_convolutions},
                {"winograd_convolutions", stats.winograd_convolutions},
                {"elided_concats", stats.elided_concats},
                {"layout_planning_ms", stats.layout_planning_ms},
                {"cpu_features", runtime::fast::cpu_features()}};
  }
  if (auto* xnn = dynamic_cast<runtime::xnnpack::XnnpackSession*>(&session)) {
    auto stats = xnn->plan_stats(batch);
    return Json{{"activation_mb", static_cast<double>(stats.activation_bytes) / 1e6},
                {"fallback_steps", stats.fallback_steps},
                {"layout", "nhwc"},
                {"layout_conversions", stats.conversions},
                {"elided_concats", stats.elided_concats},
                {"cpu_features", runtime::xnnpack::cpu_features()}};
  }
  return Json::object();
}

// `--serve`: a timing server for interleaved benchmarks, so that the model runs in a process of
// its own (nothing else loaded, nothing run before) like the peer it is compared with. After a
// warm-up it prints one line {"ready":true,...}; then each line on stdin answers one line on
// stdout: "run_for S" runs for S seconds (at least once) -> {"ms":[...]}; "rss" -> peak
// resident memory; "quit" or end of input exits. A line it does not know answers {"error":...}.
void serve(runtime::Session& session, const runtime::TensorMap& inputs, const std::string& backend, int64_t batch) {
  session.run(inputs);  // warm-up
  Json ready{{"ready", true}, {"backend", backend}, {"batch", batch}};
  ready.update(plan_json(session, batch));
  auto answer = [](const Json& j) {
    std::cout << j.dump() << std::endl;  // endl flushes: the driver waits for the line
  };
  answer(ready);
  for (std::string line; std::getline(std::cin, line);) {
    std::istringstream words(line);
    std::string cmd;
    words >> cmd;
    if (cmd == "quit") return;
    if (cmd == "rss") {
      answer(Json{{"peak_rss_mb", peak_rss_mb()}});
    } else if (double budget = 0; cmd == "run_for" && (words >> budget) && budget >= 0) {
      std::vector<double> ms;
      time_repeated([&] { session.run(inputs); }, budget, ms);
      answer(Json{{"ms", ms}});
    } else {
      answer(Json{{"error", fmt::format("unknown request '{}' (expected run_for SECONDS, rss or quit)", line)}});
    }
  }
}

void run_run(const RunOptions& o) {
  graph::Graph g = load_model(o.model);
  runtime::TensorMap inputs = gather_inputs(o.inputs, g);
  runtime::SessionOptions so;
  so.threads = o.threads;
  so.layout = o.layout;
  so.conv_algorithm = o.conv_algorithm;
  if (o.conv_algorithm == "winograd" && o.layout == "library")
    fail("--conv-algorithm winograd runs on channel-blocked activations; it does not combine with --layout library");
  std::string backend = o.backend.empty() ? runtime::default_backend() : o.backend;
  auto session = runtime::make_session(backend, g, so);
  int64_t batch = runtime::check_inputs(g, inputs);

  if (o.serve) {
    serve(*session, inputs, backend, batch);
    return;
  }
  if (o.bench_seconds > 0) {
    session->run(inputs);  // warm-up
    std::vector<double> ms;
    time_repeated([&] { session->run(inputs); }, o.bench_seconds, ms, 3);
    double median = percentile(ms, 0.5), p90 = percentile(ms, 0.9);
    Json steps_json =
        o.steps ? step_breakdown(*session, inputs, static_cast<int>(std::min<size_t>(ms.size(), 50))) : Json();
    if (o.json) {
      Json j{{"model", o.model},  {"backend", backend},  {"threads", o.threads}, {"batch", batch},
             {"runs", ms.size()}, {"median_ms", median}, {"p90_ms", p90},        {"peak_rss_mb", peak_rss_mb()}};
      j.update(plan_json(*session, batch));
      if (o.steps) j["steps"] = steps_json;
      print_json(j);
    } else {
      fmt::print(
          "{} on {} ({} thread{}), batch {}: median {:.3f} ms, p90 {:.3f} ms over {} runs; "
          "{:.1f} inferences/s; peak RSS {:.1f} MiB\n",
          o.model, backend, o.threads, o.threads == 1 ? "" : "s", batch, median, p90, ms.size(),
          1000.0 * static_cast<double>(batch) / median, peak_rss_mb());
      const Json plan = plan_json(*session, batch);
      if (plan.contains("cpu_features"))
        fmt::print("  CPU features used: {}\n", plan["cpu_features"].get<std::string>());
      if (plan.contains("blocked_convolutions")) {
        fmt::print("  convolution layouts: {} ({} channel-blocked, {} Winograd), planned in {:.0f} ms\n",
                   plan["layout"].get<std::string>(), plan["blocked_convolutions"].get<int64_t>(),
                   plan["winograd_convolutions"].get<int64_t>(), plan["layout_planning_ms"].get<double>());
      }
      if (plan.value("elided_concats", int64_t{0}) > 0) {
        int64_t elided = plan["elided_concats"].get<int64_t>();
        fmt::print("  {} concatenation{} written in place (no copy)\n", elided, elided == 1 ? "" : "s");
      }
      if (o.steps) print_step_breakdown(steps_json);
    }
    return;
  }

  auto t0 = std::chrono::steady_clock::now();
  runtime::TensorMap outputs = session->run(inputs);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!o.output_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.output_dir, ec);
    if (ec) fail("--output-dir {}: cannot create: {}", o.output_dir, ec.message());
  }
  Json outs = Json::object();
  for (const auto& name : g.outputs) {
    const graph::Tensor& t = outputs.at(name);
    Json j = summary_json(t);
    if (!o.output_dir.empty()) {
      std::string path = (std::filesystem::path(o.output_dir) / npy_file_name(name)).string();
      graph::save_npy(t, path);
      j["file"] = path;
    }
    outs[name] = j;
  }
  if (o.json) {
    print_json(Json{{"model", o.model},
                    {"backend", backend},
                    {"threads", o.threads},
                    {"batch", batch},
                    {"latency_ms", ms},
                    {"outputs", outs}});
    return;
  }
  fmt::print("{} on {} backend, batch {}: {:.3f} ms\n", o.model, backend, batch, ms);
  for (const auto& [name, j] : outs.items()) {
    fmt::print("  {} {} {}", name, j["dtype"].get<std::string>(), graph::shape_str(j["shape"].get<graph::Shape>()));
    if (j.contains("min"))
      fmt::print("  min {:.4g} max {:.4g} mean {:.4g}", j["min"].get<double>(), j["max"].get<double>(),
                 j["mean"].get<double>());
    if (j.contains("argmax")) fmt::print("  argmax {}", j["argmax"].dump());
    if (j.contains("file")) fmt::print("  -> {}", j["file"].get<std::string>());
    fmt::print("\n");
  }
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto opts = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Run a model once on .npy inputs (or random ones), or time it with --bench");
  cmd->add_option("MODEL", opts->model, kModelHelp)->required();
  cmd->add_option("--input,-i", opts->inputs.files,
                  "[NAME=]FILE.npy for a graph input (repeatable; in order if unnamed; NAME may also be the input's "
                  "file name as --output-dir writes it, '/' made '_')");
  cmd->add_option("--input-dir", opts->inputs.dir,
                  "Read every input the model has from DIR/<input>.npy, named as --output-dir writes them (a "
                  "previous stage's --output-dir); --input wins for the same input");
  cmd->add_flag("--random", opts->inputs.random, "Fill inputs not given with seeded random values");
  cmd->add_option("--seed", opts->inputs.seed, "Seed for --random");
  cmd->add_option("--backend", opts->backend, kBackendHelp)->check(CLI::IsMember({"fast", "xnnpack", "reference"}));
  cmd->add_option("--threads", opts->threads, "Intra-op threads (default 1)")->check(CLI::PositiveNumber);
  cmd->add_option("--layout", opts->layout,
                  "Fast backend: each convolution's activation layout, auto (measured when planned), library "
                  "(oneDNN's choice) or blocked (nChw16c)")
      ->check(CLI::IsMember({"auto", "library", "blocked"}));
  cmd->add_option("--conv-algorithm", opts->conv_algorithm,
                  "Fast backend: algorithm of 3x3 stride-1 convolutions, auto (Winograd's where measured "
                  "faster), direct, or winograd (wherever there is a kernel); results differ by rounding")
      ->check(CLI::IsMember({"auto", "direct", "winograd"}));
  cmd->add_option("--batch", opts->inputs.batch, "Batch size of random inputs")->check(CLI::PositiveNumber);
  cmd->add_option("--output-dir,-o", opts->output_dir,
                  "Write each output to DIR/<output>.npy ('/' in its name made '_')");
  cmd->add_option("--bench", opts->bench_seconds, "Time repeated runs for this many seconds")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--steps", opts->steps,
                "With --bench (fast or xnnpack backend): time each step alone and show the time per op type and the "
                "slowest steps");
  cmd->add_flag("--serve", opts->serve,
                "Stay up as a timing server: after a warm-up, answer 'run_for SECONDS', 'rss' and 'quit' lines on "
                "stdin with one JSON line each (bench runtime uses this)");
  cmd->add_flag("--json", opts->json, "Print one JSON object to stdout");
  cmd->callback([opts] {
    if (opts->steps && opts->bench_seconds <= 0) fail("--steps needs --bench SECONDS (it breaks a timed run down)");
    if (opts->serve && (opts->bench_seconds > 0 || !opts->output_dir.empty()))
      fail("--serve answers timing requests on stdin; it does not combine with --bench or --output-dir");
    run_run(*opts);
  });
}

}  // namespace fluidedge::cli
