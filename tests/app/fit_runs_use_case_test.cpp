// herd-calibrate fit-runs as a use case: the fit recovers a compute level planted in synthetic
// "measured" runs, stops at a least-squares minimum when the runs disagree, says what the runs
// cannot identify, writes a profile the simulator then uses, and reads runs files strictly.
//
// Closed forms checked:
//  - planted level: runs measured as the simulator's own step at sustained = 0.7 are fitted back
//    to 0.7 with zero residual and zero leave-one-out error;
//  - least squares: with the measurements scattered, the fitted level minimises
//    sum_i ln(t_i(theta) / m_i)^2, so moving it by +-0.5 % raises that sum (t_i simulated here
//    independently of the fit);
//  - identifiability: on one-GPU runs no step time depends on the NIC (elasticity 0), so the
//    network efficiency is reported unidentified and left out of the profile;
//  - a throughput converts to a step time as global_batch x seq_len / (tokens/s/GPU x GPUs).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "herd/app/fit_runs_use_case.hpp"
#include "herd/app/scenario_loading.hpp"
#include "herd/app/simulate_use_case.hpp"
#include "herd/model/error.hpp"
#include "herd/model/io.hpp"
#include "herd/sim/step/step_simulator.hpp"

using namespace herd;

namespace {

// Small runs on one 8-GPU node: different shapes, so their compute shares differ.
const std::vector<std::vector<std::string>> kLayouts = {
    {"cluster.num_gpus=8", "plan.tp=8", "plan.pp=1", "plan.dp=1", "plan.global_batch=4", "model.layers=4"},
    {"cluster.num_gpus=8", "plan.tp=4", "plan.pp=2", "plan.dp=1", "plan.global_batch=8", "model.layers=4"},
    {"cluster.num_gpus=8", "plan.tp=2", "plan.pp=1", "plan.dp=4", "plan.global_batch=8", "model.layers=2",
     "model.seq_len=4096"},
};

std::vector<std::string> with(std::vector<std::string> a, const std::string& extra) {
  a.push_back(extra);
  return a;
}

double step_at(const std::vector<std::string>& layout, double sustained) {
  return sim::simulate_step(app::load_scenario("llama3-8b", with(layout, "cluster.gpu.efficiency.sustained=" +
                                                                             std::to_string(sustained))))
      .step_time_s;
}

std::vector<app::MeasuredRun> planted_runs(double sustained, const std::vector<double>& scatter) {
  std::vector<app::MeasuredRun> runs;
  for (std::size_t i = 0; i < kLayouts.size(); ++i) {
    app::MeasuredRun r;
    r.name = "run" + std::to_string(i);
    r.scenario = app::load_scenario("llama3-8b", with(kLayouts[i], "cluster.gpu.efficiency.sustained=1"));
    r.step_time_s = step_at(kLayouts[i], sustained) * (1 + scatter[i]);
    runs.push_back(r);
  }
  return runs;
}

std::filesystem::path write_runs(const std::string& name, const nlohmann::json& doc) {
  const auto path = std::filesystem::temp_directory_path() / name;
  model::write_file_atomically(path, doc.dump());
  return path;
}

}  // namespace

TEST_CASE("fit-runs recovers a planted compute level with zero residual and zero leave-one-out error", "[app][fit-runs]") {
  app::FitRunsRequest request;
  request.runs = planted_runs(0.7, {0, 0, 0});
  const app::FitRunsResult r = app::fit_runs(request);
  REQUIRE(r.parameters.size() == 1);
  const auto& p = r.parameters.front();
  CHECK(p.parameter == app::FitParameter::sustained);
  CHECK(p.identified);
  CHECK(p.initial == Approx(1.0));
  CHECK(p.value == Approx(0.7).margin(1e-3));
  CHECK(r.rms_residual < 1e-3);
  for (const auto& run : r.runs) {
    INFO(run.name);
    CHECK(run.initial_error() > 0.1);  // at the burst level every run simulates too fast
    CHECK(std::fabs(run.fitted_error()) < 1e-3);
    CHECK(run.loo_s > 0);
    CHECK(std::fabs(run.loo_error()) < 1e-3);
  }
  REQUIRE(r.profiles.size() == 1);
  const auto& profile = r.profiles.begin()->second;
  REQUIRE(profile.sustained_fraction);
  CHECK(*profile.sustained_fraction == Approx(p.value));
  CHECK_FALSE(profile.nic_efficiency);
  CHECK(r.warnings.empty());
}

TEST_CASE("fit-runs stops at the least-squares minimum when the runs scatter", "[app][fit-runs]") {
  const std::vector<double> scatter{0.03, -0.02, 0.01};
  app::FitRunsRequest request;
  request.runs = planted_runs(0.75, scatter);
  request.leave_one_out = false;
  const app::FitRunsResult r = app::fit_runs(request);
  const double fitted = r.parameters.front().value;
  // The objective, computed here from fresh simulations.
  auto cost = [&](double sustained) {
    double sum = 0;
    for (std::size_t i = 0; i < kLayouts.size(); ++i) {
      const double l = std::log(step_at(kLayouts[i], sustained) / request.runs[i].step_time_s);
      sum += l * l;
    }
    return sum;
  };
  const double at = cost(fitted);
  CHECK(cost(fitted * 1.005) > at);
  CHECK(cost(fitted * 0.995) > at);
  // With residuals left, the covariance gives an uncertainty; the scatter is a few percent.
  CHECK(r.parameters.front().sigma > 0);
  CHECK(r.parameters.front().sigma < 0.05);
  CHECK(r.rms_residual > 0.005);
}

TEST_CASE("fit-runs says what one-GPU runs cannot identify and leaves it out of the profile", "[app][fit-runs]") {
  app::FitRunsRequest request;
  for (int i = 0; i < 2; ++i) {
    app::MeasuredRun run;
    run.name = "single" + std::to_string(i);
    run.scenario = app::load_scenario("llama3-8b", {"cluster.num_gpus=1", "plan.tp=1", "plan.pp=1", "plan.dp=1",
                                                    "plan.global_batch=1", "model.layers=2",
                                                    "model.seq_len=" + std::to_string(2048 << i)});
    run.step_time_s = 1.2 * sim::simulate_step(run.scenario).step_time_s;
    request.runs.push_back(run);
  }
  request.parameters = {app::FitParameter::sustained, app::FitParameter::network};
  const app::FitRunsResult r = app::fit_runs(request);
  REQUIRE(r.parameters.size() == 2);
  CHECK(r.parameters[0].identified);
  CHECK_FALSE(r.parameters[1].identified);
  CHECK(r.parameters[1].value == r.parameters[1].initial);
  REQUIRE_FALSE(r.warnings.empty());
  CHECK_THAT(r.warnings.front(), Catch::Contains("network") && Catch::Contains("cannot be identified"));
  const auto& profile = r.profiles.begin()->second;
  CHECK(profile.sustained_fraction);
  CHECK_FALSE(profile.nic_efficiency);
}

TEST_CASE("a fitted profile drives herd simulate, which names it as its compute level", "[app][fit-runs]") {
  app::FitRunsRequest request;
  request.runs = planted_runs(0.7, {0, 0, 0});
  request.leave_one_out = false;
  const app::FitRunsResult r = app::fit_runs(request);
  const auto path = std::filesystem::temp_directory_path() / "herd-fit-runs-profile.json";
  model::write_file_atomically(path, model::to_json(r.profiles.begin()->second).dump());
  app::SimulateRequest sim_request;
  sim_request.scenario = request.runs[0].scenario;
  sim_request.calibration_file = path.string();
  const app::SimulateResult calibrated = app::simulate(sim_request);
  CHECK(calibrated.report.step_time_s == Approx(request.runs[0].step_time_s).epsilon(1e-3));
  CHECK(calibrated.level.sustained == Approx(r.parameters.front().value));
  CHECK_THAT(calibrated.level.origin, Catch::StartsWith("calibration profile "));
  CHECK(app::to_json(calibrated)["compute_level"]["origin"] == calibrated.level.origin);
  // Without the profile: the GPU preset's level, or the override that replaced it.
  sim_request.calibration_file.clear();
  CHECK_THAT(app::simulate(sim_request).level.origin, Catch::Contains("--set cluster.gpu.efficiency.sustained"));
  sim_request.scenario = app::load_scenario("llama3-8b");
  CHECK_THAT(app::simulate(sim_request).level.origin, Catch::StartsWith("preset "));
}

TEST_CASE("a runs file converts throughputs and is read strictly", "[app][fit-runs]") {
  const std::string scenario = "llama3-8b";
  nlohmann::json doc{{"format", "herd-runs"},
                     {"version", 1},
                     {"runs", {{{"scenario", scenario}, {"set", {{"plan.global_batch", 512}}}, {"tokens_per_s_per_gpu", 4000}}}}};
  const app::RunsFile f = app::load_runs_file(write_runs("herd-runs-ok.json", doc));
  REQUIRE(f.runs.size() == 1);
  const auto& s = f.runs[0].scenario;
  CHECK(s.plan.global_batch == 512);
  CHECK(f.runs[0].step_time_s == Approx(512.0 * double(s.model.seq_len) / (4000.0 * s.cluster.num_gpus)));
  CHECK(f.parameters == std::vector<app::FitParameter>{app::FitParameter::sustained});

  auto fails_at = [&](nlohmann::json bad, const std::string& pointer, const std::string& words) {
    const auto path = write_runs("herd-runs-bad.json", bad);
    try {
      app::load_runs_file(path);
      FAIL("accepted " << bad.dump());
    } catch (const model::InputError& e) {
      CHECK(e.source() == path.string());
      CHECK(e.pointer() == pointer);
      CHECK_THAT(e.message(), Catch::Contains(words));
    }
  };
  nlohmann::json bad = doc;
  bad["runs"][0]["bogus"] = 1;
  fails_at(bad, "/runs/0/bogus", "unknown key");
  bad = doc;
  bad["runs"][0]["step_time_s"] = 3;
  fails_at(bad, "/runs/0", "exactly one measured figure");
  bad = doc;
  bad["runs"][0]["tokens_per_s_per_gpu"] = -1;
  fails_at(bad, "/runs/0/tokens_per_s_per_gpu", "positive");
  bad = doc;
  bad["runs"][0]["set"]["plan.tpp"] = 2;
  fails_at(bad, "/runs/0/set/plan.tpp", "");
  bad = doc;
  bad["parameters"] = {"sustained", "clock"};
  fails_at(bad, "/parameters/1", "expected sustained, attention or network");
  bad = doc;
  bad["format"] = "herd-calibration";
  fails_at(bad, "/format", "not a runs file");
  bad = doc;
  bad["runs"][0]["uncertainty"] = 2;
  fails_at(bad, "/runs/0/uncertainty", "below 1");
  bad = doc;
  bad["runs"][0]["name"] = 7;
  fails_at(bad, "/runs/0/name", "expected a string");
  bad = doc;
  bad["runs"] = nlohmann::json::array();
  fails_at(bad, "/runs", "non-empty");
  // A scenario that is no file, built-in or preset, and one its overrides make impossible: both
  // named at the run in the runs file (found by herd_fuzz_runs).
  bad = doc;
  bad["runs"][0]["scenario"] = "herd-runs";
  fails_at(bad, "/runs/0/scenario", "no such file, built-in scenario or model preset");
  bad = doc;
  bad["runs"][0]["set"]["plan.tp"] = 255;
  fails_at(bad, "/runs/0/set/plan.tp", "65280 GPUs, but the cluster has 256");  // the override at fault
}
