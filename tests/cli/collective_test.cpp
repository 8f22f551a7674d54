// `herd collective` end to end, in-process: nccl-tests columns, concurrent groups, JSON, errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "run_herd.hpp"


TEST_CASE("herd collective: one DP group of the 16K plan, nccl-tests columns", "[cli][collective]") {
  const HerdRun r = run_herd({"collective", "--op", "all_gather", "--group", "dp", "--bytes", "1GiB"});
  REQUIRE(r.code == 0);
  for (const char* column : {"size", "count", "type", "time(us)", "algbw(GB/s)", "busbw(GB/s)", "bottleneck"})
    CHECK(r.out.find(column) != std::string::npos);
  CHECK(r.out.find("1 of 128 groups of 128 ranks") != std::string::npos);
  CHECK(r.out.find("1073741824") != std::string::npos);
  CHECK(r.out.find("268435456") != std::string::npos);  // floats
  CHECK(r.out.find("NIC") != std::string::npos);
}

TEST_CASE("herd collective --concurrent --json runs all 128 DP groups", "[cli][collective]") {
  const HerdRun r = run_herd({"collective", "--op", "all_gather", "--group", "dp", "--bytes", "1GiB", "--concurrent", "--json"});
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["groups_concurrent"] == 128);
  CHECK(j["ranks_per_group"] == 128);
  REQUIRE(j["results"].size() == 1);
  const auto& row = j["results"][0];
  CHECK(row["algorithm"] == "ring");
  CHECK(row["busbw_gbs"].get<double>() > 35);
  CHECK(row["busbw_gbs"].get<double>() < 47);
  CHECK(row["bottleneck"].get<std::string>().find("NIC") == 0);
}

TEST_CASE("herd collective --sweep doubles sizes, --set forces the algorithm", "[cli][collective]") {
  const HerdRun r = run_herd({"collective", "--op", "all_reduce", "--group", "tp", "--sweep", "1MiB:8MiB", "--json", "--set",
                             "cluster.collectives.algorithm=ring"});
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["results"].size() == 4);
  CHECK(j["results"][3]["bytes"].get<double>() == 8.0 * 1024 * 1024);
  for (const auto& row : j["results"]) CHECK(row["algorithm"] == "ring");
}

TEST_CASE("herd collective: explicit ranks and bad options", "[cli][collective][errors]") {
  CHECK(run_herd({"collective", "--group", "0-7", "--bytes", "64MiB"}).code == 0);
  const HerdRun op = run_herd({"collective", "--op", "allsum"});
  CHECK(op.code == 2);
  CHECK(op.out.empty());
  CHECK(op.err.find("herd: --op: unknown collective \"allsum\"") == 0);
  CHECK(run_herd({"collective", "--group", "0-99999"}).code == 2);
  CHECK(run_herd({"collective", "--bytes", "lots"}).code == 2);
  CHECK(run_herd({"collective", "--sweep", "8B"}).code == 2);
}

TEST_CASE("herd collective --calibration: the measured curve beside the simulated one", "[cli][collective][calibration]") {
  const std::string profile = std::string(HERD_SOURCE_DIR) + "/tests/data/calibration/dgx-h100-nvls-all-reduce.profile.json";
  const HerdRun r = run_herd({"collective", "llama3-8b", "--op", "all_reduce", "--group", "0-7", "--sweep", "16MiB:64MiB",
                             "--calibration", profile});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("profile(us)") != std::string::npos);
  // 16 MiB and 64 MiB are measured points (123.9 and 324.4 us): simulated and measured agree.
  CHECK(r.out.find("123.9       123.9") != std::string::npos);
  CHECK(r.out.find("324.4       324.4") != std::string::npos);
  const HerdRun j = run_herd({"collective", "llama3-8b", "--op", "all_reduce", "--group", "0-7", "--bytes", "16MiB",
                             "--calibration", profile, "--json"});
  REQUIRE(j.code == 0);
  const auto row = nlohmann::json::parse(j.out)["results"][0];
  CHECK(row["measured_us"].get<double>() == Approx(123.9));
  CHECK(row["time_us"].get<double>() == Approx(123.9).margin(0.002));  // whole nanoseconds
  // No curve for the collective asked about: no profile column, the model's time.
  const HerdRun ag = run_herd({"collective", "llama3-8b", "--op", "all_gather", "--group", "0-7", "--bytes", "16MiB",
                              "--calibration", profile});
  REQUIRE(ag.code == 0);
  CHECK(ag.out.find("profile(us)") == std::string::npos);
  CHECK(ag.out.find("no measured curve") != std::string::npos);
  const HerdRun missing = run_herd({"collective", "--calibration", "/nonexistent/profile.json"});
  CHECK(missing.code == 2);
  CHECK(missing.err.find("/nonexistent/profile.json") != std::string::npos);
}

TEST_CASE("herd collective takes nccl-tests' sizes and flags -b -e -f -i", "[cli][collective]") {
  const HerdRun r =
      run_herd({"collective", "llama3-8b", "--group", "tp", "-b", "8K", "-e", "128K", "-f", "4", "--json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["results"].size() == 3);
  CHECK(j["results"][0]["bytes"].get<double>() == 8192);
  CHECK(j["results"][2]["bytes"].get<double>() == 131072);
  const HerdRun longs = run_herd({"collective", "llama3-8b", "--group", "tp", "--minbytes", "1M", "--maxbytes", "3M",
                                  "--stepbytes", "1M", "--json"});
  REQUIRE(longs.code == 0);
  CHECK(nlohmann::json::parse(longs.out)["results"].size() == 3);
  CHECK(run_herd({"collective", "llama3-8b", "--group", "tp", "--bytes", "1G", "--json"}).code == 0);
  // One way to give the sizes: the flags against --bytes or --sweep, -f against -i.
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--bytes", "1M", "-b", "8"},
        std::vector<std::string>{"--sweep", "8B:1MiB", "-e", "1M"},
        std::vector<std::string>{"-b", "8", "-e", "1M", "-f", "2", "-i", "8"}, std::vector<std::string>{"-f", "2"}}) {
    std::vector<std::string> args = {"collective", "llama3-8b", "--group", "tp"};
    args.insert(args.end(), extra.begin(), extra.end());
    const HerdRun bad = run_herd(args);
    INFO(extra[0] << " " << extra[1]);
    CHECK(bad.code == 2);
    CHECK(bad.out.empty());
    CHECK(bad.err.find('\n') == bad.err.size() - 1);
  }
}

TEST_CASE("herd collective --csv: one row per size in nccl-tests' columns", "[cli][collective][csv]") {
  const HerdRun r = run_herd({"collective", "llama3-8b", "--group", "tp", "--sweep", "1MiB:4MiB", "--csv", "-"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] ==
        "size_bytes,count,type,time_us,profile_us,algbw_gbs,busbw_gbs,algorithm,protocol,channels,groups,bottleneck");
  CHECK(lines[1].rfind("1048576,262144,float,", 0) == 0);
  CHECK(lines[3].rfind("4194304,1048576,float,", 0) == 0);
  const auto missing = std::filesystem::temp_directory_path() / "herd_no_such_dir" / "sweep.csv";
  const HerdRun bad = run_herd({"collective", "llama3-8b", "--group", "tp", "--csv", missing.string()});
  CHECK(bad.code == 2);
  CHECK(bad.out.empty());
  CHECK_THAT(bad.err, Catch::StartsWith("herd: --csv: cannot write"));
}

TEST_CASE("herd collective --help names what each option takes (SIZE, FILE, ...), not CLI11's TEXT", "[cli][collective]") {
  const HerdRun r = run_herd({"collective", "--help"});
  REQUIRE(r.code == 0);
  for (const char* option : {"--minbytes SIZE", "--maxbytes SIZE", "--stepfactor F", "--stepbytes SIZE", "--csv FILE",
                             "--calibration FILE", "--set KEY=VALUE", "--op OP", "--group GROUP", "--sweep MIN:MAX"})
    CHECK_THAT(r.out, Catch::Contains(option));
  CHECK_THAT(r.out, !Catch::Contains("TEXT"));
}
