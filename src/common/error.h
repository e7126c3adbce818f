// The one exception type fluidedge throws for anything a user can get wrong (bad file, bad
// flag, bad shape, dead peer). Its message is written for the user and printed as-is at the
// CLI boundary, so it names the thing at fault and, where possible, what to do about it.
#pragma once

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace fluidedge {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace fluidedge
