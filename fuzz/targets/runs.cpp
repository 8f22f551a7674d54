// Runs files (format herd-runs), through `herd-calibrate fit-runs`: the reader, each run's scenario and
// overrides, and the least-squares fit through the step simulator.
#include "common.hpp"

namespace herd::fuzz {

Target make_target() {
  Target t;
  t.name = "runs";
  t.kind = InputKind::json;
  t.paths = {"format", "version", "parameters", "runs[].name", "runs[].scenario", "runs[].step_time_s",
             "runs[].tokens_per_s", "runs[].tokens_per_s_per_gpu", "runs[].uncertainty", "runs[].source"};
  t.paths.insert(t.paths.end(), 4, "runs[].set.*");  // an override of a dotted key the dictionary names
  t.dictionary = scenario_words();
  for (const auto& p : scenario_paths()) t.dictionary.push_back(p);
  t.dictionary.insert(t.dictionary.end(), {"herd-runs", "sustained", "attention", "network"});
  t.run = [](std::string_view input, const std::string& dir) {
    const std::string file = dir + "/runs.json";
    write_input(file, input);
    return run_herd_calibrate({"fit-runs", file, "-o", dir + "/profile.json", "--no-leave-one-out"});
  };
  t.sources = [](const std::string& dir) { return std::vector<std::string>{dir + "/runs.json"}; };
  return t;
}

}  // namespace herd::fuzz
