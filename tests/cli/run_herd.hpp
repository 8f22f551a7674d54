#pragma once
// Runs the `herd` command line in-process for CLI tests.
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
