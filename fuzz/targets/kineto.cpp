// PyTorch profiler (Kineto) Chrome traces, through `herd-calibrate import-kineto`.
#include "common.hpp"

namespace herd::fuzz {

Target make_target() {
  Target t;
  t.name = "kineto";
  t.kind = InputKind::json;
  t.dictionary = {"traceEvents", "ph", "X", "cat", "kernel", "cpu_op", "name", "ts", "dur", "args", "Input Dims",
                  "Input type", "External id", "correlation", "aten::mm", "aten::addmm", "aten::bmm", "aten::matmul",
                  "aten::_scaled_dot_product_flash_attention", "c10::BFloat16", "float", "c10::Half", "deviceProperties"};
  t.run = [](std::string_view input, const std::string& dir) {
    const std::string file = dir + "/trace.json";
    write_input(file, input);
    return run_herd_calibrate({"import-kineto", file, "-o", dir + "/raw.json"});
  };
  t.sources = [](const std::string& dir) { return std::vector<std::string>{dir + "/trace.json"}; };
  return t;
}

}  // namespace herd::fuzz
