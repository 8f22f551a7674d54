// nccl-tests logs (all_reduce_perf and friends, as printed), through `herd-calibrate import-nccl-tests`.
#include "common.hpp"

namespace herd::fuzz {

Target make_target() {
  Target t;
  t.name = "nccl_tests";
  t.kind = InputKind::text;
  t.dictionary = {"# nThread", "nGpus", "minBytes", "maxBytes", "step:", "#  Rank", "float", "bfloat16", "half", "sum",
                  "none", "-1", "N/A", "inf", "nan", "# Avg bus bandwidth", "all_reduce_perf", "all_gather_perf",
                  "reduce_scatter_perf", "sendrecv_perf", "alltoall_perf", "\n", "  ", "#"};
  t.run = [](std::string_view input, const std::string& dir) {
    const std::string file = dir + "/nccl.txt";
    write_input(file, input);
    return run_herd_calibrate({"import-nccl-tests", file, "-o", dir + "/raw.json"});
  };
  // The import names the log by its file name.
  t.sources = [](const std::string&) { return std::vector<std::string>{"nccl.txt"}; };
  return t;
}

}  // namespace herd::fuzz
