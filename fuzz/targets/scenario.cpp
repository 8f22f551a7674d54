// Scenario files, through `herd model FILE`: parsing, presets, the key table, units, the plan's checks
// and the memory and FLOP model.
#include "common.hpp"

namespace herd::fuzz {

Target make_target() {
  Target t;
  t.name = "scenario";
  t.kind = InputKind::json;
  t.paths = scenario_paths();
  t.dictionary = scenario_words();
  t.run = [](std::string_view input, const std::string& dir) {
    const std::string file = dir + "/scenario.json";
    write_input(file, input);
    return run_herd({"model", file});
  };
  t.sources = [](const std::string& dir) {
    return std::vector<std::string>{dir + "/", "preset ", "Hugging Face config "};
  };
  return t;
}

}  // namespace herd::fuzz
