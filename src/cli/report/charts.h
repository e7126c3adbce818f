// The charts of the reports, drawn by gnuplot (cli/gnuplot.h) as PNG: grouped bars (the Fluid
// paper's Figure 2, predicted against measured), a timeline with marked events (a failure and
// the rejoin) and a scatter plot with marked points (a Pareto front and the chosen plan). Each
// writes IMAGE, its data as IMAGE.dat and its script as IMAGE.gp, so a plot can be redrawn or
// restyled by hand.
#pragma once

#include <string>
#include <vector>

namespace fluidedge::cli::report {

// Bars per group, one per series, with the value written above each bar. A NaN value is no
// bar; `missing_label` is written in its place (e.g. "cannot run").
struct BarPanel {
  std::string title, y_label;
  std::vector<std::string> groups;          // x axis
  std::vector<std::vector<double>> values;  // [group][series]
  double y_max = 0;                         // the axis' top (0: from the data)
};

struct BarChart {
  std::string title;
  std::vector<std::string> series;  // legend
  std::vector<BarPanel> panels;     // stacked top to bottom, sharing the legend
  std::string missing_label = "cannot run";
  int width = 1000, height_per_panel = 340;
};

void draw_bars(const std::string& image, const BarChart& chart);

struct Line {
  std::string title;
  std::vector<double> x, y;
};

struct Marker {
  double x = 0;
  std::string label;
};

struct Timeline {
  std::string title, x_label, y_label;
  std::vector<Line> lines;
  std::vector<Marker> markers;  // vertical lines, labelled at the top
  int width = 1000, height = 420;
};

void draw_timeline(const std::string& image, const Timeline& chart);

struct ScatterSeries {
  std::string title;
  std::vector<double> x, y;
  std::vector<std::string> labels;  // per point, written beside it (empty: none)
};

struct Scatter {
  std::string title, x_label, y_label;
  std::vector<ScatterSeries> series;
  // Points drawn large and labelled on top of the series (e.g. the chosen plan).
  ScatterSeries highlighted;
  bool log_x = false;
  int width = 1000, height = 520;
};

void draw_scatter(const std::string& image, const Scatter& chart);

}  // namespace fluidedge::cli::report
