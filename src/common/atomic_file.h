// Writing a file so that a crash or a full disk never leaves a half-written one behind: the data
// goes to PATH.tmp, which is renamed over PATH only once it is complete.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace fluidedge {

// Throws Error naming `path` if it cannot be written completely.
void write_file_atomically(const std::string& path, std::string_view header, std::string_view data);

// DIR exists (created if needed) and a file can be written in it; else an Error naming `what`
// (an option, "--out") and DIR. For a command to check where it will write before it works.
void check_writable_dir(const std::filesystem::path& dir, const std::string& what);

}  // namespace fluidedge
