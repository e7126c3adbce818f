// The report sections of `bench partition` (see sections.h).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "cli/report/charts.h"
#include "cli/report/sections.h"

namespace fluidedge::cli::report {
namespace {

// "dev1" -> the declared name of the first device.
std::string device_name(const Json& row, const std::string& dev) {
  const Json& names = row.value("device_names", Json::array());
  if (dev.size() == 4 && dev.rfind("dev", 0) == 0) {
    const size_t i = static_cast<size_t>(dev[3] - '1');
    if (i < names.size()) return names[i].get<std::string>();
  }
  return dev;
}

std::string plan_label(const Json& plan) {
  std::string devices;
  for (const auto& d : plan["devices"]) devices += (devices.empty() ? "" : " -> ") + d.get<std::string>();
  if (plan["cut_after"].empty()) return devices + " alone";
  std::string cuts;
  for (const auto& c : plan["cut_after"]) cuts += (cuts.empty() ? "" : ", ") + c.get<std::string>();
  return devices + ", cut after " + cuts;
}

std::string off(double measured, double predicted) {
  return predicted > 0 ? fmt::format("{:+.1f} %", 100 * (measured / predicted - 1)) : "-";
}

Section model_section(const Json& result, const Json& row, const std::filesystem::path& dir,
                      const std::string& command) {
  const std::string model = row.value("label", row["model"].get<std::string>());
  Section section;
  std::string id = model;
  std::replace_if(
      id.begin(), id.end(), [](char c) { return c == ' ' || c == '+'; }, '-');
  section.id = "partition-" + id;
  section.title = "Partitioning " + model;
  section.command = command;
  const Json& s = result["settings"];
  const Json& names = row.value("device_names", Json::array());
  section.blocks.push_back(Paragraph{fmt::format(
      "Devices: {} and {} ({}); {}. The partitioner searched every cut of the model's {} nodes into one or two stages "
      "in {:.2f} ms; the plan of the front with the best throughput was deployed on two device nodes, and each device "
      "alone ran the whole model; {} requests in flight, {:g} s each.",
      names.size() > 0 ? names[0].get<std::string>() : "dev1", names.size() > 1 ? names[1].get<std::string>() : "dev2",
      s["system"].is_null() ? s.value("profile", std::string()) : "as declared in " + s["system"].get<std::string>(),
      s.value("link", std::string()), row.value("nodes", 0), row.value("explore_ms", 0.0), s.value("concurrency", 0),
      s.value("seconds_per_run", 0.0))});

  const Json& front = row.value("front", Json::array());
  if (!front.empty()) {
    Scatter chart;
    chart.title = fmt::format("{}: Pareto front (throughput against latency), the deployed plan ringed", model);
    chart.x_label = "latency of one inference (ms)";
    chart.y_label = "throughput (inferences/s)";
    ScatterSeries single{"one device", {}, {}, {}}, split{"two stages", {}, {}, {}};
    chart.highlighted.title = "deployed";
    // With a device below fp32, each plan's top-1 agreement with the float model (its int8
    // stages quantized) is measured.
    const bool scored = !front.empty() && front[0].contains("agreement");
    Table table{scored ? fmt::format("The front (agreement: top-1 agreement with the float model on {})",
                                     row.value("accuracy_samples", std::string("random inputs")))
                       : std::string("The front"),
                {"plan", "throughput /s", "latency ms", "energy mJ", "link bytes", "peak memory MB", "deployed"},
                {}};
    if (scored) table.header.push_back("agreement");
    for (size_t i = 0; i < front.size(); ++i) {
      const Json& p = front[i];
      ScatterSeries& series = p["cut_after"].empty() ? single : split;
      series.x.push_back(p["latency_ms"].get<double>());
      series.y.push_back(p["throughput_ips"].get<double>());
      series.labels.push_back(fmt::format("#{}", i + 1));
      if (p.value("deployed", false)) {
        chart.highlighted.x.push_back(p["latency_ms"].get<double>());
        chart.highlighted.y.push_back(p["throughput_ips"].get<double>());
        chart.highlighted.labels.push_back("deployed");
      }
      table.rows.push_back(
          {fmt::format("#{} {}", i + 1, plan_label(p)), fmt::format("{:.2f}", p["throughput_ips"].get<double>()),
           fmt::format("{:.2f}", p["latency_ms"].get<double>()), fmt::format("{:.1f}", p["energy_mj"].get<double>()),
           std::to_string(p["link_bytes"].get<int64_t>()), fmt::format("{:.1f}", p["peak_memory_mb"].get<double>()),
           p.value("deployed", false) ? "yes" : ""});
      if (scored) table.rows.back().push_back(fmt::format("{:.3f}", p.value("agreement", 0.0)));
    }
    // Many labels on a long front would hide the points: label only short fronts.
    if (split.x.size() > 24) split.labels.clear();
    chart.series = {single, split};
    const std::string file = "partition-" + id + "-front.png";
    draw_scatter((dir / file).string(), chart);
    section.blocks.push_back(Image{file, chart.title});
    section.blocks.push_back(table);
  }

  if (!row.contains("dev1_alone")) {
    section.blocks.push_back(Paragraph{"Nothing was deployed (--explore-only)."});
    return section;
  }
  Table deployments{
      "Predicted against measured", {"deployment", "predicted /s", "measured /s", "measured vs predicted"}, {}};
  bool all_within = true;
  std::string figures;
  auto add = [&](const std::string& what, double predicted, double measured) {
    deployments.rows.push_back(
        {what, fmt::format("{:.2f}", predicted), fmt::format("{:.2f}", measured), off(measured, predicted)});
    all_within = all_within && predicted > 0 && std::abs(measured / predicted - 1) <= 0.15;
    figures += fmt::format("{}{} {}", figures.empty() ? "" : "; ", what, off(measured, predicted));
  };
  for (std::string dev : {"dev1", "dev2"}) {
    const Json& alone = row[dev + "_alone"];
    add(device_name(row, dev) + " alone", alone["predicted_ips"].get<double>(), alone["measured_ips"].get<double>());
  }
  if (row["split"].is_object())
    add("the split", row["split_predicted_ips"].get<double>(), row["split_measured_ips"].get<double>());
  section.blocks.push_back(deployments);

  if (row["split"].is_object()) {
    const Json& split = row["split"];
    Table stages{
        fmt::format("The split's stages (cut after {}, {} bytes per inference over the link, predicted bottleneck: {})",
                    split["cut_after"].get<std::string>(), split["link_bytes"].get<int64_t>(),
                    split["predicted_bottleneck"].get<std::string>()),
        {"stage", "device", "predicted ms", "measured ms", "of which on this host", "overruns"},
        {}};
    for (size_t i = 0; i < split["stages"].size(); ++i) {
      const Json& st = split["stages"][i];
      stages.rows.push_back({std::to_string(i + 1), device_name(row, st["device"]),
                             fmt::format("{:.2f}", st["predicted_ms"].get<double>()),
                             fmt::format("{:.2f}", st["measured_ms"].get<double>()),
                             fmt::format("{:.2f}", st["host_ms"].get<double>()),
                             std::to_string(st["overruns"].get<int64_t>())});
    }
    stages.rows.push_back({"link", "",
                           fmt::format("{:.2f} busy, {:.2f} end to end", split["link_busy_ms"].get<double>(),
                                       split["link_ms"].get<double>()),
                           "", "", ""});
    section.blocks.push_back(stages);
    section.blocks.push_back(Paragraph{fmt::format(
        "Gain of the split over the best single device: predicted {:+.1f} %, measured {:+.1f} %. Where the gap is: {}.",
        100 * row.value("gain_predicted", 0.0), 100 * row.value("gain_measured", 0.0),
        row.value("gap", std::string("-")))});
  } else {
    section.blocks.push_back(Paragraph{row.value("note", std::string("no two-stage plan on the front"))});
  }
  section.blocks.push_back(
      Check{"every deployment runs within 15 % of the partitioner's prediction", all_within, figures});
  return section;
}

}  // namespace

void draw_partition_figure(const std::string& image, const Json& result) {
  BarChart chart;
  chart.title = "bench partition: predicted against measured, best single device and best two-device split";
  chart.series = {"single device, predicted", "single device, measured", "split, predicted", "split, measured"};
  BarPanel panel{"Throughput per model", "inferences/s", {}, {}};
  for (const auto& row : result["models"]) {
    if (!row.contains("single_ips")) continue;
    panel.groups.push_back(row.value("label", row["model"].get<std::string>()));
    const bool split = row["split"].is_object();
    panel.values.push_back({row["single_predicted_ips"].get<double>(), row["single_ips"].get<double>(),
                            split ? row["split_predicted_ips"].get<double>() : NAN,
                            split ? row["split_measured_ips"].get<double>() : NAN});
  }
  chart.panels = {panel};
  chart.missing_label = "no split on the front";
  chart.height_per_panel = 420;
  draw_bars(image, chart);
}

std::vector<Section> partition_sections(const Json& result, const std::filesystem::path& dir,
                                        const std::string& command, const std::string& id) {
  std::vector<Section> sections;
  bool deployed = false;
  for (const auto& row : result["models"]) deployed = deployed || row.contains("single_ips");
  if (deployed) {
    Section summary;
    summary.id = id;
    summary.title = "Automated partitioning: predicted against measured";
    summary.command = command;
    const std::string figure = id + "-predicted-measured.png";
    draw_partition_figure((dir / figure).string(), result);
    summary.blocks.push_back(
        Image{figure,
              "Throughput of the best single device and of the best two-device split per model, as "
              "the partitioner predicted it and as the deployed nodes served it"});
    bool all_within = true;
    std::string figures;
    for (const auto& row : result["models"]) {
      if (!row.contains("single_ips")) continue;
      double worst = 0;
      for (std::string dev : {"dev1", "dev2"}) {
        const Json& a = row[dev + "_alone"];
        worst = std::max(worst, std::abs(a["measured_ips"].get<double>() / a["predicted_ips"].get<double>() - 1));
      }
      if (row["split"].is_object())
        worst = std::max(
            worst, std::abs(row["split_measured_ips"].get<double>() / row["split_predicted_ips"].get<double>() - 1));
      all_within = all_within && worst <= 0.15;
      figures += fmt::format("{}{}: at most {:.1f} % off", figures.empty() ? "" : "; ",
                             row.value("label", row["model"].get<std::string>()), 100 * worst);
    }
    summary.blocks.push_back(
        Check{"every model's every deployment within 15 % of its prediction", all_within, figures});
    sections.push_back(summary);
  }
  for (const auto& row : result["models"]) sections.push_back(model_section(result, row, dir, command));
  return sections;
}

}  // namespace fluidedge::cli::report
