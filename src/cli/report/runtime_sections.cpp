// The report section of `bench runtime` (see sections.h).
#include <fmt/format.h>

#include "cli/report/sections.h"

namespace fluidedge::cli::report {

std::vector<Section> runtime_sections(const Json& result, const std::filesystem::path& /*dir*/,
                                      const std::string& command) {
  Section section;
  section.id = "runtime";
  section.title = "The device runtime against ONNX Runtime";
  section.command = command;
  section.blocks.push_back(Paragraph{
      "Median milliseconds per run on one core of this machine, one thread each: fluidedge's two device backends (fast "
      "on "
      "oneDNN, xnnpack on XNNPACK), each in a fresh fluidedge-node process, against ONNX Runtime (onnxruntime-node, "
      "graph optimisations on) on the same ONNX file and inputs, interleaved in rounds so that the machine's drifts "
      "hit "
      "all alike. A ratio below 1 is faster than ONNX Runtime."});
  Table table{"",
              {"model", "batch", "fast ms", "xnnpack ms", "ONNX Runtime ms", "fast / ORT", "xnnpack / ORT",
               "fast node MB", "xnnpack node MB", "ORT MB"},
              {}};
  for (const auto& r : result["results"])
    table.rows.push_back(
        {r["model"], std::to_string(r["batch"].get<int64_t>()), fmt::format("{:.2f}", r["fast_ms"].get<double>()),
         fmt::format("{:.2f}", r["xnnpack_ms"].get<double>()), fmt::format("{:.2f}", r["ort_ms"].get<double>()),
         fmt::format("{:.2f}", r["fast_over_ort"].get<double>()),
         fmt::format("{:.2f}", r["xnnpack_over_ort"].get<double>()),
         fmt::format("{:.0f}", r["fast_node_rss_mb"].get<double>()),
         fmt::format("{:.0f}", r["xnnpack_node_rss_mb"].get<double>()),
         fmt::format("{:.0f}", r["ort_rss_mb"].get<double>())});
  section.blocks.push_back(table);
  if (!result["results"].empty())
    section.blocks.push_back(Paragraph{fmt::format(
        "xnnpack uses {} on this CPU.", result["results"][0].value("xnnpack_cpu_features", std::string("?")))});
  return {section};
}

}  // namespace fluidedge::cli::report
