// The report sections of each bench, made from the JSON the bench prints (`--json`), so that
// `bench fluid|partition|runtime --report DIR` and `fluidedge demo` show the same thing: plots,
// tables and the checks a reader of the papers would make, every figure from that run.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cli/json_output.h"
#include "cli/report/html_report.h"

namespace fluidedge::cli::report {

// The Fluid DyDNN experiment (`bench fluid`): the Figure-2 bars of throughput and accuracy, the
// ratios to Static and Dynamic, HA against HT, where each variant fails, and the failure runs
// with a throughput timeline around a kill and the rejoin. Plots are drawn into `dir`.
std::vector<Section> fluid_sections(const Json& result, const std::filesystem::path& dir, const std::string& command);

// The Figure-2 plot alone: throughput and accuracy per variant and mode, one bar per set of
// devices online (what `bench fluid --plot` writes).
void draw_fluid_figure(const std::string& image, const Json& result);

// The partitioner's experiment (`bench partition`): per model, the Pareto front with the plan
// deployed, and predicted against measured for each device alone and for the split, per stage.
// `id` names the summary section and its figure (two runs in one report need two).
std::vector<Section> partition_sections(const Json& result, const std::filesystem::path& dir,
                                        const std::string& command, const std::string& id = "partition");

// Predicted against measured throughput per model (what `bench partition --plot` writes).
void draw_partition_figure(const std::string& image, const Json& result);

// The runtime against ONNX Runtime (`bench runtime`): a table per model and batch.
std::vector<Section> runtime_sections(const Json& result, const std::filesystem::path& dir, const std::string& command);

}  // namespace fluidedge::cli::report
