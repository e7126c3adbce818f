// The reports the benches and `fluidedge demo` write: one self-contained HTML page (no scripts,
// no network, the images beside it) made of sections, each with its text, tables, plots and
// checks, the command that reruns it, and, when it could not run, why instead of its content.
#pragma once

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

namespace fluidedge::cli::report {

struct Paragraph {
  std::string text;
};

struct Table {
  std::string caption;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

struct Image {
  std::string file;  // relative to the report's directory
  std::string caption;
};

// A claim the run checks about itself ("identical devices within 5 %"), with the figures.
struct Check {
  std::string claim;
  bool passed = false;
  std::string figures;
};

using Block = std::variant<Paragraph, Table, Image, Check>;

struct Section {
  std::string id;  // the HTML anchor
  std::string title;
  std::vector<Block> blocks;
  std::string command;      // the exact command that reruns this section alone
  std::string unavailable;  // non-empty: the section did not run, and this says why
  double seconds = 0;       // how long it took (0: not timed)
};

// A section that could not run: the reason instead of content, and the command to retry.
Section unavailable_section(std::string id, std::string title, std::string why, std::string command);

// Writes DIR/index.html: `title`, the `intro` paragraphs, a contents list and the sections.
// Throws Error naming DIR when it cannot be written.
void write_html_report(const std::filesystem::path& dir, const std::string& title,
                       const std::vector<std::string>& intro, const std::vector<Section>& sections);

// DIR/index.html of one bench's `sections` (what `bench ... --report DIR` writes).
void write_bench_report(const std::filesystem::path& dir, const std::string& title,
                        const std::vector<Section>& sections);

// `text` escaped for HTML text and attribute values.
std::string html_escaped(const std::string& text);

}  // namespace fluidedge::cli::report
