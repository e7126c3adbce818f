// The README's command reference and the commands' --help agree: every subcommand has its
// heading there, and the options the README lists under it are exactly those its --help shows
// (both ways: an option added to the code, or one removed, fails here until the README says so).
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "cli_runner.h"

namespace fluidedge {
namespace {

std::set<std::string> long_options(const std::string& text) {
  std::set<std::string> out;
  std::regex option("--[a-z][a-z0-9-]*");
  for (std::sregex_iterator it(text.begin(), text.end(), option), end; it != end; ++it) out.insert(it->str());
  return out;
}

// The options of `--help` (its "Options:" list), without --help itself.
std::set<std::string> help_options(const std::string& help) {
  std::set<std::string> out;
  std::istringstream in(help);
  bool in_options = false;
  std::regex line_option(R"(^\s+(?:-[a-zA-Z],)?(--[a-z][a-z0-9-]*))");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Options:", 0) == 0)
      in_options = true;
    else if (!line.empty() && line[0] != ' ')
      in_options = false;
    std::smatch m;
    if (in_options && std::regex_search(line, m, line_option) && m[1] != "--help") out.insert(m[1]);
  }
  return out;
}

// The names under "Subcommands:" of a --help.
std::vector<std::string> subcommands(const std::string& help) {
  std::vector<std::string> out;
  std::istringstream in(help);
  bool listing = false;
  std::regex entry(R"(^\s+([a-z][a-z-]*)\s)");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Subcommands:", 0) == 0) {
      listing = true;
      continue;
    }
    std::smatch m;
    if (listing && std::regex_search(line, m, entry)) out.push_back(m[1]);
  }
  return out;
}

// README's "## Command reference": heading command ("run", "bench fluid") -> the text under it.
std::map<std::string, std::string> reference_blocks() {
  const std::string readme = testing::slurp(std::string(FLUIDEDGE_SOURCE_DIR) + "/README.md");
  const auto start = readme.find("\n## Command reference");
  EXPECT_NE(start, std::string::npos) << "README.md has no '## Command reference'";
  const auto end = readme.find("\n## ", start + 1);
  std::istringstream in(readme.substr(start, end - start));
  std::map<std::string, std::string> blocks;
  std::string current;
  std::regex heading(R"(^### `fluidedge ([a-z ]+?)(?: [A-Z][A-Z.]*)?`)");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, heading)) {
      current = m[1];
      blocks[current];
    } else if (!current.empty()) {
      blocks[current] += line + "\n";
    }
  }
  return blocks;
}

TEST(Readme, EverySubcommandIsInTheReferenceWithExactlyTheOptionsOfItsHelp) {
  FLUIDEDGE_SKIP_WITHOUT_TORCH();  // the lean build has no train, demo, bench fluid
  const auto blocks = reference_blocks();
  std::set<std::string> leaves;
  // Depth-first over `fluidedge --help`: a command with subcommands is not a leaf.
  std::vector<std::string> todo = {""};
  while (!todo.empty()) {
    const std::string command = todo.back();
    todo.pop_back();
    auto help = testing::run_cli(command + (command.empty() ? "" : " ") + "--help");
    ASSERT_EQ(help.exit_code, 0) << command << ": " << help.err;
    auto subs = subcommands(help.out);
    if (!command.empty() && subs.empty()) {
      leaves.insert(command);
      ASSERT_TRUE(blocks.count(command)) << "README's command reference has no heading for `fluidedge " << command
                                         << "`";
      EXPECT_EQ(long_options(blocks.at(command)), help_options(help.out))
          << "`fluidedge " << command << "`: the README's options (left) differ from --help's (right)";
    }
    for (const auto& s : subs) todo.push_back(command.empty() ? s : command + " " + s);
  }
  for (const auto& [command, text] : blocks)
    EXPECT_TRUE(leaves.count(command)) << "README documents `fluidedge " << command << "`, which does not exist";
  EXPECT_GE(leaves.size(), 15u);
}

TEST(Readme, TheNodeBinarysSubcommandsAreTheOnesItSaysWithTheSameOptions) {
  FLUIDEDGE_SKIP_WITHOUT_TORCH();
  const auto blocks = reference_blocks();
  const std::string node = "'" + (std::filesystem::path(FLUIDEDGE_CLI).parent_path() / "fluidedge-node").string() + "'";
  auto help = testing::run_command(node + " --help");
  ASSERT_EQ(help.exit_code, 0) << help.err;
  auto subs = subcommands(help.out);
  EXPECT_EQ(std::set<std::string>(subs.begin(), subs.end()), (std::set<std::string>{"info", "run", "node", "profile"}));
  for (const auto& s : subs) {
    auto sub = testing::run_command(node + " " + s + " --help");
    ASSERT_EQ(sub.exit_code, 0) << s;
    ASSERT_TRUE(blocks.count(s)) << s;
    std::set<std::string> readme = long_options(blocks.at(s)), shown = help_options(sub.out);
    // The device binary has no reference backend, but the same options.
    EXPECT_EQ(readme, shown) << "fluidedge-node " << s;
  }
}

}  // namespace
}  // namespace fluidedge
