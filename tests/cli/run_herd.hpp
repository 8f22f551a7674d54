#pragma once
// Runs the `herd` command line in-process for CLI tests.
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "herd/cli/app.hpp"

struct HerdRun {
  int code = 0;
  std::string out, err;
};

inline HerdRun run_herd(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = herd::cli::run(args, out, err);
  return {code, out.str(), err.str()};
}

/// Runs `herd` with `input` as its standard input (for SCENARIO "-").
inline HerdRun run_herd_with_stdin(const std::vector<std::string>& args, const std::string& input) {
  std::istringstream in(input);
  std::streambuf* saved = std::cin.rdbuf(in.rdbuf());
  HerdRun r = run_herd(args);
  std::cin.rdbuf(saved);
  std::cin.clear();
  return r;
}

/// Lines of `text`, without their ends.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}
