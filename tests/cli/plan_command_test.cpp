// `herd plan` on the command line: the ranked table, JSON and CSV, exit code 3 when nothing
// fits, bad input (exit 2, nothing written), and shards joined by --merge.
#include <catch2/catch.hpp>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "run_herd.hpp"

namespace fs = std::filesystem;

namespace {
std::vector<std::string> small(std::vector<std::string> extra) {
  std::vector<std::string> args = {"plan",  "llama3-8b", "--set", "cluster.num_gpus=64", "--set", "plan.dp=64",
                                   "--set", "plan.global_batch=128", "--tp", "2,4,8", "--cp", "1", "--pp", "1:4",
                                   "--mb", "1", "--recompute", "none", "--overlap", "0", "--top", "3",
                                   "--no-robustness"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}
}  // namespace

TEST_CASE("herd plan prints the ranked table and the counts", "[cli][plan]") {
  const HerdRun r = run_herd(small({}));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("layouts ranked by throughput"));
  CHECK_THAT(r.out, Catch::Contains("simulated"));
  CHECK_THAT(r.out, Catch::Contains("   1  TP"));
  CHECK_THAT(r.out, Catch::Contains("Invalid combinations by reason"));
}

TEST_CASE("herd plan --json and --csv", "[cli][plan]") {
  const auto csv = fs::temp_directory_path() / "herd_plan_test.csv";
  fs::remove(csv);
  const HerdRun r = run_herd(small({"--json", "--csv", csv.string()}));
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"counts", "ranked", "space", "closest_out_of_memory", "runs"}) CHECK(j.contains(key));
  CHECK(j["ranked"][0]["rank"] == 1);
  CHECK(fs::exists(csv));
  // --csv -: the ranking as CSV on stdout instead of the text; the layout id quoted (it holds commas).
  const HerdRun out = run_herd(small({"--csv", "-"}));
  REQUIRE(out.code == 0);
  const auto lines = lines_of(out.out);
  REQUIRE(lines.size() == j["ranked"].size() + 1);
  CHECK(lines[0].rfind("rank,index,layout,tp,", 0) == 0);
  CHECK(lines[1].rfind("1," + std::to_string(j["ranked"][0]["index"].get<long long>()) + ",\"" +
                           j["ranked"][0]["layout"].get<std::string>() + "\",",
                       0) == 0);
  CHECK(out.out.find("Invalid combinations") == std::string::npos);
}

TEST_CASE("herd plan exits 3 when nothing fits, 2 on bad input", "[cli][plan]") {
  const HerdRun none = run_herd({"plan", "llama3-405b-16k", "--set", "cluster.num_gpus=8", "--set", "plan.tp=8", "--set",
                                 "plan.pp=1", "--set", "plan.dp=1", "--set", "plan.virtual_stages=1", "--set",
                                 "plan.schedule=1f1b", "--set", "plan.layer_layout=uniform", "--set",
                                 "plan.global_batch=8", "--mb", "1", "--top", "2"});
  CHECK(none.code == 3);
  CHECK_THAT(none.out, Catch::Contains("No layout fits"));
  const auto out = fs::temp_directory_path() / "herd_plan_bad.json";
  fs::remove(out);
  CHECK(run_herd(small({"--tp", "two"})).code == 2);
  CHECK(run_herd(small({"--shard", "3/2", "-o", out.string()})).code == 2);
  CHECK(run_herd(small({"--explain", "tp=8,zz=1"})).code == 2);
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("herd plan --shard and --merge give the one-machine ranking", "[cli][plan]") {
  const HerdRun whole = run_herd(small({"--json"}));
  REQUIRE(whole.code == 0);
  std::vector<std::string> files;
  for (int i = 0; i < 2; ++i) {
    const auto f = fs::temp_directory_path() / ("herd_plan_shard" + std::to_string(i) + ".json");
    fs::remove(f);
    REQUIRE(run_herd(small({"--shard", std::to_string(i) + "/2", "-o", f.string()})).code == 0);
    files.push_back(f.string());
  }
  std::vector<std::string> merge = small({"--json", "--merge"});
  merge.insert(merge.end(), files.begin(), files.end());
  const HerdRun merged = run_herd(merge);
  INFO(merged.err);
  REQUIRE(merged.code == 0);
  const auto a = nlohmann::json::parse(whole.out)["ranked"], b = nlohmann::json::parse(merged.out)["ranked"];
  for (int i = 0; i < 3; ++i) CHECK(a[i]["layout"] == b[i]["layout"]);
}

TEST_CASE("herd plan --objective energy and --power-budget", "[cli][plan][power]") {
  const HerdRun r = run_herd(small({"--objective", "energy"}));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("layouts ranked by energy per token"));
  CHECK_THAT(r.out, Catch::Contains("J/token"));
  const HerdRun j = run_herd(small({"--objective", "energy", "--power-budget", "500 MW", "--json"}));
  REQUIRE(j.code == 0);
  const auto out = nlohmann::json::parse(j.out);
  CHECK(out["space"]["power_budget_w"] == 5e8);
  CHECK(out["ranked"][0].contains("energy_per_token_j"));
  const HerdRun none = run_herd(small({"--power-budget", "1 kW"}));
  CHECK(none.code == 3);
  CHECK_THAT(none.out, Catch::Contains("over the power budget (1.00 kW)"));
  CHECK_THAT(none.out, Catch::Contains("stays within the power budget"));
  for (const char* bad : {"lots", "0 W", "-25 MW", "25 MB"}) {
    const HerdRun b = run_herd(small({"--power-budget", bad}));
    CHECK(b.code == 2);
    CHECK_THAT(b.err, Catch::Contains("--power-budget"));
    CHECK(std::count(b.err.begin(), b.err.end(), '\n') == 1);
  }
  CHECK(run_herd(small({"--objective", "watts"})).code == 2);
}
