// Plots drawn by gnuplot (Debian's gnuplot-nox, installed by scripts/setup.sh): a bench writes
// its data and a gnuplot script beside the image, so the plot can be redrawn or restyled by hand.
#pragma once

#include <string>

namespace fluidedge::cli {

// Writes `script` to IMAGE.gp and runs gnuplot on it; the script writes IMAGE itself (a PNG,
// set by the caller's `set output`). Throws Error naming the image when gnuplot is missing or
// fails.
void draw_with_gnuplot(const std::string& image, const std::string& script);

// `text` quoted for a gnuplot string literal.
std::string gnuplot_quoted(const std::string& text);

}  // namespace fluidedge::cli
