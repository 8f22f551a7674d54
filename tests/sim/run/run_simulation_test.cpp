// Monte Carlo runs: the simulated optimal checkpoint interval against the exact optimum of the
// exponential model (and Young/Daly), determinism across thread counts, and the Llama 3 54-day
// reliability snapshot.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <tbb/global_control.h>

#include "herd/sim/run/report_json.hpp"
#include "herd/model/error.hpp"
#include "herd/sim/run/run_simulation.hpp"
#include "run_fixtures.hpp"

using namespace herd::sim::run;
using herd::sim::run::test::failure;
using herd::sim::run::test::unit_model;

namespace {

// Exact optimum for exponential failures striking at any time (also during checkpoints and
// restarts), each costing the segment in progress: expected time per unit of work is
// M e^{R/M} (e^{(tau+delta)/M} - 1) / tau (Daly 2006, the exact cost his estimates expand), minimal where
// (1 - x) e^x = e^{-delta/M} with x = tau/M. Solved by bisection on (0, 1).
double exact_optimum(double delta, double mtbf) {
  const double target = std::exp(-delta / mtbf);
  double lo = 0, hi = 1;
  for (int i = 0; i < 100; ++i) {
    const double x = 0.5 * (lo + hi);
    ((1 - x) * std::exp(x) > target ? lo : hi) = x;
  }
  return 0.5 * (lo + hi) * mtbf;
}

double simulated_optimum(double work_s, double delta, double restart, double mtbf, int trials) {
  RunModel m = unit_model(work_s, delta, restart);
  m.failures = {failure("exp", mtbf)};
  return RunSimulation(m).optimal_interval(2024, trials);
}

}  // namespace

TEST_CASE("simulated optimum interval where Young/Daly's assumptions hold", "[run][optimum]") {
  // Daly's Fig. 3: M = 24 h, delta = 5 min, R = 10 min: Young 120 min, Daly 117 min.
  const double M = 24 * 3600.0, delta = 300, R = 600;
  const double simulated = simulated_optimum(500 * 3600.0, delta, R, M, 1000);
  const double exact = exact_optimum(delta, M);
  CHECK(exact / 60 == Approx(117).margin(1));
  CHECK(simulated == Approx(exact).epsilon(0.10));
  CHECK(simulated == Approx(young_interval(delta, M)).epsilon(0.12));
  CHECK(simulated == Approx(daly_interval(delta, M)).epsilon(0.10));
}

TEST_CASE("at high failure rates the optimum leaves Young's formula", "[run][optimum]") {
  // Daly's Fig. 5: M = 15 min, delta = 5 min, R = 10 min. Exact optimum 9.2 min, Daly 9.1 min,
  // Young sqrt(2 x 5 x 15) = 12.2 min, a third too long.
  const double M = 15 * 60.0, delta = 300, R = 600;
  const double simulated = simulated_optimum(15 * 3600.0, delta, R, M, 200);
  const double exact = exact_optimum(delta, M);
  CHECK(simulated == Approx(exact).epsilon(0.10));
  CHECK(simulated == Approx(daly_interval(delta, M)).epsilon(0.10));
  CHECK(young_interval(delta, M) > 1.25 * simulated);
}

TEST_CASE("the report does not depend on the number of threads", "[run][monte-carlo]") {
  RunModel m = unit_model(2e6, 20, 300);
  m.failures = {failure("a", 20'000, 30), failure("b", 60'000, 600, herd::model::Distribution::weibull, 0.7)};
  m.planned_rate_per_s = 1.0 / 200'000;
  const RunSimulation sim(m);
  std::string serial, parallel;
  {
    tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
    serial = run_report_json(sim.run(64, 9)).dump();
  }
  {
    tbb::global_control many(tbb::global_control::max_allowed_parallelism, 8);
    parallel = run_report_json(sim.run(64, 9)).dump();
  }
  CHECK(serial == parallel);
  CHECK(run_report_json(sim.run(64, 10)).dump() != serial);
}

TEST_CASE("a run reports its iterations and batches, and stops when asked", "[run][control]") {
  RunModel m = unit_model(2e6, 20, 300);
  m.failures = {failure("a", 20'000, 30)};
  const RunSimulation sim(m);
  std::vector<std::pair<std::string, int>> seen;
  herd::sim::Control control;
  control.progress = [&](std::string_view what, int done, int total) {
    CHECK(done <= total);
    seen.emplace_back(std::string(what), done);
  };
  sim.run(40, 3, control);
  // 16 golden-section iterations, then 10 batches of 4 trials.
  REQUIRE(seen.size() == 26);
  CHECK(seen.front() == std::pair<std::string, int>{"optimal checkpoint interval", 1});
  CHECK(seen.back() == std::pair<std::string, int>{"trials", 40});

  std::stop_source stop;
  control.stop = stop.get_token();
  control.progress = [&](std::string_view what, int, int) {
    if (what == "trials") stop.request_stop();
  };
  CHECK_THROWS_AS(sim.run(40, 3, control), herd::sim::Cancelled);
  stop = {};
  stop.request_stop();
  control.stop = stop.get_token();
  CHECK_THROWS_AS(sim.optimal_interval(3, 40, control), herd::sim::Cancelled);
}

TEST_CASE("Llama 3 405B, 54 days on 16K GPUs: Table 5's interruptions, effective time > 90%", "[run][validation]") {
  // arXiv:2407.21783 section 3.3.4: 419 unexpected and 47 planned interruptions in 54 days;
  // effective training time above 90%. Restart and checkpoint costs: the defaults and their
  // sources in docs/models/reliability.md.
  using herd::model::Override;
  const std::vector<Override> sets = {{"run.window", "54 d", "run.window=54 d"},
                                      {"run.tokens", nullptr, "run.tokens=null"},
                                      {"run.step_time", "6.5 s", "run.step_time=6.5 s"}};
  const auto scenario = herd::model::default_scenario(sets);
  const RunSimulation sim(scenario, prefer_given_step_time(scenario, roofline_step_time_source()));
  constexpr int kTrials = 300;
  const RunReport r = sim.run(kTrials, 1);
  CHECK(r.unexpected == Approx(419).margin(4 * r.unexpected_stderr));
  CHECK(r.unexpected_stderr == Approx(std::sqrt(419.0 / kTrials)).epsilon(0.2));  // Poisson
  CHECK(r.planned == Approx(47).margin(4 * std::sqrt(47.0 / kTrials)));
  CHECK(r.effective_training_time.mean > 0.90);
  CHECK(r.effective_training_time.p10 > 0.90);
  CHECK(r.elapsed_s.mean == Approx(54 * 86400.0));
  // The simulated optimum is within 10% of Young's: delta = 2.8 s is far below M = 3.1 h.
  CHECK(r.optimal_interval_s == Approx(r.young_interval_s).epsilon(0.10));
}

TEST_CASE("a report read back from its JSON writes the same JSON", "[run][json]") {
  RunModel m = unit_model(2e6, 20, 300);
  m.failures = {failure("a", 20'000, 30), failure("b", 60'000, 600)};
  m.planned_rate_per_s = 1.0 / 200'000;
  const RunReport report = RunSimulation(m).run(16, 3);
  const nlohmann::json j = run_report_json(report);
  const RunReport back = run_report_from_json(j);
  CHECK(run_report_json(back) == j);
  CHECK(back.elapsed_s.p90 == Approx(report.elapsed_s.p90));
  CHECK(back.lost.total() == Approx(report.lost.total()));
  CHECK(back.by_category.size() == report.by_category.size());
  // A figure that does not exist (no failures: no MTBF) is null in JSON and infinite again.
  nlohmann::json no_mtbf = j;
  no_mtbf["mtbf_hours"] = nullptr;
  CHECK(std::isinf(run_report_from_json(no_mtbf).mtbf_s));
  nlohmann::json bad = j;
  bad["checkpoint"]["mode"] = "eventually";
  CHECK_THROWS_AS(run_report_from_json(bad), herd::model::ValueError);
  bad = j;
  bad.erase("trials");
  CHECK_THROWS_AS(run_report_from_json(bad), nlohmann::json::exception);
}
