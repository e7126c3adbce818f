// The report sections of `bench fluid` (see sections.h).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "cli/report/charts.h"
#include "cli/report/sections.h"

namespace fluidedge::cli::report {
namespace {

const std::vector<std::string> kOnline = {"1", "2", "both"};

std::string variant_name(const std::string& v) {
  return v == "static" ? "Static" : v == "dynamic" ? "Dynamic" : v == "fluid" ? "Fluid" : v;
}
std::string mode_name(const std::string& m) { return m == "ha" ? "HA" : m == "ht" ? "HT" : m; }
std::string online_name(const std::string& o) { return o == "both" ? "both devices" : "device " + o + " only"; }

const Json* find_cell(const Json& result, const std::string& variant, const std::string& mode,
                      const std::string& online) {
  for (const auto& c : result["cells"])
    if (c["variant"] == variant && c["mode"] == mode && c["online"] == online) return &c;
  return nullptr;
}

// Images/s of a cell that ran; 0 when it did not (or is not in the result).
double ips(const Json& result, const std::string& variant, const std::string& mode, const std::string& online) {
  const Json* c = find_cell(result, variant, mode, online);
  return c && c->contains("throughput_ips") ? (*c)["throughput_ips"].get<double>() : 0.0;
}

bool ran(const Json& result, const std::string& variant, const std::string& mode, const std::string& online) {
  const Json* c = find_cell(result, variant, mode, online);
  return c && c->contains("throughput_ips") && !c->contains("error");
}

std::vector<std::string> variants_in(const Json& result) {
  std::vector<std::string> out;
  for (const auto& c : result["cells"]) {
    std::string v = c["variant"];
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  return out;
}

std::string pct(double fraction) { return fmt::format("{:.1f} %", 100 * fraction); }

Section figure_section(const Json& result, const std::filesystem::path& dir, const std::string& command) {
  const Json& s = result["settings"];
  Section section;
  section.id = "fluid";
  section.title = "Fluid DyDNN: Static, Dynamic and Fluid, HA and HT, each device down";
  section.command = command;
  section.blocks.push_back(Paragraph{fmt::format(
      "{} device nodes, one core each, each emulating a declared device of {:g} GFLOP/s and {:g} GB/s ({}; this host's "
      "core runs the Static model at {:.1f} GFLOP/s), each behind an emulated link of {:g} Mbit/s and {:g} ms each "
      "way; "
      "{} backend; {}; requests of one image, micro-batches up to {}, {} in flight, {} requests per cell (the {} test "
      "split). The Static model is cut in two stages by the partitioner ({}).",
      s.value("devices", 2), s.value("device_gflops", 0.0), s.value("device_bandwidth_gbps", 0.0),
      s.value("emulated_devices", std::string("?")), s.value("host_gflops", 0.0), s.value("link_rate_mbps", 0.0),
      s.value("link_latency_ms", 0.0), s.value("backend", std::string("?")), s.value("tls", std::string("?")),
      s.value("max_batch", 0), s.value("concurrency", 0), s.value("requests_per_cell", 0),
      s.value("data", std::string("?")), s.value("static_split", std::string("?")))});
  draw_fluid_figure((dir / "fluid-figure2.png").string(), result);
  section.blocks.push_back(Image{"fluid-figure2.png",
                                 "Throughput and accuracy per variant and mode, one bar per set of devices online "
                                 "(as the paper's Figure 2); no bar: that variant cannot run on those devices"});

  Table cells{"Every cell", {"variant", "mode", "online", "images/s", "p50 ms", "p99 ms", "accuracy", "why not"}, {}};
  for (const auto& c : result["cells"]) {
    std::vector<std::string> row = {variant_name(c["variant"]), mode_name(c["mode"]), online_name(c["online"])};
    if (c.contains("throughput_ips"))
      row.insert(row.end(),
                 {fmt::format("{:.1f}", c["throughput_ips"].get<double>()),
                  fmt::format("{:.2f}", c["p50_ms"].get<double>()), fmt::format("{:.2f}", c["p99_ms"].get<double>()),
                  pct(c["accuracy"].get<double>()), c.value("error", std::string())});
    else
      row.insert(row.end(), {"cannot run", "", "", "", c.value("error", std::string())});
    cells.rows.push_back(row);
  }
  section.blocks.push_back(cells);

  // HT against HA, both devices up: the trade the modes make.
  Table modes{"HA against HT with both devices up",
              {"variant", "HA images/s", "HA accuracy", "HT images/s", "HT accuracy", "HT / HA throughput"},
              {}};
  for (const auto& v : variants_in(result)) {
    const Json* ha = find_cell(result, v, "ha", "both");
    const Json* ht = find_cell(result, v, "ht", "both");
    auto cell = [&](const Json* c, bool accuracy) {
      if (!c || !c->contains("throughput_ips")) return std::string("cannot run");
      return accuracy ? pct((*c)["accuracy"].get<double>())
                      : fmt::format("{:.1f}", (*c)["throughput_ips"].get<double>());
    };
    const double a = ips(result, v, "ha", "both"), t = ips(result, v, "ht", "both");
    modes.rows.push_back({variant_name(v), cell(ha, false), cell(ha, true), cell(ht, false), cell(ht, true),
                          a > 0 && t > 0 ? fmt::format("{:.2f}x", t / a) : "-"});
  }
  section.blocks.push_back(modes);

  const Json& r = result["ratios"];
  const double fluid_ht = ips(result, "fluid", "ht", "both");
  auto known = [&](const char* key) { return r.contains(key) && r[key].is_number(); };
  if (fluid_ht > 0 && known("fluid_ht_over_static") && known("fluid_ht_over_dynamic") &&
      known("fluid_ht_over_standalone_sum"))
    section.blocks.push_back(Paragraph{fmt::format(
        "Fluid HT with both devices up serves {:.0f} images/s: {:.2f}x Static and {:.2f}x Dynamic (each in its faster "
        "mode, both devices up), {:.0f} % of the sum of its two sub-networks served alone.",
        fluid_ht, r["fluid_ht_over_static"].get<double>(), r["fluid_ht_over_dynamic"].get<double>(),
        100 * r["fluid_ht_over_standalone_sum"].get<double>())});

  // The emulation's own checks: identical devices serve alike, and the Static pipeline runs at
  // what the partitioner predicted for those devices.
  std::string pairs;
  bool pairs_ok = true;
  int pair_count = 0;
  for (const auto& v : variants_in(result))
    for (std::string mode : {"ha", "ht"}) {
      const double a = ips(result, v, mode, "1"), b = ips(result, v, mode, "2");
      if (a <= 0 || b <= 0) continue;
      const double apart = (std::max(a, b) - std::min(a, b)) / std::max(a, b);
      pairs_ok = pairs_ok && apart <= 0.05;
      ++pair_count;
      pairs += fmt::format("{}{} {}: {:.1f} and {:.1f}/s, {:.1f} % apart", pairs.empty() ? "" : "; ", variant_name(v),
                           mode_name(mode), a, b, 100 * apart);
    }
  if (pair_count > 0)
    section.blocks.push_back(
        Check{"the two devices, declared identical, serve alike alone (every pair within 5 %)", pairs_ok, pairs});
  const double predicted = s.value("static_predicted_ips", 0.0);
  for (std::string mode : {"ht", "ha"}) {
    const double measured = ips(result, "static", mode, "both");
    if (predicted <= 0 || measured <= 0) continue;
    section.blocks.push_back(
        Check{fmt::format("the Static split (both devices, {}) runs within 15 % of the partitioner's "
                          "prediction",
                          mode_name(mode)),
              std::abs(measured / predicted - 1) <= 0.15,
              fmt::format("predicted {:.1f}/s, measured {:.1f}/s ({:+.1f} %)", predicted, measured,
                          100 * (measured / predicted - 1))});
    break;
  }

  // Where each variant runs, as the paper says: Fluid with either device, Static with both only,
  // Dynamic without device 2 (its later groups) but not without device 1 (its first group).
  auto expect = [&](const std::string& v, const std::string& claim, bool on1, bool on2) {
    if (!find_cell(result, v, "ht", "1")) return;
    bool ok = true;
    std::string figures;
    for (std::string mode : {"ha", "ht"})
      for (const auto& [online, want] : {std::pair<std::string, bool>{"1", on1}, {"2", on2}}) {
        const bool got = ran(result, v, mode, online);
        ok = ok && got == want;
        figures += fmt::format("{}{} {}: {}", figures.empty() ? "" : "; ", mode_name(mode), online_name(online),
                               got ? fmt::format("{:.1f}/s", ips(result, v, mode, online)) : "cannot run");
      }
    section.blocks.push_back(Check{claim, ok, figures});
  };
  expect("fluid", "Fluid answers with either device down", true, true);
  expect("static", "Static cannot run with either device down", false, false);
  expect("dynamic", "Dynamic runs on device 1 alone (its first group) and cannot without it", true, false);
  return section;
}

Section failure_section(const Json& result, const std::filesystem::path& dir, const std::string& command) {
  Section section;
  section.id = "failures";
  section.title = "A device dies mid-stream and comes back";
  section.command = command;
  const Json& failures = result["failures"];
  if (!failures.is_array() || failures.empty()) {
    section.unavailable = "the failure runs were skipped (--skip-failures)";
    return section;
  }
  section.blocks.push_back(Paragraph{
      "Each run streams requests on both devices; 1 s in, one device's node is killed (kill -9); it is restarted on "
      "its "
      "address some seconds later and the stream goes on. Lost: sent and never answered nor failed; failed: answered "
      "with an error; detect: kill to the coordinator marking the node down; recover: kill to the first answer of a "
      "request sent after detection; rejoin: restart to the node serving again."});
  int plotted = 0;
  for (const auto& f : failures) {
    const bool wanted = (f["variant"] == "fluid" && f["mode"] == "ht") ||
                        (f["variant"] == "static" && f["mode"] == "ht" && f["killed"] == "dev2");
    if (!wanted || !f.contains("timeline")) continue;
    const Json& t = f["timeline"];
    const double bin_s = t["bin_ms"].get<double>() / 1000;
    Line all{"all answers", {}, {}},
        with{fmt::format("answers {} took part in", f["killed"].get<std::string>()), {}, {}};
    for (size_t i = 0; i < t["answered"].size(); ++i) {
      all.x.push_back(static_cast<double>(i) * bin_s);
      all.y.push_back(t["answered"][i].get<double>() / bin_s);
      with.x.push_back(static_cast<double>(i) * bin_s);
      with.y.push_back(t["with_killed_device"][i].get<double>() / bin_s);
    }
    Timeline chart;
    chart.title = fmt::format("{} {}: {} killed and restarted (answers per second in 100 ms bins)",
                              variant_name(f["variant"]), mode_name(f["mode"]), f["killed"].get<std::string>());
    chart.x_label = "time into the stream (s)";
    chart.y_label = "answers per second";
    chart.lines = {all, with};
    for (const auto& [key, label] : {std::pair<const char*, const char*>{"killed_s", "killed"},
                                     {"detected_s", "detected"},
                                     {"restarted_s", "restarted"},
                                     {"rejoined_s", "rejoined"}})
      if (!t[key].is_null()) chart.markers.push_back({t[key].get<double>(), label});
    const std::string file = fmt::format("failure-{}-{}-{}.png", f["variant"].get<std::string>(),
                                         f["mode"].get<std::string>(), f["killed"].get<std::string>());
    draw_timeline((dir / file).string(), chart);
    section.blocks.push_back(Image{file, chart.title});
    ++plotted;
  }
  Table table{"Every failure run",
              {"variant", "mode", "killed", "sent", "answered", "failed", "lost", "twice", "detect ms", "recover ms",
               "rejoin ms", "served by it after rejoin"},
              {}};
  auto ms = [](const Json& v) { return v.is_null() ? std::string("-") : fmt::format("{:.0f}", v.get<double>()); };
  bool fluid_kept_all = true, fluid_rejoined = true, none_twice = true;
  std::string fluid_figures, rejoin_figures;
  for (const auto& f : failures) {
    table.rows.push_back({variant_name(f["variant"]), mode_name(f["mode"]), f["killed"],
                          std::to_string(f["sent"].get<int64_t>()), std::to_string(f["answered"].get<int64_t>()),
                          std::to_string(f["failed"].get<int64_t>()), std::to_string(f["lost"].get<int64_t>()),
                          std::to_string(f["duplicated"].get<int64_t>()), ms(f["detect_ms"]), ms(f["recover_ms"]),
                          ms(f["rejoin_ms"]), std::to_string(f.value("served_by_it_after_rejoin", int64_t{0}))});
    none_twice = none_twice && f["duplicated"].get<int64_t>() == 0;
    if (f["variant"] != "fluid") continue;
    fluid_kept_all = fluid_kept_all && f["lost"].get<int64_t>() == 0 && f["failed"].get<int64_t>() == 0;
    fluid_figures +=
        fmt::format("{}{} kill {}: {} sent, {} answered, {} failed, {} lost", fluid_figures.empty() ? "" : "; ",
                    mode_name(f["mode"]), f["killed"].get<std::string>(), f["sent"].get<int64_t>(),
                    f["answered"].get<int64_t>(), f["failed"].get<int64_t>(), f["lost"].get<int64_t>());
    const bool back = !f["rejoin_ms"].is_null() && f.value("served_by_it_after_rejoin", int64_t{0}) > 0;
    fluid_rejoined = fluid_rejoined && back;
    rejoin_figures +=
        fmt::format("{}{} kill {}: rejoined {} ms after the restart, then took part in {} answers",
                    rejoin_figures.empty() ? "" : "; ", mode_name(f["mode"]), f["killed"].get<std::string>(),
                    ms(f["rejoin_ms"]), f.value("served_by_it_after_rejoin", int64_t{0}));
  }
  section.blocks.push_back(table);
  if (!fluid_figures.empty()) {
    section.blocks.push_back(
        Check{"Fluid loses no request and fails none when a device dies", fluid_kept_all, fluid_figures});
    section.blocks.push_back(Check{"the restarted device rejoins and serves again", fluid_rejoined, rejoin_figures});
  }
  section.blocks.push_back(Check{"no request is answered twice", none_twice, fmt::format("{} runs", failures.size())});
  if (plotted == 0) section.blocks.push_back(Paragraph{"(no Fluid HT run to plot a timeline of)"});
  return section;
}

}  // namespace

void draw_fluid_figure(const std::string& image, const Json& result) {
  BarChart chart;
  chart.title = "Fluid DyDNN experiment: throughput and accuracy per variant, mode and devices online";
  for (const auto& o : kOnline) chart.series.push_back(online_name(o));
  BarPanel throughput{"Throughput", "images/s", {}, {}}, accuracy{"Accuracy", "top-1 accuracy (%)", {}, {}, 108};
  for (const auto& v : variants_in(result))
    for (std::string mode : {"ha", "ht"}) {
      throughput.groups.push_back(variant_name(v) + " " + mode_name(mode));
      accuracy.groups.push_back(variant_name(v) + " " + mode_name(mode));
      std::vector<double> t, a;
      for (const auto& online : kOnline) {
        const Json* c = find_cell(result, v, mode, online);
        const bool ok = c && c->contains("throughput_ips");
        t.push_back(ok ? (*c)["throughput_ips"].get<double>() : NAN);
        a.push_back(ok ? 100 * (*c)["accuracy"].get<double>() : NAN);
      }
      throughput.values.push_back(t);
      accuracy.values.push_back(a);
    }
  chart.panels = {throughput, accuracy};
  draw_bars(image, chart);
}

std::vector<Section> fluid_sections(const Json& result, const std::filesystem::path& dir, const std::string& command) {
  return {figure_section(result, dir, command), failure_section(result, dir, command)};
}

}  // namespace fluidedge::cli::report
