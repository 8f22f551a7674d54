// `herd simulate` end to end: the JSON report's keys, the trace file and its filters, and bad input.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
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

TEST_CASE("herd simulate --trace-ranks and --trace-streams keep those ranks' spans on those streams", "[cli][simulate][trace]") {
  const auto path = std::filesystem::temp_directory_path() / "herd_cli_filtered_trace.json";
  std::filesystem::remove(path);
  const std::vector<std::string> small = {"simulate", "llama3-8b", "--set", "cluster.num_gpus=16", "--set", "plan.dp=16",
                                          "--set", "plan.global_batch=16", "--per-rank", "--json"};
  auto args = small;
  args.insert(args.end(), {"--trace", path.string(), "--trace-ranks", "2,4-5", "--trace-streams", "dp_comm"});
  const HerdRun filtered = run_herd(args);
  REQUIRE(filtered.code == 0);
  std::ifstream in(path);
  const auto doc = nlohmann::json::parse(in);
  int spans = 0;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] != "X") continue;
    ++spans;
    CHECK((e["pid"] == 2 || e["pid"] == 4 || e["pid"] == 5));
    CHECK(e["tid"] == 4);  // dp_comm
  }
  CHECK(spans > 0);
  // The report is the traced step's, whatever the filter (the untraced step may differ by ~0.1 %).
  auto traced = args;
  traced.resize(traced.size() - 4);
  const HerdRun unfiltered = run_herd(traced);
  REQUIRE(unfiltered.code == 0);
  CHECK(nlohmann::json::parse(filtered.out) == nlohmann::json::parse(unfiltered.out));
  std::filesystem::remove(path);
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

TEST_CASE("herd simulate reports the cluster's power, in text, JSON and the trace's counter tracks", "[cli][simulate][power]") {
  const std::vector<std::string> small = {"simulate", "llama3-8b", "--set", "cluster.num_gpus=16", "--set", "plan.dp=16",
                                          "--set", "plan.global_batch=16"};
  const HerdRun text = run_herd(small);
  REQUIRE(text.code == 0);
  CHECK_THAT(text.out, Catch::Contains("largest swing") && Catch::Contains("J per token"));
  auto json_args = small;
  json_args.push_back("--json");
  const HerdRun r = run_herd(json_args);
  REQUIRE(r.code == 0);
  const auto p = nlohmann::json::parse(r.out)["power"];
  // Energy per step = mean IT power x step time; facility = PUE x IT; per token = facility / tokens.
  const auto j = nlohmann::json::parse(r.out);
  CHECK(p["it_energy_j"].get<double>() == Approx(p["mean_w"].get<double>() * p["step_time_s"].get<double>()));
  CHECK(p["step_time_s"].get<double>() == Approx(j["step_time_s"].get<double>()).epsilon(2e-3));  // traced vs untraced (models/power.md)
  CHECK(p["facility_energy_j"].get<double>() == Approx(1.1 * p["it_energy_j"].get<double>()));
  CHECK(p["energy_per_token_j"].get<double>() == Approx(p["facility_energy_j"].get<double>() / j["tokens_per_step"].get<double>()));
  CHECK(p["swing_w"].get<double>() == Approx(p["peak_w"].get<double>() - p["min_w"].get<double>()));
  // Two servers of 8 GPUs: 16 x at most 700 W + 2 x 4.6 kW besides them + the switches.
  CHECK(p["peak_w"].get<double>() <= 16 * 700.0 + p["static_w"].get<double>() + 1e-6);
  CHECK(p["min_w"].get<double>() >= 16 * 140.0 + p["static_w"].get<double>() - 1e-6);

  const auto path = std::filesystem::temp_directory_path() / "herd_cli_power_trace.json";
  auto trace_args = small;
  trace_args.insert(trace_args.end(), {"--trace", path.string()});
  REQUIRE(run_herd(trace_args).code == 0);
  std::ifstream in(path);
  const auto doc = nlohmann::json::parse(in);
  int counters = 0;
  for (const auto& e : doc["traceEvents"])
    if (e["ph"] == "C" && e["name"] == "cluster power (IT)") ++counters;
  CHECK(counters == static_cast<int>(p["series"]["cluster_w"].size()) + 1);
}

TEST_CASE("a power cap slows the step, a power floor keeps it and costs energy", "[cli][simulate][power]") {
  auto power_of = [](const std::string& set) {
    std::vector<std::string> args = {"simulate", "llama3-8b", "--set", "cluster.num_gpus=16", "--set", "plan.dp=16",
                                     "--set", "plan.global_batch=16", "--json"};
    if (!set.empty()) args.insert(args.end(), {"--set", set});
    const HerdRun r = run_herd(args);
    REQUIRE(r.code == 0);
    return nlohmann::json::parse(r.out);
  };
  const auto base = power_of(""), cap = power_of("whatif.power_cap=450 W"), floor = power_of("whatif.power_floor=400 W");
  CHECK(cap["step_time_s"].get<double>() > base["step_time_s"].get<double>());
  CHECK(cap["power"]["peak_w"].get<double>() < base["power"]["peak_w"].get<double>());
  CHECK(floor["step_time_s"].get<double>() == base["step_time_s"].get<double>());
  CHECK(floor["power"]["it_energy_j"].get<double>() > base["power"]["it_energy_j"].get<double>());
  CHECK(floor["power"]["swing_w"].get<double>() < base["power"]["swing_w"].get<double>());
  CHECK(run_herd({"simulate", "--set", "whatif.power_cap=10 W"}).code == 2);
}

TEST_CASE("herd simulate --csv writes every figure, and --csv - prints it instead of the text", "[cli][simulate][csv]") {
  const std::vector<std::string> small = {"simulate", "llama3-8b",  "--set", "cluster.num_gpus=16",
                                          "--set",    "plan.dp=16", "--set", "plan.global_batch=16"};
  const auto path = std::filesystem::temp_directory_path() / "herd_cli_simulate.csv";
  std::filesystem::remove(path);
  auto args = small;
  for (const char* a : {"--json", "--csv"}) args.push_back(a);
  args.push_back(path.string());
  const HerdRun file = run_herd(args);
  REQUIRE(file.code == 0);
  const auto j = nlohmann::json::parse(file.out);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const auto lines = lines_of(text.str());
  REQUIRE(lines.size() > 20);
  CHECK(lines[0] == "figure,value");
  std::map<std::string, std::string> figures;
  for (std::size_t i = 1; i < lines.size(); ++i)
    figures[lines[i].substr(0, lines[i].find(','))] = lines[i].substr(lines[i].find(',') + 1);
  CHECK(std::stod(figures.at("step_time_s")) == Approx(j["step_time_s"].get<double>()).epsilon(1e-9));
  CHECK(std::stod(figures.at("breakdown.compute_s")) ==
        Approx(j["breakdown"]["compute_s"].get<double>()).epsilon(1e-9));
  CHECK(figures.count("stage_finish_s.0") == 1);
  CHECK(figures.count("power.peak_w") == 1);
  CHECK(figures.count("power.series.bin_s") == 0);  // the series stay in --json and the trace

  args = small;
  for (const char* a : {"--csv", "-"}) args.push_back(a);
  const HerdRun out = run_herd(args);
  REQUIRE(out.code == 0);
  CHECK_THAT(out.out, Catch::StartsWith("figure,value\n"));
  CHECK(out.out.find("Where the time goes") == std::string::npos);
}

TEST_CASE("herd simulate - reads the scenario from standard input, named <stdin>", "[cli][simulate][stdin]") {
  const HerdRun piped = run_herd_with_stdin({"simulate", "-", "--set", "cluster.num_gpus=16", "--set", "plan.dp=16",
                                             "--set", "plan.global_batch=16", "--json"},
                                            R"({"preset": "llama3-8b", "name": "piped"})");
  INFO(piped.err);
  REQUIRE(piped.code == 0);
  CHECK(nlohmann::json::parse(piped.out)["scenario"] == "piped");
  const HerdRun bad = run_herd_with_stdin({"simulate", "-"}, "{\"plan\": [}");
  CHECK(bad.code == 2);
  CHECK(bad.out.empty());
  CHECK_THAT(bad.err, Catch::StartsWith("herd: <stdin>: malformed JSON at line 1"));
}
