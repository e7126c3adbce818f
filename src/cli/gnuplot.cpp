#include "cli/gnuplot.h"

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/subprocess.h"

namespace fluidedge::cli {

std::string gnuplot_quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void draw_with_gnuplot(const std::string& image, const std::string& script) {
  const std::string script_path = image + ".gp";
  write_file_atomically(script_path, "", script);
  int code = run_command({"sh", "-c", "command -v gnuplot >/dev/null"});
  if (code != 0)
    fail("cannot draw {}: gnuplot is not installed (apt-get install gnuplot-nox; scripts/setup.sh does)", image);
  code = run_command({"gnuplot", script_path}, /*stdout_to_stderr=*/true);
  if (code != 0) fail("cannot draw {}: gnuplot failed on {} (exit {})", image, script_path, code);
}

}  // namespace fluidedge::cli
