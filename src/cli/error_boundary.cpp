#include "cli/error_boundary.h"

#include <cctype>
#include <iostream>
#include <string_view>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/error.h"

namespace fluidedge::cli {

namespace {
std::string command_line;

// `arg` as one shell word: bare when it is made of safe characters, else in single quotes.
std::string shell_word(const std::string& arg) {
  bool safe = !arg.empty();
  for (char c : arg)
    safe = safe && (std::isalnum(static_cast<unsigned char>(c)) ||
                    std::string_view("-_./=:,+@%").find(c) != std::string_view::npos);
  if (safe) return arg;
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
}  // namespace

const std::string& invoked_command() { return command_line; }

int run_app(CLI::App& app, int argc, char** argv, const char* program) {
  command_line = program;
  for (int i = 1; i < argc; ++i) command_line += " " + shell_word(argv[i]);
  // Logs go to stderr: stdout belongs to results (--json must stay parseable).
  spdlog::set_default_logger(spdlog::stderr_color_mt(program));
  spdlog::set_pattern("%^%l%$: %v");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    for (auto& c : what)
      if (c == '\n') c = ' ';
    // Point at the help of the (sub)command being parsed: "see fluidedge zoo export --help".
    std::string command = program;
    for (CLI::App* sub = &app; !sub->get_subcommands().empty();) {
      sub = sub->get_subcommands().front();
      command += " " + sub->get_name();
    }
    std::cerr << program << ": error: " << what << " (see " << command << " --help)" << std::endl;
    return e.get_exit_code() == 0 ? 2 : e.get_exit_code();
  } catch (const Error& e) {
    std::cerr << program << ": error: " << e.what() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << program << ": internal error: " << e.what() << std::endl;
    return 3;
  }
  return 0;
}

}  // namespace fluidedge::cli
