#include "cli/svg_chart.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace fluidedge::cli {

namespace {

const char* const kColours[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1"};
const char* colour(int i) { return kColours[static_cast<size_t>(std::max(0, i)) % std::size(kColours)]; }

// Axis range [lo, hi] rounded out to a "nice" step (1, 2 or 5 times a power of ten).
struct Axis {
  double lo = 0, hi = 1, step = 0.2;
  double at(double v, double from, double to) const { return from + (v - lo) / (hi - lo) * (to - from); }
};

Axis nice_axis(double lo, double hi, bool from_zero) {
  if (from_zero) lo = std::min(0.0, lo);
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi <= lo) hi = lo + (lo == 0 ? 1 : std::abs(lo) * 0.1);
  double raw = (hi - lo) / 5;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) {
      step = m * mag;
      break;
    }
  Axis a;
  a.step = step;
  a.lo = std::floor(lo / step) * step;
  a.hi = std::ceil(hi / step) * step;
  if (a.hi <= a.lo) a.hi = a.lo + step;
  return a;
}

std::string tick_text(double v, double step) {
  int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step)));
  return fmt::format("{:.{}f}", v, std::min(decimals, 6));
}

std::string header(int w, int h, const std::string& title) {
  std::string s = fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' width='{0}' height='{1}' viewBox='0 0 {0} {1}' "
      "font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n",
      w, h);
  s += fmt::format("<text x='{}' y='20' font-size='14' font-weight='bold' text-anchor='middle'>{}</text>\n", w / 2,
                   svg_escape(title));
  return s;
}

}  // namespace

std::string svg_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\'': out += "&apos;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string svg_scatter(const ScatterChart& c) {
  const int W = 760, H = 520, left = 80, right = 200, top = 40, bottom = 60;
  const int x0 = left, x1 = W - right, y0 = H - bottom, y1 = top;
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (const auto& p : c.points) {
    xmin = std::min(xmin, p.x), xmax = std::max(xmax, p.x);
    ymin = std::min(ymin, p.y), ymax = std::max(ymax, p.y);
  }
  if (c.points.empty()) xmin = ymin = 0, xmax = ymax = 1;
  Axis ax = nice_axis(xmin, xmax, true), ay = nice_axis(ymin, ymax, true);
  std::string s = header(W, H, c.title);
  for (double v = ax.lo; v <= ax.hi + ax.step / 2; v += ax.step) {
    double x = ax.at(v, x0, x1);
    s += fmt::format("<line x1='{0:.1f}' y1='{1}' x2='{0:.1f}' y2='{2}' stroke='#e5e5e5'/>"
                     "<text x='{0:.1f}' y='{3}' text-anchor='middle'>{4}</text>\n",
                     x, y0, y1, y0 + 16, tick_text(v, ax.step));
  }
  for (double v = ay.lo; v <= ay.hi + ay.step / 2; v += ay.step) {
    double y = ay.at(v, y0, y1);
    s += fmt::format("<line x1='{1}' y1='{0:.1f}' x2='{2}' y2='{0:.1f}' stroke='#e5e5e5'/>"
                     "<text x='{3}' y='{4:.1f}' text-anchor='end'>{5}</text>\n",
                     y, x0, x1, x0 - 6, y + 4, tick_text(v, ay.step));
  }
  s += fmt::format("<rect x='{}' y='{}' width='{}' height='{}' fill='none' stroke='black'/>\n", x0, y1, x1 - x0, y0 - y1);
  s += fmt::format("<text x='{}' y='{}' text-anchor='middle'>{}</text>\n", (x0 + x1) / 2, H - 18, svg_escape(c.x_label));
  s += fmt::format("<text transform='translate(18 {}) rotate(-90)' text-anchor='middle'>{}</text>\n", (y0 + y1) / 2,
                   svg_escape(c.y_label));
  for (const auto& p : c.points) {
    double x = ax.at(p.x, x0, x1), y = ay.at(p.y, y0, y1);
    s += fmt::format("<circle cx='{:.1f}' cy='{:.1f}' r='4.5' fill='{}' fill-opacity='0.85'><title>{}</title></circle>\n",
                     x, y, colour(p.series), svg_escape(p.label));
    if (p.marked)
      s += fmt::format("<circle cx='{:.1f}' cy='{:.1f}' r='9' fill='none' stroke='#d62728' stroke-width='2'/>\n", x, y);
    if (p.marked || p.labelled)
      s += fmt::format("<text x='{:.1f}' y='{:.1f}' font-size='11'>{}</text>\n", x + 11, y - 8, svg_escape(p.label));
  }
  int ly = top + 10;
  for (size_t i = 0; i < c.series.size(); ++i, ly += 20)
    s += fmt::format("<circle cx='{}' cy='{}' r='5' fill='{}'/><text x='{}' y='{}'>{}</text>\n", x1 + 20, ly, colour(static_cast<int>(i)),
                     x1 + 32, ly + 4, svg_escape(c.series[i]));
  if (!c.marked_legend.empty())
    s += fmt::format("<circle cx='{}' cy='{}' r='8' fill='none' stroke='#d62728' stroke-width='2'/><text x='{}' y='{}'>{}</text>\n",
                     x1 + 20, ly, x1 + 32, ly + 4, svg_escape(c.marked_legend));
  return s + "</svg>\n";
}

std::string svg_bars(const BarChart& c) {
  const int left = 80, right = 20, top = 40, bottom = 90;
  const int group_w = std::max(60, static_cast<int>(40 + 22 * c.series.size()));
  const int W = std::max(480, left + right + group_w * static_cast<int>(c.groups.size())), H = 420;
  const int x0 = left, x1 = W - right, y0 = H - bottom, y1 = top;
  double ymax = 0;
  for (const auto& g : c.groups)
    for (double v : g.values)
      if (std::isfinite(v)) ymax = std::max(ymax, v);
  Axis ay = nice_axis(0, ymax, true);
  std::string s = header(W, H, c.title);
  for (double v = ay.lo; v <= ay.hi + ay.step / 2; v += ay.step) {
    double y = ay.at(v, y0, y1);
    s += fmt::format("<line x1='{1}' y1='{0:.1f}' x2='{2}' y2='{0:.1f}' stroke='#e5e5e5'/>"
                     "<text x='{3}' y='{4:.1f}' text-anchor='end'>{5}</text>\n",
                     y, x0, x1, x0 - 6, y + 4, tick_text(v, ay.step));
  }
  s += fmt::format("<line x1='{0}' y1='{1}' x2='{2}' y2='{1}' stroke='black'/>\n", x0, y0, x1);
  s += fmt::format("<text transform='translate(18 {}) rotate(-90)' text-anchor='middle'>{}</text>\n", (y0 + y1) / 2,
                   svg_escape(c.y_label));
  const int n = std::max<int>(1, static_cast<int>(c.series.size()));
  const double bar_w = (group_w - 20.0) / n;
  for (size_t g = 0; g < c.groups.size(); ++g) {
    int gx = x0 + static_cast<int>(g) * group_w;
    s += fmt::format("<text x='{}' y='{}' text-anchor='end' transform='rotate(-30 {} {})'>{}</text>\n", gx + group_w / 2,
                     y0 + 16, gx + group_w / 2, y0 + 16, svg_escape(c.groups[g].label));
    for (size_t k = 0; k < c.groups[g].values.size(); ++k) {
      double v = c.groups[g].values[k];
      if (!std::isfinite(v)) continue;
      double y = ay.at(v, y0, y1);
      s += fmt::format("<rect x='{:.1f}' y='{:.1f}' width='{:.1f}' height='{:.1f}' fill='{}'><title>{}: {:.4g}</title></rect>\n",
                       gx + 10 + k * bar_w, y, bar_w - 2, y0 - y, colour(static_cast<int>(k)),
                       svg_escape(k < c.series.size() ? c.series[k] : ""), v);
    }
  }
  for (size_t k = 0; k < c.series.size(); ++k)
    s += fmt::format("<rect x='{0}' y='{1}' width='12' height='12' fill='{2}'/><text x='{3}' y='{4}'>{5}</text>\n",
                     x0 + 170 * static_cast<int>(k), H - 22, colour(static_cast<int>(k)), x0 + 170 * static_cast<int>(k) + 16,
                     H - 12, svg_escape(c.series[k]));
  return s + "</svg>\n";
}

}  // namespace fluidedge::cli
