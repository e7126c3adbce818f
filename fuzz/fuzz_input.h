// What every fuzz target shares: the rule that bad input ends in fluidedge::Error, and a file
// for the readers that take a path.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <string_view>

#include "common/error.h"

namespace fluidedge::fuzz {

// Runs `f`; a fluidedge::Error is the expected end of bad input, anything else thrown is a finding.
template <typename F>
void expect_only_errors(F&& f) {
  try {
    f();
  } catch (const Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "finding: %s escaped instead of fluidedge::Error\n", e.what());
    std::abort();
  }
}

// The input written to a per-process file, for readers that take a path.
inline std::string as_file(const uint8_t* data, size_t size, const char* suffix) {
  static const std::string path = "/tmp/fluidedge-fuzz-" + std::to_string(::getpid()) + suffix;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace fluidedge::fuzz
