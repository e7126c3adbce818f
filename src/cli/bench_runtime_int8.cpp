// `fluidedge bench runtime --int8`: each zoo model quantized as `fluidedge quantize` does (QDQ,
// per-channel weights, min/max calibration on random inputs), then our fast backend on that file
// against ONNX Runtime on the same file (its QDQ fusions: QLinearConv, QLinearAdd, ...) and
// against our own fp32 run of the float model; xnnpack on the same file beside them. Fresh
// processes per backend, model and batch, interleaved rounds, one pinned core, as `bench runtime`.
#include <filesystem>
#include <random>

#include <fmt/format.h>
#include <unistd.h>

#include "cli/bench_runtime.h"
#include "cli/timing_server.h"
#include "cli/tool_paths.h"
#include "common/progress.h"
#include "common/statistics.h"
#include "graph/npy.h"
#include "graph/onnx_io.h"
#include "quantize/post_training.h"
#include "zoo/zoo.h"

namespace fluidedge::cli {

namespace {

const char* const kInt8Models = "resnet18,mobilenet_v2,efficientnet_b0,squeezenet1_1";

// The model's QDQ file (calibrated on 16 random inputs).
graph::Graph quantized(const graph::Graph& model) {
  quantize::PostTrainingOptions options;
  options.qdq.per_channel = true;
  options.batch = 8;
  return quantize::quantize_model(model, quantize::random_samples(model, 16, 1), options).graph;
}

}  // namespace

Json run_bench_runtime_int8(const BenchRuntimeOptions& o) {
  std::vector<std::string> models = split_list(o.models.empty() ? kInt8Models : o.models);
  std::vector<int64_t> batches = parse_batches(o.batches);
  for (const auto& m : models)
    if (!zoo::zoo_has(m)) zoo::build_model(m);  // throws the list of valid names
  int cpu = pin_bench_cpu(o.cpu);
  std::string js = js_tools_dir();

  auto dir = std::filesystem::temp_directory_path() / fmt::format("fluidedge-bench-int8-{}", getpid());
  std::filesystem::create_directories(dir);
  Json rows = Json::array();
  ProgressBar bar("bench runtime --int8", static_cast<int64_t>(models.size() * batches.size()));
  for (const auto& name : models) {
    std::string float_file = (dir / (name + ".onnx")).string(), int8_file = (dir / (name + ".int8.onnx")).string();
    graph::Graph model = zoo::build_model(name);
    graph::save_onnx(model, float_file);
    graph::save_onnx(quantized(model), int8_file);
    for (int64_t batch : batches) {
      graph::Shape shape = model.value(model.inputs.at(0)).shape;
      shape[0] = batch;
      graph::Tensor x(graph::DType::kFloat32, shape);
      std::mt19937 rng(1);
      std::uniform_real_distribution<float> uniform(0.f, 1.f);
      for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = uniform(rng);
      std::string xfile = (dir / "input.npy").string();
      graph::save_npy(x, xfile);
      std::string input = model.inputs.at(0) + "=" + xfile;

      TimingServer fast8({node_binary(), "run", int8_file, "--input", input, "--serve", "--backend", "fast"});
      TimingServer ort8({"node", js + "/ort_run.js", int8_file, "--input", input, "--serve"});
      TimingServer fast32({node_binary(), "run", float_file, "--input", input, "--serve", "--backend", "fast"});
      TimingServer xnn8({node_binary(), "run", int8_file, "--input", input, "--serve", "--backend", "xnnpack"});
      std::vector<double> fast8_ms, ort8_ms, fast32_ms, xnn8_ms;
      double budget = o.seconds / o.rounds;
      for (int r = 0; r < o.rounds; ++r) {
        fast8.run_for(budget, fast8_ms);
        ort8.run_for(budget, ort8_ms);
        fast32.run_for(budget, fast32_ms);
        xnn8.run_for(budget, xnn8_ms);
      }
      double f8 = percentile(fast8_ms, 0.5), o8 = percentile(ort8_ms, 0.5), f32 = percentile(fast32_ms, 0.5);
      rows.push_back(Json{{"model", name},
                          {"batch", batch},
                          {"fast_int8_ms", f8},
                          {"ort_int8_ms", o8},
                          {"fast_fp32_ms", f32},
                          {"xnnpack_int8_ms", percentile(xnn8_ms, 0.5)},
                          {"fast_int8_over_ort_int8", f8 / o8},
                          {"fast_int8_over_fast_fp32", f8 / f32},
                          {"fast_int8_runs", fast8_ms.size()},
                          {"ort_int8_runs", ort8_ms.size()},
                          {"fast_int8_fallback_steps", fast8.ready.value("fallback_steps", -1)},
                          {"fast_int8_rss_mb", fast8.peak_rss_mb()},
                          {"ort_int8_rss_mb", ort8.peak_rss_mb()}});
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
                {"quantization",
                 "fluidedge quantize: QDQ, per-channel int8 weights, uint8 activations, minmax "
                 "calibration on 16 random inputs"},
                {"fast", "fluidedge-node run --serve --backend fast, a fresh process per file and batch"},
                {"ort", "onnxruntime-node on the same QDQ file, 1 intra-op thread, graph optimizations all"}}},
              {"results", rows}};
  if (o.json) return result;
  fmt::print("{:<16} {:>5} {:>13} {:>12} {:>13} {:>9} {:>10} {:>16}\n", "model", "batch", "fast int8 ms", "ORT int8 ms",
             "fast fp32 ms", "int8/ORT", "int8/fp32", "xnnpack int8 ms");
  for (const auto& r : rows)
    fmt::print("{:<16} {:>5} {:>13.3f} {:>12.3f} {:>13.3f} {:>9.3f} {:>10.3f} {:>16.3f}\n",
               r["model"].get<std::string>(), r["batch"].get<int64_t>(), r["fast_int8_ms"].get<double>(),
               r["ort_int8_ms"].get<double>(), r["fast_fp32_ms"].get<double>(),
               r["fast_int8_over_ort_int8"].get<double>(), r["fast_int8_over_fast_fp32"].get<double>(),
               r["xnnpack_int8_ms"].get<double>());
  return result;
}

}  // namespace fluidedge::cli
