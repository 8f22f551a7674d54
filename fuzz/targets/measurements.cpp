// Raw measurement files (herd-calibrate measure and import-* output), through `herd-calibrate fit`:
// the reader and the least-squares fit of the cost model.
#include "common.hpp"

namespace herd::fuzz {

Target make_target() {
  Target t;
  t.name = "measurements";
  t.kind = InputKind::json;
  t.dictionary = {"herd-measurements", "gemm", "attention", "elementwise", "copy", "collective", "layer", "bf16", "fp32",
                  "cpu", "cuda", "device", "m", "n", "k", "seconds", "flops", "bytes", "ranks", "op", "name", "shape"};
  t.run = [](std::string_view input, const std::string& dir) {
    const std::string file = dir + "/raw.json";
    write_input(file, input);
    return run_herd_calibrate({"fit", file, "-o", dir + "/profile.json", "--report", dir + "/report.json"});
  };
  t.sources = [](const std::string& dir) { return std::vector<std::string>{dir + "/raw.json"}; };
  return t;
}

}  // namespace herd::fuzz
