// Calibration profiles (herd-calibrate fit's output), through `herd simulate llama3-8b --calibration
// FILE`: the profile's reader, its efficiencies and measured collectives in a simulated step.
#include "common.hpp"

namespace herd::fuzz {

Target make_target() {
  Target t;
  t.name = "calibration_profile";
  t.kind = InputKind::json;
  t.dictionary = {"herd-calibration-profile", "gemm", "attention", "elementwise", "all_reduce", "all_gather",
                  "reduce_scatter", "send_recv", "intra_node", "inter_node", "nvls", "ring", "tree", "sustained_fraction",
                  "nic_efficiency", "bf16", "fp32", "fp8", "curve", "points", "bytes", "seconds", "busbw", "ranks"};
  t.run = [](std::string_view input, const std::string& dir) {
    const std::string file = dir + "/profile.json";
    write_input(file, input);
    return run_herd({"simulate", "llama3-8b", "--calibration", file});
  };
  t.sources = [](const std::string& dir) { return std::vector<std::string>{dir + "/profile.json"}; };
  return t;
}

}  // namespace herd::fuzz
