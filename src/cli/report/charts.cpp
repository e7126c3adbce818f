#include "cli/report/charts.h"

#include <cmath>

#include <fmt/format.h>

#include "cli/gnuplot.h"
#include "common/atomic_file.h"
#include "common/error.h"

namespace fluidedge::cli::report {
namespace {

// Tableau 10: distinct in print and for the common colour blindnesses.
const char* const kColours[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

std::string colour(size_t i) { return fmt::format("rgb \"{}\"", kColours[i % std::size(kColours)]); }

std::string header(const std::string& image, int width, int height) {
  return fmt::format("set terminal pngcairo size {},{} font 'sans,10' noenhanced\nset output {}\nset encoding utf8\n",
                     width, height, gnuplot_quoted(image));
}

// A number for a data file: gnuplot reads "NaN" as no value.
std::string number(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : "NaN"; }

std::string bar_label(double v) {
  if (std::fabs(v) >= 100) return fmt::format("{:.0f}", v);
  if (std::fabs(v) >= 10) return fmt::format("{:.1f}", v);
  return fmt::format("{:.2f}", v);
}

}  // namespace

void draw_bars(const std::string& image, const BarChart& chart) {
  const size_t n = chart.series.size();
  if (n == 0) fail("cannot draw {}: a bar chart needs at least one series", image);
  std::string data;
  for (size_t p = 0; p < chart.panels.size(); ++p) {
    const auto& panel = chart.panels[p];
    data += fmt::format("# panel {}: {}\n# group", p, panel.title);
    for (const auto& s : chart.series) data += " " + gnuplot_quoted(s);
    data += "\n";
    for (size_t g = 0; g < panel.groups.size(); ++g) {
      data += gnuplot_quoted(panel.groups[g]);
      for (size_t k = 0; k < n; ++k)
        data += " " + number(g < panel.values.size() && k < panel.values[g].size() ? panel.values[g][k] : NAN);
      data += "\n";
    }
    data += "\n\n";
  }
  const std::string dat = image + ".dat";
  write_file_atomically(dat, "", data);

  const int height = chart.height_per_panel * static_cast<int>(std::max<size_t>(1, chart.panels.size())) + 40;
  std::string script = header(image, chart.width, height);
  script += fmt::format("set multiplot layout {},1 title {} font ',12'\n", std::max<size_t>(1, chart.panels.size()),
                        gnuplot_quoted(chart.title));
  script +=
      "set style data histogram\nset style histogram clustered gap 1\nset style fill solid 0.85 border -1\n"
      "set boxwidth 0.9\nset grid ytics\nset xtics nomirror scale 0\nset key outside right top\nset lmargin 10\n"
      "set rmargin 22\nset offsets 0, 0, graph 0.12, 0\n";
  const double gap = 1, width = 1.0 / (static_cast<double>(n) + gap);
  for (size_t p = 0; p < chart.panels.size(); ++p) {
    const auto& panel = chart.panels[p];
    script += fmt::format("set title {}\nset ylabel {}\nset yrange [0:{}]\nunset label\n", gnuplot_quoted(panel.title),
                          gnuplot_quoted(panel.y_label), panel.y_max > 0 ? number(panel.y_max) : "*");
    for (size_t g = 0; g < panel.groups.size(); ++g)
      for (size_t k = 0; k < n; ++k) {
        const double v = g < panel.values.size() && k < panel.values[g].size() ? panel.values[g][k] : NAN;
        const double x = static_cast<double>(g) + (static_cast<double>(k) - static_cast<double>(n) / 2.0 + 0.5) * width;
        // Many narrow bars: the labels stand upright so that neighbours do not overlap.
        if (std::isfinite(v) && panel.groups.size() * n > 20)
          script += fmt::format("set label {} at {:.4f}, {} rotate by 90 left offset 0,0.4 font ',7' front\n",
                                gnuplot_quoted(bar_label(v)), x, number(v));
        else if (std::isfinite(v))
          script += fmt::format("set label {} at {:.4f}, {} center offset 0,0.6 font ',7' front\n",
                                gnuplot_quoted(bar_label(v)), x, number(v));
        else
          script +=
              fmt::format("set label {} at {:.4f}, graph 0.02 rotate by 90 left font ',8' tc rgb '#b00000' front\n",
                          gnuplot_quoted(chart.missing_label), x);
      }
    script += "plot ";
    for (size_t k = 0; k < n; ++k)
      script += fmt::format("{}{} index {} using {}{} title {} lc {}", k ? ", " : "", gnuplot_quoted(dat), p, k + 2,
                            k == 0 ? ":xtic(1)" : "", gnuplot_quoted(chart.series[k]), colour(k));
    script += "\n";
  }
  script += "unset multiplot\n";
  draw_with_gnuplot(image, script);
}

void draw_timeline(const std::string& image, const Timeline& chart) {
  std::string data;
  for (const auto& line : chart.lines) {
    data += "# " + line.title + "\n";
    for (size_t i = 0; i < line.x.size() && i < line.y.size(); ++i)
      data += number(line.x[i]) + " " + number(line.y[i]) + "\n";
    data += "\n\n";
  }
  const std::string dat = image + ".dat";
  write_file_atomically(dat, "", data);
  std::string script = header(image, chart.width, chart.height);
  script += fmt::format(
      "set title {} font ',12'\nset xlabel {}\nset ylabel {}\nset grid\nset yrange [0:*]\n"
      "set key outside right top\nset rmargin 24\nset offsets 0, 0, graph 0.15, 0\n",
      gnuplot_quoted(chart.title), gnuplot_quoted(chart.x_label), gnuplot_quoted(chart.y_label));
  for (size_t m = 0; m < chart.markers.size(); ++m) {
    const auto& marker = chart.markers[m];
    script += fmt::format(
        "set arrow from {0}, graph 0 to {0}, graph 1 nohead dt 2 lw 1.5 lc rgb '#b00000' front\n"
        "set label {1} at {0}, graph {2:.2f} left offset 0.5,0 font ',9' tc rgb '#b00000' front\n",
        number(marker.x), gnuplot_quoted(marker.label), 0.96 - 0.06 * static_cast<double>(m % 4));
  }
  script += "plot ";
  for (size_t l = 0; l < chart.lines.size(); ++l)
    script += fmt::format("{}{} index {} using 1:2 with steps lw 2 dt {} lc {} title {}", l ? ", " : "",
                          gnuplot_quoted(dat), l, l == 0 ? 1 : 2, colour(l), gnuplot_quoted(chart.lines[l].title));
  if (chart.lines.empty()) script += "NaN notitle";
  script += "\n";
  draw_with_gnuplot(image, script);
}

void draw_scatter(const std::string& image, const Scatter& chart) {
  std::string data;
  auto block = [&](const ScatterSeries& s) {
    data += "# " + s.title + "\n";
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      data +=
          number(s.x[i]) + " " + number(s.y[i]) + " " + gnuplot_quoted(i < s.labels.size() ? s.labels[i] : "") + "\n";
    data += "\n\n";
  };
  for (const auto& s : chart.series) block(s);
  block(chart.highlighted);
  const std::string dat = image + ".dat";
  write_file_atomically(dat, "", data);
  std::string script = header(image, chart.width, chart.height);
  script += fmt::format(
      "set title {} font ',12'\nset xlabel {}\nset ylabel {}\nset grid\nset key outside right top\n"
      "set rmargin 30\nset offsets graph 0.05, graph 0.05, graph 0.08, graph 0.08\n{}",
      gnuplot_quoted(chart.title), gnuplot_quoted(chart.x_label), gnuplot_quoted(chart.y_label),
      chart.log_x ? "set logscale x\n" : "");
  script += "plot ";
  size_t index = 0;
  for (; index < chart.series.size(); ++index) {
    const auto& s = chart.series[index];
    script += fmt::format("{}{} index {} using 1:2 with points pt 7 ps 1.1 lc {} title {}", index ? ", " : "",
                          gnuplot_quoted(dat), index, colour(index), gnuplot_quoted(s.title));
    if (!s.labels.empty())
      script += fmt::format(", {} index {} using 1:2:3 with labels left offset 0.8,0 font ',7' notitle",
                            gnuplot_quoted(dat), index);
  }
  if (!chart.highlighted.x.empty())
    script += fmt::format(
        "{0}{1} index {2} using 1:2 with points pt 6 ps 3 lw 2 lc rgb '#b00000' title {3}, "
        "{1} index {2} using 1:2:3 with labels left offset 1.5,0.8 font ',9' tc rgb '#b00000' notitle",
        index ? ", " : "", gnuplot_quoted(dat), index, gnuplot_quoted(chart.highlighted.title));
  if (index == 0 && chart.highlighted.x.empty()) script += "NaN notitle";
  script += "\n";
  draw_with_gnuplot(image, script);
}

}  // namespace fluidedge::cli::report
