// `herd simulate` end to end: the JSON report's keys, the trace file, and bad input.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "run_herd.hpp"


TEST_CASE("herd simulate --json carries the documented keys", "[cli][simulate]") {
  const HerdRun r = run_herd({"simulate", "--json"});
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"step_time_s", "tokens_per_s", "tflops_per_gpu", "mfu", "hfu", "breakdown", "memory", "fits"})
    CHECK(j.contains(key));
  double parts = 0;
  for (const auto& [name, value] : j["breakdown"].items()) parts += value.get<double>();
  CHECK(parts == Approx(j["step_time_s"].get<double>()).epsilon(1e-9));
}

TEST_CASE("herd simulate --trace writes a Chrome trace atomically", "[cli][simulate][trace]") {
  const auto path = std::filesystem::temp_directory_path() / "herd_cli_trace.json";
  std::filesystem::remove(path);
  REQUIRE(run_herd({"simulate", "llama3-8b", "--set", "cluster.num_gpus=16", "--set", "plan.dp=16", "--set",
                    "plan.global_batch=16", "--trace", path.string()}).code == 0);
  std::ifstream in(path);
  const auto doc = nlohmann::json::parse(in);
  CHECK(doc["traceEvents"].size() > 100);
  CHECK_FALSE(std::filesystem::exists(path.string() + ".tmp"));
}

TEST_CASE("herd simulate rejects bad what-ifs and writes nothing", "[cli][simulate][errors]") {
  const auto path = std::filesystem::temp_directory_path() / "herd_cli_bad_trace.json";
  std::filesystem::remove(path);
  const HerdRun r =
      run_herd({"simulate", "--set", "whatif.stragglers=[{\"rank\": -1, \"slowdown\": 0.1}]", "--trace", path.string()});
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("/whatif/stragglers/0/rank: must not be negative") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("a cluster whose fabric cannot be built is bad input for simulate and train", "[cli][simulate][errors]") {
  for (const char* command : {"simulate", "train"}) {
    INFO(command);
    const HerdRun r = run_herd({command, "llama3-8b", "--set", "cluster.nic.per_node=3", "--set", "run.tokens=10B"});
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("/cluster/nic/per_node"));
    CHECK_THAT(r.err, Catch::Contains("--set cluster.nic.per_node=3"));
  }
}
