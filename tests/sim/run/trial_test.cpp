// One trial against closed forms: failure-free runs, a failure at a known time (Weibull with a
// very large shape arrives within 0.3% of its mean), asynchronous checkpoints' durability lag,
// Poisson and renewal counts, spares, and the time accounting.
#include <catch2/catch.hpp>

#include <cmath>

#include "herd/sim/run/run_simulation.hpp"
#include "herd/sim/run/trial.hpp"
#include "run_fixtures.hpp"

using namespace herd::sim::run;
using herd::sim::run::test::failure;
using herd::sim::run::test::unit_model;

namespace {
// Weibull shape 500: standard deviation / mean = pi / (k sqrt 6) = 0.26%.
constexpr double kSharp = 500;
}  // namespace

TEST_CASE("a failure-free run: work plus one stall per checkpoint started", "[run][trial]") {
  // 10,000 s of work, a checkpoint every 1,000 s of training stalling 50 s: 9 checkpoints start
  // before the end (none at the very end), so elapsed = 10,000 + 9 x 50.
  const RunModel m = unit_model(10'000, 50, 0);
  const TrialResult r = simulate_trial(m, 1, 0, 1000);
  CHECK(r.finished);
  CHECK(r.elapsed_s == Approx(10'450));
  CHECK(r.ideal_s == Approx(10'000));
  CHECK(r.lost.checkpoint_stalls == Approx(450));
  CHECK(r.checkpoints == 9);
  CHECK(r.unexpected == 0);
}

TEST_CASE("work since the last durable checkpoint is lost", "[run][trial]") {
  // Failures at ~10,000 s and ~20,000 s (renewal); cycles of 3,000 s training + 100 s stall.
  // First: 3 checkpoints durable by 9,300 s, 700 s of training lost; restart 500 s at 10,500 with
  // 9,000 s of work kept. Second at ~20,000 (9,500 s into the segment): 3 more durable, 200 s
  // lost, 18,000 kept; restart, then 2,000 s to the end of 20,000 s of work: ~22,500 s.
  RunModel m = unit_model(20'000, 100, 500);
  m.failures = {failure("sharp", 10'000, 0, herd::model::Distribution::weibull, kSharp)};
  const TrialResult r = simulate_trial(m, 7, 0, 3000);
  REQUIRE(r.finished);
  CHECK(r.unexpected == 2);
  CHECK(r.lost.lost_work == Approx(900).margin(100));
  CHECK(r.lost.checkpoint_stalls == Approx(600));
  CHECK(r.lost.restart == Approx(1000));
  CHECK(r.elapsed_s == Approx(22'500).margin(100));
  CHECK(r.elapsed_s == Approx(r.ideal_s + r.lost.total()).epsilon(1e-9));
}

TEST_CASE("an asynchronous checkpoint is restorable only once written", "[run][trial]") {
  // Failure at ~9,300 s; cycles of 3,000 s + 10 s stall (3,010 s). Sync: checkpoint 3 was durable
  // at 9,030 s: 270 s lost. Async with a 500 s write: checkpoint 3 is durable at 9,530 s only, so
  // the job goes back to checkpoint 2 (6,000 s of work): 3,270 s lost.
  RunModel m = unit_model(1e9, 10, 1e6);
  m.token_budget = 0;
  m.phases[0].end_tokens = std::numeric_limits<double>::infinity();
  m.window_s = 9'350;
  m.failures = {failure("sharp", 9'300, 0, herd::model::Distribution::weibull, kSharp)};
  const TrialResult sync = simulate_trial(m, 3, 0, 3000);
  CHECK(sync.tokens == Approx(9000));
  CHECK(sync.lost.lost_work == Approx(270).margin(80));
  m.checkpoint_mode = herd::model::CheckpointMode::async;
  m.checkpoint.durable_lag_s = 500;
  const TrialResult async = simulate_trial(m, 3, 0, 3000);
  CHECK(async.tokens == Approx(6000));
  CHECK(async.lost.lost_work == Approx(3270).margin(80));
  CHECK(async.checkpoints == 2);
}

TEST_CASE("failure counts: Poisson and Weibull renewal means", "[run][trial]") {
  // In a window W, an exponential process of mean M gives Poisson(W/M) arrivals; a renewal
  // process of any shape gives W/M + O(1) (elementary renewal theorem).
  RunModel m = unit_model(1e12, 1, 0);
  m.window_s = 1e6;
  m.failures = {failure("exp", 1000)};
  RunSimulation sim(m);
  double total = 0;
  constexpr int kTrials = 200;
  for (const auto& t : sim.trials(11, kTrials, 1e4)) total += t.unexpected;
  CHECK(total / kTrials == Approx(1000).margin(4 * std::sqrt(1000.0 / kTrials)));

  m.failures = {failure("weibull", 1000, 0, herd::model::Distribution::weibull, 0.7)};
  RunSimulation weibull(m);
  total = 0;
  for (const auto& t : weibull.trials(11, kTrials, 1e4)) total += t.unexpected;
  CHECK(total / kTrials == Approx(1000).epsilon(0.02));
}

TEST_CASE("spare nodes: unlimited, shrinking, waiting", "[run][trial]") {
  RunModel m = unit_model(200'000, 10, 100);
  m.dp = 8;
  m.replicas_per_node = 1;
  auto node = failure("node", 20'000, 30);
  node.replaces_node = true;
  m.failures = {node};

  const TrialResult unlimited = simulate_trial(m, 5, 0, 2000);
  CHECK(unlimited.lost.spare_wait == 0);
  CHECK(unlimited.lost.degraded == 0);
  CHECK(unlimited.fewest_replicas == 8);

  m.spares.nodes = 0;
  m.spares.repair_s = 30'000;  // so the job gets its replicas back before it loses them all
  m.spares.when_exhausted = herd::model::WhenNoSpare::shrink;
  const TrialResult shrink = simulate_trial(m, 5, 0, 2000);
  CHECK(shrink.finished);
  CHECK(shrink.unexpected > 2);
  CHECK(shrink.fewest_replicas < 8);
  CHECK(shrink.lost.degraded > 0);
  CHECK(shrink.elapsed_s > unlimited.elapsed_s);
  CHECK(shrink.elapsed_s == Approx(shrink.ideal_s + shrink.lost.total()).epsilon(1e-9));

  m.spares.when_exhausted = herd::model::WhenNoSpare::wait;
  m.spares.repair_s = 5000;
  const TrialResult wait = simulate_trial(m, 5, 0, 2000);
  CHECK(wait.lost.spare_wait > 0);
  CHECK(wait.fewest_replicas == 8);
  CHECK(wait.elapsed_s == Approx(wait.ideal_s + wait.lost.total()).epsilon(1e-9));
}

TEST_CASE("the same seed and trial give the same history", "[run][trial]") {
  RunModel m = unit_model(1e6, 5, 60);
  m.failures = {failure("a", 5000, 10), failure("b", 20'000, 600, herd::model::Distribution::weibull, 0.8)};
  m.planned_rate_per_s = 1.0 / 50'000;
  const TrialResult x = simulate_trial(m, 42, 3, 700), y = simulate_trial(m, 42, 3, 700);
  CHECK(x.elapsed_s == y.elapsed_s);
  CHECK(x.by_class == y.by_class);
  CHECK(x.planned == y.planned);
  CHECK(x.lost.lost_work == y.lost.lost_work);
  CHECK(simulate_trial(m, 42, 4, 700).elapsed_s != x.elapsed_s);
  CHECK(simulate_trial(m, 43, 3, 700).elapsed_s != x.elapsed_s);
  // In a window, arrivals do not depend on the checkpoint interval (common random numbers).
  m.window_s = 2e5;
  CHECK(simulate_trial(m, 42, 3, 1400).by_class == simulate_trial(m, 42, 3, 700).by_class);
}
