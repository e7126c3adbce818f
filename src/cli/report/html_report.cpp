#include "cli/report/html_report.h"

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "common/error.h"

namespace fluidedge::cli::report {
namespace {

const char* const kStyle = R"(
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.7em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
caption { text-align: left; font-weight: bold; padding: .3em 0; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .9em; color: #555; }
.check { padding: .3em .6em; margin: .3em 0; border-left: 4px solid; }
.pass { border-color: #2a7; background: #effaf3; } .fail { border-color: #c33; background: #fdf0f0; }
.unavailable { border-left: 4px solid #c90; background: #fff8e6; padding: .5em .8em; }
pre { background: #f6f6f6; padding: .5em .8em; overflow-x: auto; }
.took { color: #777; font-size: .85em; }
)";

std::string render(const Block& block) {
  if (const auto* p = std::get_if<Paragraph>(&block)) return "<p>" + html_escaped(p->text) + "</p>\n";
  if (const auto* t = std::get_if<Table>(&block)) {
    std::string html = "<table>\n";
    if (!t->caption.empty()) html += "<caption>" + html_escaped(t->caption) + "</caption>\n";
    html += "<tr>";
    for (const auto& h : t->header) html += "<th>" + html_escaped(h) + "</th>";
    html += "</tr>\n";
    for (const auto& row : t->rows) {
      html += "<tr>";
      for (const auto& cell : row) html += "<td>" + html_escaped(cell) + "</td>";
      html += "</tr>\n";
    }
    return html + "</table>\n";
  }
  if (const auto* i = std::get_if<Image>(&block))
    return fmt::format("<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>\n",
                       html_escaped(i->file), html_escaped(i->caption), html_escaped(i->caption));
  const auto& c = std::get<Check>(block);
  return fmt::format("<div class=\"check {}\"><b>{}</b> {}: {}</div>\n", c.passed ? "pass" : "fail",
                     c.passed ? "PASS" : "FAIL", html_escaped(c.claim), html_escaped(c.figures));
}

}  // namespace

std::string html_escaped(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Section unavailable_section(std::string id, std::string title, std::string why, std::string command) {
  Section s;
  s.id = std::move(id);
  s.title = std::move(title);
  s.unavailable = std::move(why);
  s.command = std::move(command);
  return s;
}

void write_html_report(const std::filesystem::path& dir, const std::string& title,
                       const std::vector<std::string>& intro, const std::vector<Section>& sections) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail("cannot write the report to {}: {}", dir.string(), ec.message());
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n"
      "<style>{}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
      html_escaped(title), kStyle, html_escaped(title));
  for (const auto& p : intro) html += "<p>" + html_escaped(p) + "</p>\n";
  html += "<ul>\n";
  for (const auto& s : sections)
    html += fmt::format("<li><a href=\"#{}\">{}</a>{}</li>\n", html_escaped(s.id), html_escaped(s.title),
                        s.unavailable.empty() ? "" : " (did not run)");
  html += "</ul>\n";
  for (const auto& s : sections) {
    html += fmt::format("<section id=\"{}\">\n<h2>{}</h2>\n", html_escaped(s.id), html_escaped(s.title));
    if (!s.unavailable.empty())
      html += "<div class=\"unavailable\">This section did not run: " + html_escaped(s.unavailable) + "</div>\n";
    else
      for (const auto& b : s.blocks) html += render(b);
    if (s.seconds > 0) html += fmt::format("<p class=\"took\">took {:.0f} s</p>\n", s.seconds);
    if (!s.command.empty()) html += "<p>Rerun it alone:</p>\n<pre>" + html_escaped(s.command) + "</pre>\n";
    html += "</section>\n";
  }
  html += "</body>\n</html>\n";
  write_file_atomically((dir / "index.html").string(), "", html);
}

void write_bench_report(const std::filesystem::path& dir, const std::string& title,
                        const std::vector<Section>& sections) {
  write_html_report(dir, title, {"Every number on this page comes from the run that wrote it."}, sections);
}

}  // namespace fluidedge::cli::report
