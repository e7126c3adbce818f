// Small SVG charts for the reports the commands write (Pareto fronts, benchmark results): a
// scatter plot with marked points and a grouped bar chart. Plain SVG 1.1, no scripts, readable
// in any browser; the numbers stay in the JSON/CSV beside the plot.
#pragma once

#include <string>
#include <vector>

namespace fluidedge::cli {

struct ScatterPoint {
  double x = 0, y = 0;
  std::string label;       // shown beside the point when `labelled`
  int series = 0;          // index into ScatterChart::series (colour and legend)
  bool marked = false;     // drawn with a ring and its label (e.g. the chosen plan)
  bool labelled = false;
};

struct ScatterChart {
  std::string title, x_label, y_label;
  std::vector<std::string> series;  // legend entries; empty: one unnamed series
  std::vector<ScatterPoint> points;
  std::string marked_legend;        // legend text for marked points (empty: none)
};

std::string svg_scatter(const ScatterChart& chart);

struct BarGroup {
  std::string label;
  std::vector<double> values;  // one per series; NaN: no bar
};

struct BarChart {
  std::string title, y_label;
  std::vector<std::string> series;
  std::vector<BarGroup> groups;
};

std::string svg_bars(const BarChart& chart);

// Escapes &, <, >, ' and " for SVG text and attributes.
std::string svg_escape(const std::string& text);

}  // namespace fluidedge::cli
