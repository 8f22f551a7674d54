// herd-calibrate fit-runs end to end: a runs file in, a profile (and the fit as JSON) out, which
// herd simulate then uses; bad input exits 2 naming the file and pointer, and writes nothing.
// The fitted level's closed form (a planted level recovered, the least-squares minimum) is checked
// in tests/app/fit_runs_use_case_test.cpp; here the command's files and exit codes.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "herd/calibrate/cli.hpp"
#include "herd/cli/app.hpp"
#include "herd/model/calibration_profile.hpp"
#include "herd/model/io.hpp"

using namespace herd;

namespace {

struct Result {
  int code;
  std::string out, err;
};

Result calibrate_cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = calibrate::run_calibrate(args, out, err);
  return {code, out.str(), err.str()};
}

std::filesystem::path scratch() {
  const auto dir = std::filesystem::temp_directory_path() / ("herd-fit-runs-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

nlohmann::json run(int tp, double step) {
  return {{"name", "tp" + std::to_string(tp)},
          {"scenario", "llama3-8b"},
          {"set", {{"cluster.num_gpus", 8}, {"plan.tp", tp}, {"plan.dp", 8 / tp}, {"plan.global_batch", 8}, {"model.layers", 2}}},
          {"step_time_s", step}};
}

}  // namespace

TEST_CASE("fit-runs writes a profile herd simulate uses, and the fit as JSON", "[calibrate][fit-runs]") {
  const auto dir = scratch();
  const auto runs = dir / "runs.json";
  model::write_file_atomically(runs, nlohmann::json{{"format", "herd-runs"}, {"version", 1}, {"runs", {run(8, 0.5), run(4, 0.45), run(2, 0.4)}}}.dump());
  const auto profile = dir / "profile.json", report = dir / "fit.json";
  const Result r = calibrate_cli({"fit-runs", runs.string(), "-o", profile.string(), "--json", report.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("sustained (H100 SXM5 80GB)") != std::string::npos);
  CHECK(r.out.find("leave-one-out") != std::string::npos);
  const model::CalibrationProfile p = model::load_calibration_profile(profile);
  REQUIRE(p.sustained_fraction);
  const auto fit = nlohmann::json::parse(model::read_text_file(report, "fit"));
  CHECK(fit["parameters"][0]["value"].get<double>() == Approx(*p.sustained_fraction));
  CHECK(fit["runs"].size() == 3);
  // herd simulate with the profile names it as its compute level.
  std::ostringstream out, err;
  const int code = cli::run({"simulate", "llama3-8b", "--set", "cluster.num_gpus=8", "--set", "plan.tp=8", "--set", "plan.dp=1",
                                  "--set", "plan.global_batch=8", "--set", "model.layers=2", "--calibration", profile.string()},
                                 out, err);
  CHECK(code == 0);
  CHECK(out.str().find("compute level: sustained") != std::string::npos);
  CHECK(out.str().find("calibration profile " + profile.string()) != std::string::npos);
}

TEST_CASE("fit-runs refuses a bad runs file with exit code 2 and writes nothing", "[calibrate][fit-runs]") {
  const auto dir = scratch();
  const auto runs = dir / "bad.json";
  nlohmann::json doc{{"format", "herd-runs"}, {"version", 1}, {"runs", {run(8, 0.5)}}};
  doc["runs"][0]["step_tme_s"] = 1;
  model::write_file_atomically(runs, doc.dump());
  const auto profile = dir / "profile.json";
  const Result r = calibrate_cli({"fit-runs", runs.string(), "-o", profile.string()});
  CHECK(r.code == 2);
  CHECK(r.err.find(runs.string()) != std::string::npos);
  CHECK(r.err.find("/runs/0/step_tme_s") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(profile));
  CHECK(calibrate_cli({"fit-runs", runs.string(), "-o", profile.string(), "--parameters", "clocks"}).code == 2);
}

TEST_CASE("fit-runs checks -o and --json before the run, and reads the runs file from standard input",
          "[calibrate][fit-runs]") {
  const auto dir = scratch();
  const auto runs = dir / "runs.json";
  const nlohmann::json doc{{"format", "herd-runs"}, {"version", 1}, {"runs", {run(8, 0.5)}}};
  model::write_file_atomically(runs, doc.dump());
  const auto profile = dir / "profile.json";
  const auto missing = dir / "no-such-dir" / "fit.json";
  for (const auto& args :
       {std::vector<std::string>{"fit-runs", runs.string(), "-o", missing.string()},
        std::vector<std::string>{"fit-runs", runs.string(), "-o", profile.string(), "--json", missing.string()},
        std::vector<std::string>{"fit-runs", runs.string(), "-o", dir.string()}}) {
    const Result r = calibrate_cli(args);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("herd-calibrate: --", 0) == 0);
    CHECK(r.err.find("fit-runs:") == std::string::npos);  // no progress: nothing was simulated
    CHECK_FALSE(std::filesystem::exists(profile));
  }
  // "-": the runs file from standard input, named <stdin> in errors.
  nlohmann::json bad = doc;
  bad["runs"][0]["step_tme_s"] = 1;
  std::istringstream in(bad.dump());
  std::streambuf* saved = std::cin.rdbuf(in.rdbuf());
  const Result r = calibrate_cli({"fit-runs", "-", "-o", profile.string()});
  std::cin.rdbuf(saved);
  std::cin.clear();
  CHECK(r.code == 2);
  CHECK(r.err.rfind("herd-calibrate: <stdin>: /runs/0/step_tme_s", 0) == 0);
  CHECK_FALSE(std::filesystem::exists(profile));
}
