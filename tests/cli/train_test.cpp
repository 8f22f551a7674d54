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
  CHECK(r.code == 3);  // no trial finished: no valid answer
  CHECK(nlohmann::json::parse(r.out)["unfinished_trials"] == 2);
  CHECK_THAT(r.err, Catch::Contains("no trial finished"));
}

TEST_CASE("a plan that does not fit is said first, on stderr too, with exit code 3", "[cli][train][simulate][errors]") {
  // Llama 3 405B on 16 GPUs (TP 8, PP 2, DP 1): its BF16 weights alone are 47 GiB per GPU, and
  // the gradients and Adam state unsharded several times that.
  const std::vector<std::string> sets = {"--set", "cluster.num_gpus=16", "--set", "plan.pp=2", "--set", "plan.dp=1",
                                         "--set", "plan.global_batch=8"};
  std::vector<std::string> sim = {"simulate", "llama3-405b-16k"};
  sim.insert(sim.end(), sets.begin(), sets.end());
  const HerdRun s = run_herd(sim);
  CHECK(s.code == 3);
  CHECK_THAT(s.out, Catch::StartsWith("DOES NOT FIT: the plan does not fit in memory: stage 0 needs"));
  CHECK_THAT(s.err, Catch::Contains("does not fit in memory"));
  std::vector<std::string> train = {"train", "llama3-405b-16k", "--trials", "2", "--set", "run.tokens=1T"};
  train.insert(train.end(), sets.begin(), sets.end());
  const HerdRun t = run_herd(train);
  CHECK(t.code == 3);
  CHECK_THAT(t.out, Catch::StartsWith("DOES NOT FIT:"));
}

TEST_CASE("herd simulate sets a what-if beside the same step without it, in the same mode", "[cli][simulate][whatif]") {
  const std::vector<std::string> base = {"simulate", "llama3-8b", "--set", "cluster.num_gpus=16", "--set", "plan.dp=16",
                                         "--set", "plan.global_batch=16", "--json"};
  auto with = [&](const std::string& set) {
    auto args = base;
    args.insert(args.end(), {"--set", set});
    const HerdRun r = run_herd(args);
    REQUIRE(r.code == 0);
    return nlohmann::json::parse(r.out);
  };
  const auto plain = nlohmann::json::parse(run_herd(base).out);
  CHECK_FALSE(plain.contains("baseline"));
  const auto straggler = with("whatif.stragglers=[{\"rank\": 3, \"slowdown\": 0.5}]");
  REQUIRE(straggler.contains("baseline"));
  CHECK(straggler["baseline"]["per_rank"] == true);
  CHECK(straggler["baseline"]["whatifs"] == "1 straggler");
  CHECK(straggler["step_time_s"].get<double>() > straggler["baseline"]["step_time_s"].get<double>());
  // Per rank and symmetric give the same step without what-ifs (docs/cli.md).
  CHECK(straggler["baseline"]["step_time_s"].get<double>() == Approx(plain["step_time_s"].get<double>()).epsilon(1e-6));
  const auto cap = with("whatif.power_cap=450 W");
  CHECK(cap["baseline"]["per_rank"] == false);
  CHECK(cap["baseline"]["step_time_s"].get<double>() == plain["step_time_s"].get<double>());
  CHECK(cap["baseline"]["power"]["energy_per_token_j"].get<double>() == plain["power"]["energy_per_token_j"].get<double>());
}

TEST_CASE("herd train --csv: one row per figure, both runs side by side with --compare", "[cli][train][csv]") {
  const HerdRun one = run_herd({"train", "--trials", "4", "--csv", "-"});
  INFO(one.err);
  REQUIRE(one.code == 0);
  const auto lines = lines_of(one.out);
  REQUIRE(lines.size() > 20);
  CHECK(lines[0] == "figure,value");
  CHECK(std::count(lines.begin(), lines.end(), "trials,4") == 1);
  for (const char* figure : {"time_to_train_days.p90,", "phases.0.step_time_s,", "energy.cost,", "gpu_hours,"})
    CHECK(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.rfind(figure, 0) == 0; }) ==
          1);
  CHECK(one.out.find("Time to train") == std::string::npos);  // the CSV instead of the text

  const auto path = std::filesystem::path(HERD_BINARY_DIR) / "train_test_compare.csv";
  std::filesystem::remove(path);
  const HerdRun both = run_herd({"train", "--trials", "4", "--compare", "llama3-405b-16k", "llama3-405b-8k", "--set",
                                 "run.tokens=15.6T", "--csv", path.string()});
  REQUIRE(both.code == 0);
  CHECK(both.out.find("time to train (mean)") != std::string::npos);  // the text as well
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const auto rows = lines_of(text.str());
  REQUIRE(rows.size() > 20);
  CHECK(rows[0] == "figure,a,b");
  CHECK(std::count(rows.begin(), rows.end(), "gpus,16384,8192") == 1);
}

TEST_CASE("herd train --csv: a bad path or - beside --json is bad input before the run", "[cli][train][csv][errors]") {
  const HerdRun dir = run_herd({"train", "--trials", "2", "--csv", std::filesystem::temp_directory_path().string()});
  CHECK(dir.code == 2);
  CHECK(dir.out.empty());
  CHECK_THAT(dir.err, Catch::StartsWith("herd: --csv: "));
  const HerdRun both = run_herd({"train", "--trials", "2", "--json", "--csv", "-"});
  CHECK(both.code == 2);
  CHECK(both.err == "herd: --csv: - (standard output) already carries --json\n");
  const HerdRun twice = run_herd({"train", "--trials", "2", "--compare", "-", "-"});
  CHECK(twice.code == 2);
  CHECK_THAT(twice.err, Catch::Contains("--compare: standard input (-) can be read once"));
  // The scenario and the calibration profile cannot both come from standard input, on any command.
  for (const char* command : {"model", "simulate", "train", "plan", "collective"}) {
    INFO(command);
    const HerdRun both_stdin = run_herd({command, "-", "--calibration", "-"});
    CHECK(both_stdin.code == 2);
    CHECK(both_stdin.err == "herd: --calibration: standard input (-) can be read once: give it for one of the inputs only\n");
  }
  const HerdRun compare_and_profile = run_herd({"train", "--trials", "2", "--compare", "-", "llama3-8b", "--calibration", "-"});
  CHECK(compare_and_profile.code == 2);
  CHECK_THAT(compare_and_profile.err, Catch::Contains("--calibration: standard input (-) can be read once"));
}
