// `fluidedge quantize MODEL --calibration SOURCE --out FILE.onnx`: post-training static
// quantization into ONNX's QDQ format (or QOperator), calibrated on a dataset, a directory of
// .npy inputs or random inputs, and what it costs in accuracy (or top-1 agreement).

#include <filesystem>
#include <iostream>
#include <optional>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/json_output.h"
#include "cli/model_source.h"
#include "common/error.h"
#include "common/progress.h"
#include "graph/onnx_io.h"
#include "quantize/post_training.h"

namespace fluidedge::cli {
namespace {

struct QuantizeCommandOptions {
  std::string model, calibration, out, format = "qdq", method = "minmax";
  bool per_channel = false, reduce_range = false, json = false;
  int64_t calibration_samples = 0, evaluation_samples = 0, batch = 32;
  uint64_t seed = 1;
};

void run_quantize(const QuantizeCommandOptions& o) {
  std::filesystem::path out(o.out);
  if (out.has_parent_path() && !std::filesystem::is_directory(out.parent_path()))
    fail("--out {}: directory '{}' does not exist", o.out, out.parent_path().string());
  if (std::filesystem::is_directory(out))
    fail("--out {}: is a directory; give a file name such as model.int8.onnx", o.out);
  quantize::PostTrainingOptions options;
  options.method = quantize::calibration_method(o.method);
  options.format = quantize::quantized_format(o.format);
  options.qdq.per_channel = o.per_channel;
  options.qdq.reduce_range = o.reduce_range;
  options.batch = o.batch;
  graph::Graph model = load_model(o.model);
  const bool random = o.calibration == "random";
  // Both splits before any work: a dataset is read once, and a bad one stops us before calibrating.
  const auto [calibration, evaluation] = quantize::load_sample_splits(
      model, o.calibration, o.calibration_samples > 0 ? o.calibration_samples : (random ? 64 : 512),
      o.evaluation_samples > 0 ? o.evaluation_samples : (random ? 256 : 1000), o.seed);
  std::optional<ProgressBar> bar;
  if (!o.json) bar.emplace("calibrating", (calibration.size() + o.batch - 1) / o.batch);
  quantize::QuantizedModel q = quantize::quantize_model(model, calibration, options, [&](int64_t, int64_t) {
    if (bar) bar->advance();
  });
  if (bar) bar->finish();
  graph::save_onnx(q.graph, o.out);

  quantize::AccuracyComparison a = quantize::compare_accuracy(model, q.graph, evaluation, o.batch);
  if (o.json) {
    Json j{{"model", o.model},
           {"out", o.out},
           {"format", o.format},
           {"method", o.method},
           {"per_channel", o.per_channel},
           {"reduce_range", o.reduce_range},
           {"calibration", calibration.description},
           {"evaluation", evaluation.description},
           {"quantized_activations", q.activations},
           {"quantized_weights", q.weights},
           {"float_weight_bytes", q.float_weight_bytes},
           {"quantized_weight_bytes", q.int8_weight_bytes},
           {"top1_agreement", a.agreement}};
    if (a.float_accuracy) {
      j["float_accuracy"] = *a.float_accuracy;
      j["int8_accuracy"] = *a.quantized_accuracy;
    }
    print_json(j);
    return;
  }
  std::cout << fmt::format("{}: {} activations and {} weight tensors in int8 ({}, {} weights, {} calibration)\n", o.out,
                           q.activations, q.weights, o.format, o.per_channel ? "per-channel" : "per-tensor", o.method);
  std::cout << fmt::format("  weights {:.2f} MB -> {:.2f} MB\n", static_cast<double>(q.float_weight_bytes) / 1e6,
                           static_cast<double>(q.int8_weight_bytes) / 1e6);
  std::cout << fmt::format("  calibrated on {}\n", calibration.description);
  if (a.float_accuracy)
    std::cout << fmt::format(
        "  accuracy on {}: fp32 {:.2f} %, int8 {:.2f} % ({:+.2f} points); top-1 agreement {:.2f} %\n",
        evaluation.description, 100 * *a.float_accuracy, 100 * *a.quantized_accuracy,
        100 * (*a.quantized_accuracy - *a.float_accuracy), 100 * a.agreement);
  else
    std::cout << fmt::format("  top-1 agreement with the float model on {}: {:.2f} %\n", evaluation.description,
                             100 * a.agreement);
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "quantize", "Post-training static quantization to int8 (ONNX QDQ, as ONNX Runtime runs it), with its accuracy");
  auto o = std::make_shared<QuantizeCommandOptions>();
  cmd->add_option("MODEL", o->model, kModelHelp)->required();
  cmd->add_option("--calibration", o->calibration,
                  "Calibration data: mnist, fashion-mnist, a directory of IDX files (train split calibrates, test "
                  "split measures accuracy), a directory of .npy input batches, or random")
      ->required();
  cmd->add_option("--out", o->out, "Quantized model to write (.onnx)")->required();
  cmd->add_flag("--per-channel", o->per_channel, "One weight scale per output channel (default: one per tensor)");
  cmd->add_flag("--reduce-range", o->reduce_range,
                "7-bit weights: exact and fast on x86 CPUs without VNNI (AVX2, AVX-512 before VNNI), at some accuracy");
  cmd->add_option("--format", o->format,
                  "qdq (QuantizeLinear/DequantizeLinear around float ops) or qoperator (QLinearConv, QLinearAdd, ...)")
      ->check(CLI::IsMember({"qdq", "qoperator"}))
      ->capture_default_str();
  cmd->add_option("--method", o->method,
                  "Activation ranges: minmax (observed extremes) or percentile (0.01 % to 99.99 %)")
      ->check(CLI::IsMember({"minmax", "percentile"}))
      ->capture_default_str();
  cmd->add_option("--calibration-samples", o->calibration_samples,
                  "Samples to calibrate on (default: 512 from a dataset, 64 random)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--eval-samples", o->evaluation_samples,
                  "Samples to measure accuracy or agreement on (default: 1000 test images, 256 random)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch", o->batch, "Batch size of the calibration and evaluation runs")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of random calibration inputs")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print one JSON object (summary) to stdout");
  cmd->callback([o] { run_quantize(*o); });
}

}  // namespace fluidedge::cli
