// `herd train` end to end, in-process: JSON schema, text, timeline file, compare, errors.
#include <catch2/catch.hpp>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "run_herd.hpp"


TEST_CASE("herd train --json has the documented keys", "[cli][train]") {
  const HerdRun r = run_herd({"train", "--trials", "16", "--json", "--set", "reliability.checkpoint.interval=5 min"});
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"mean", "p10", "p50", "p90"}) {
    CHECK(j["time_to_train_days"].contains(k));
    CHECK(j["effective_training_time"].contains(k));
  }
  CHECK(j["time_to_train_days"]["p10"].get<double>() <= j["time_to_train_days"]["p90"].get<double>());
  CHECK(j["time_to_train_days"]["mean"].get<double>() > j["ideal_days"].get<double>());
  for (const char* k : {"planned", "unexpected", "by_category"}) CHECK(j["interruptions"].contains(k));
  CHECK(j["interruptions"]["by_category"].contains("GPU"));
  CHECK(j["gpu_hours"].get<double>() == Approx(j["time_to_train_days"]["mean"].get<double>() * 24 * 16384));
  CHECK(j["checkpoint_interval_s"].get<double>() == Approx(300));
  CHECK(j["checkpoint_interval_given"].get<bool>());
  CHECK(j["optimal_checkpoint_interval_s"].get<double>() > 0);
  CHECK(j["young_interval_s"].get<double>() > 0);
  CHECK(j["phases"].size() == 3);
  CHECK_THAT(j["step_time_source"].get<std::string>(), Catch::StartsWith("herd simulate, sustained "));
  CHECK_THAT(j["compute_level"]["origin"].get<std::string>(), Catch::StartsWith("preset "));
  CHECK(j["trials"] == 16);
  // Energy: the parts add up; facility = PUE x IT; cost = facility MWh x price; the GPUs' mean
  // draw lies between the idle draw and the TDP.
  const auto& e = j["energy"];
  const auto& parts = e["by_part_j"];
  CHECK(e["it_energy_j"].get<double>() ==
        Approx(parts["train"].get<double>() + parts["stalled"].get<double>() + parts["down"].get<double>()));
  CHECK(e["facility_energy_j"].get<double>() == Approx(1.1 * e["it_energy_j"].get<double>()));
  CHECK(e["cost"].get<double>() == Approx(e["facility_energy_j"].get<double>() / 3.6e9 * 80));
  CHECK(e["mean_gpu_w"].get<double>() > 70);
  CHECK(e["mean_gpu_w"].get<double>() < 700);
  CHECK(e["levels_w"]["train_mean"].size() == 3);
  CHECK(e["checkpoint_drop_w"].get<double>() > 0);
}

TEST_CASE("herd train prints a table and says where step times come from", "[cli][train]") {
  const HerdRun r = run_herd({"train", "--trials", "8", "--set", "run.step_time=6.5 s"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("run.step_time (given") != std::string::npos);
  CHECK(r.out.find("Effective training time") != std::string::npos);
  CHECK(r.out.find("Young") != std::string::npos);
}

TEST_CASE("herd train: same seed, same answer, another seed, another", "[cli][train]") {
  const std::vector<std::string> args = {"train", "--trials", "8", "--json", "--seed", "5"};
  CHECK(run_herd(args).out == run_herd(args).out);
  CHECK(run_herd({"train", "--trials", "8", "--json", "--seed", "6"}).out != run_herd(args).out);
}

TEST_CASE("herd train --timeline writes Chrome trace JSON", "[cli][train]") {
  const auto path = std::filesystem::path(HERD_BINARY_DIR) / "train_test_timeline.json";
  std::filesystem::remove(path);
  const HerdRun r = run_herd({"train", "--trials", "4", "--timeline", path.string(), "--set", "run.window=3 d",
                             "--set", "run.tokens=null"});
  REQUIRE(r.code == 0);
  std::ifstream in(path);
  const auto doc = nlohmann::json::parse(in);
  CHECK(doc["traceEvents"].size() > 10);
  CHECK(doc["herd_run_timeline"]["spans"].size() > 10);
  // The cluster's power as a counter track: training, stalls and downtime at their levels.
  int counters = 0;
  double low = 1e30, high = 0;
  for (const auto& e : doc["traceEvents"])
    if (e["ph"] == "C") {
      ++counters;
      low = std::min(low, e["args"]["MW"].get<double>());
      high = std::max(high, e["args"]["MW"].get<double>());
    }
  CHECK(counters > 2);
  CHECK(high > low);
  std::filesystem::remove(path);
}

TEST_CASE("herd train --compare puts two runs side by side", "[cli][train]") {
  // The 8K-GPU scenario has no run section: --set gives both the same budget.
  const HerdRun r = run_herd({"train", "--trials", "4", "--compare", "llama3-405b-16k", "llama3-405b-8k", "--json",
                             "--set", "run.tokens=15.6T"});
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["a"]["gpus"] == 16384);
  CHECK(j["b"]["gpus"] == 8192);
  const HerdRun text = run_herd({"train", "--trials", "4", "--compare", "llama3-405b-16k", "llama3-405b-8k", "--set",
                                "run.tokens=15.6T"});
  REQUIRE(text.code == 0);
  CHECK(text.out.find("time to train (mean)") != std::string::npos);
}

TEST_CASE("herd train: bad input exits 2 naming the key, and writes nothing", "[cli][train]") {
  const auto path = std::filesystem::path(HERD_BINARY_DIR) / "train_test_bad.json";
  std::filesystem::remove(path);
  const HerdRun r = run_herd({"train", "--timeline", path.string(), "--set", "reliability.failures.cosmic.multiplier=2"});
  CHECK(r.code == 2);
  CHECK(r.err == "herd: built-in llama3-405b-16k: /reliability/failures/cosmic/rate: is required for a new failure class\n");
  CHECK_FALSE(std::filesystem::exists(path));
  const HerdRun unit = run_herd({"train", "--set", "reliability.restart_time=5 parsecs"});
  CHECK(unit.code == 2);
  CHECK(unit.err.find("/reliability/restart_time") != std::string::npos);
  const HerdRun neither = run_herd({"train", "--set", "run.tokens=null"});
  CHECK(neither.code == 2);
  CHECK(neither.err.find("give run.tokens") != std::string::npos);
}

TEST_CASE("herd train times its phases with the scenario's what-ifs, as herd simulate does", "[cli][train]") {
  // One phase: the phase's scenario is the simulated one, so the two step times are the same number.
  const HerdRun healthy = run_herd({"simulate", "llama3-8b", "--json"});
  REQUIRE(healthy.code == 0);
  for (const char* whatif : {R"(whatif.stragglers=[{"rank": 3, "slowdown": 0.5}])",
                             R"(whatif.degraded_nics=[{"nic": 3, "bandwidth": 0.25}])"}) {
    INFO(whatif);
    const HerdRun simulated = run_herd({"simulate", "llama3-8b", "--json", "--set", whatif});
    const HerdRun trained =
        run_herd({"train", "llama3-8b", "--json", "--trials", "8", "--set", "run.tokens=15T", "--set", whatif});
    REQUIRE(simulated.code == 0);
    REQUIRE(trained.code == 0);
    const double step_s = nlohmann::json::parse(simulated.out)["step_time_s"].get<double>();
    const auto phases = nlohmann::json::parse(trained.out)["phases"];
    REQUIRE(phases.size() == 1);
    CHECK(phases[0]["step_time_s"].get<double>() == Approx(step_s).epsilon(1e-9));
    CHECK(step_s > nlohmann::json::parse(healthy.out)["step_time_s"].get<double>());
  }
}

TEST_CASE("a run whose checkpoints end past 64-bit time reports unfinished trials instead of aborting", "[cli][train][errors]") {
  // Every 1 ns a checkpoint stalls for milliseconds: 1T tokens never finish.
  const HerdRun r = run_herd({"train", "llama3-8b", "--trials", "2", "--json", "--set", "run.tokens=1T", "--set",
                              "reliability.checkpoint.interval=1 ns"});
  REQUIRE(r.code == 0);
  CHECK(nlohmann::json::parse(r.out)["unfinished_trials"] == 2);
}
