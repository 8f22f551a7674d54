// `herd model` and `herd scenario` end to end, in-process: exit codes, JSON keys, errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "run_herd.hpp"


TEST_CASE("herd model --json on the default scenario", "[cli]") {
  const HerdRun r = run_herd({"model", "--json"});
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["parameters"].get<long long>() == 405'853'388'800LL);
  CHECK(j["model_flops_per_token"].get<double>() == Approx(2.524e12).epsilon(1e-3));
  CHECK(j["memory"]["stages"].size() == 16);
  CHECK(j["memory"]["capacity_bytes"].get<double>() == Approx(80.0 * (1ULL << 30)));
  CHECK(j["fits"].get<bool>());
  for (const char* key : {"weights", "gradients", "optimizer", "activations", "communication", "transient", "runtime", "total"})
    CHECK(j["memory"]["stages"][0].contains(key));
}

TEST_CASE("herd model prints a table naming the largest stage", "[cli]") {
  const HerdRun r = run_herd({"model", "llama3-405b-8k"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("405,853,388,800") != std::string::npos);
  CHECK(r.out.find("Fits: largest stage") != std::string::npos);
}

TEST_CASE("bad input exits 2 with one line on stderr and nothing on stdout", "[cli][errors]") {
  const HerdRun r = run_herd({"model", "--set", "plan.tp=6", "--set", "plan.dp=170", "--set", "cluster.num_gpus=16320"});
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  CHECK(r.err == "herd: --set plan.tp=6: /plan/tp: 6 does not divide 128 attention heads\n");
  CHECK(run_herd({"model", "missing.json"}).code == 2);
  CHECK(run_herd({"frobnicate"}).code == 2);
  CHECK(run_herd({"model", "--set", "plan.tp"}).code == 2);
}

TEST_CASE("docs/scenarios.md is generated from the key table and up to date", "[cli][docs]") {
  const HerdRun r = run_herd({"scenario", "--describe", "--markdown"});
  REQUIRE(r.code == 0);
  std::ifstream in(std::string(HERD_SOURCE_DIR) + "/docs/scenarios.md");
  std::stringstream file;
  file << in.rdbuf();
  INFO("regenerate with: build/bin/herd scenario --describe --markdown > docs/scenarios.md");
  CHECK(file.str() == r.out);
}

TEST_CASE("herd scenario --list names the presets", "[cli]") {
  const HerdRun r = run_herd({"scenario", "--list"});
  REQUIRE(r.code == 0);
  for (const char* name : {"llama3-405b-16k", "gpt3-175b", "h100-sxm-80gb", "llama3-roce", "dgx-a100-superpod"})
    CHECK(r.out.find(name) != std::string::npos);
}

TEST_CASE("herd model --csv writes the memory table, one row per stage in bytes", "[cli][csv]") {
  const auto path = std::filesystem::temp_directory_path() / "herd_cli_model.csv";
  std::filesystem::remove(path);
  const HerdRun r = run_herd({"model", "--json", "--csv", path.string()});
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const auto lines = lines_of(text.str());
  REQUIRE(lines.size() == 17);  // header and 16 stages
  CHECK(lines[0] ==
        "stage,layers,embedding,output,parameters,weights_bytes,gradients_bytes,optimizer_bytes,activations_bytes,"
        "inflight_microbatches,communication_bytes,transient_bytes,runtime_bytes,total_bytes,capacity_bytes");
  CHECK(lines[1].rfind("0,", 0) == 0);
  const std::string total = lines[1].substr(0, lines[1].rfind(','));
  CHECK(std::stod(total.substr(total.rfind(',') + 1)) ==
        Approx(j["memory"]["stages"][0]["total"].get<double>()).epsilon(1e-9));
  const HerdRun out = run_herd({"model", "--csv", "-"});
  REQUIRE(out.code == 0);
  CHECK(lines_of(out.out) == lines);
  CHECK(run_herd({"model", "--csv", ""}).code == 2);
}
