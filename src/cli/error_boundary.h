// Where every fluidedge::Error and every command-line mistake of a binary ends: one line on
// stderr ("PROGRAM: error: ...") and a non-zero exit code.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace fluidedge::cli {

// Parses and runs `app`; returns the process exit code.
int run_app(CLI::App& app, int argc, char** argv, const char* program);

// The command line being run, as a shell would take it back ("fluidedge bench fluid --json"):
// what a report says reruns it. Set by run_app.
const std::string& invoked_command();

}  // namespace fluidedge::cli
