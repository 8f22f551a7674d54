// A training run through the use case: the figures `herd train --json` prints, the Monte Carlo
// settings from the scenario or the request, the timeline on request, --compare's two reports,
// progress, and a stop before and during the run.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <stop_token>

#include "app_fixtures.hpp"
#include "herd/app/scenario_loading.hpp"
#include "herd/app/simulate_use_case.hpp"
#include "herd/app/train_use_case.hpp"

using namespace herd;

namespace {

app::TrainRequest request_for(const std::string& scenario, const std::vector<std::string>& overrides) {
  app::TrainRequest request;
  request.scenario = app::load_scenario(scenario, overrides);
  return request;
}

/// `a` and `b` hold the same keys, strings and numbers, numbers to 1 part in 10^12 (a figure read
/// back goes through its unit: days to seconds and back).
bool same_figures(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    return x == y || std::abs(x - y) <= 1e-12 * std::max(std::abs(x), std::abs(y));
  }
  if (a.type() != b.type() || a.size() != b.size()) return false;
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it)
      if (!b.contains(it.key()) || !same_figures(*it, b.at(it.key()))) return false;
    return true;
  }
  if (a.is_array()) {
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!same_figures(a[i], b[i])) return false;
    return true;
  }
  return a == b;
}

}  // namespace

TEST_CASE("train gives the figures herd train --json prints", "[app][train]") {
  // The golden run of llama3-8b: `herd train llama3-8b --json --trials 200 --set run.tokens=1T`.
  app::TrainRequest request = request_for("llama3-8b", {"run.tokens=1T"});
  request.trials = 200;
  const app::TrainResult r = app::train(request);
  const auto golden = app::test::golden("llama3-8b")["run"];
  const auto j = app::to_json(r);
  // The golden test's tolerance: a reordered floating-point sum may move a figure by far less.
  for (const char* key : {"gpu_hours", "checkpoint_interval_s", "ideal_days"})
    CHECK(j[key].get<double>() == Approx(golden[key].get<double>()).epsilon(1e-6));
  CHECK(r.report.elapsed_s.mean / 86400 == Approx(golden["time_to_train_days"]["mean"].get<double>()).epsilon(1e-6));
  REQUIRE(r.report.phases.size() == 1);
  CHECK(r.report.phases[0].step_time_s == Approx(golden["phase_step_time_s"][0].get<double>()).epsilon(1e-6));
  CHECK(r.report.step_time_source == "herd simulate, " + app::describe(r.level));
  CHECK_FALSE(r.timeline);
}

TEST_CASE("train times a phase with the step simulation herd simulate runs, what-ifs included", "[app][train]") {
  const std::vector<std::string> sets = {"run.tokens=15T", R"(whatif.stragglers=[{"rank": 3, "slowdown": 0.5}])"};
  app::TrainRequest request = request_for("llama3-8b", sets);
  request.trials = 8;
  app::SimulateRequest step;
  step.scenario = request.scenario;
  const sim::StepSimulator shared;
  request.simulator = &shared;
  const app::TrainResult r = app::train(request);
  REQUIRE(r.report.phases.size() == 1);
  CHECK(r.report.phases[0].step_time_s == app::simulate(step).report.step_time_s);
  CHECK(shared.cache_hits_misses().second > 0);  // the phase ran on the shared platform
}

TEST_CASE("trials and seed come from the scenario unless the request sets them", "[app][train]") {
  app::TrainRequest request = request_for("llama3-8b", {"run.tokens=1T", "run.step_time=1.4 s", "run.trials=6", "run.seed=9"});
  app::TrainResult r = app::train(request);
  CHECK(r.report.trials == 6);
  CHECK(r.report.seed == 9);
  CHECK(r.report.step_time_source.find("run.step_time") == 0);
  request.trials = 4;
  request.seed = 11;
  request.timeline = true;
  r = app::train(request);
  CHECK(r.report.trials == 4);
  CHECK(r.report.seed == 11);
  REQUIRE(r.timeline);
  CHECK_FALSE(r.timeline->spans.empty());
}

TEST_CASE("compare trains both scenarios and reports them as a and b", "[app][train]") {
  app::TrainRequest a = request_for("llama3-8b", {"run.tokens=1T"}), b = request_for("llama3-70b", {"run.tokens=1T"});
  a.trials = b.trials = 4;
  const app::TrainComparison c = app::compare(a, b);
  CHECK(c.a.report.name == a.scenario.name);
  CHECK(c.b.report.name == b.scenario.name);
  CHECK(c.b.report.ideal_s > c.a.report.ideal_s);  // 70B trains the same tokens more slowly
  const auto j = app::to_json(c);
  CHECK(j["a"] == app::to_json(c.a));
  CHECK(j["b"] == app::to_json(c.b));
}

TEST_CASE("train reports progress and stops when asked, before or from its progress callback", "[app][train][control]") {
  app::TrainRequest request = request_for("llama3-8b", {"run.tokens=1T"});
  request.trials = 40;
  app::test::ProgressLog log;
  app::train(request, {log.callback(), {}});
  CHECK(log.saw("optimal checkpoint interval"));
  REQUIRE(log.saw("trials"));
  CHECK(log.calls.back().second == std::pair<int, int>{40, 40});

  std::stop_source before;
  before.request_stop();
  CHECK_THROWS_AS(app::train(request, {{}, before.get_token()}), sim::Cancelled);

  std::stop_source during;
  int calls = 0;
  const sim::Control stop_at_first_trials{[&](std::string_view what, int, int) {
                                            ++calls;
                                            if (what == "trials") during.request_stop();
                                          },
                                          during.get_token()};
  CHECK_THROWS_AS(app::train(request, stop_at_first_trials), sim::Cancelled);
  CHECK(calls < static_cast<int>(log.calls.size()));  // it stopped before the last batch
}

TEST_CASE("a run saved by --timeline, --json or --compare --json reads back as it was", "[app][train][saved]") {
  app::TrainRequest request = request_for("llama3-8b", {"run.tokens=1T"});
  request.trials = 6;
  request.timeline = true;
  const app::TrainResult r = app::train(request);
  REQUIRE(r.timeline);
  REQUIRE(r.energy);

  // --timeline FILE: a Chrome trace carrying the report; everything comes back.
  const auto file = nlohmann::json::parse(app::run_timeline_file(r, "8B (trial 0)"));
  CHECK(file.contains("traceEvents"));
  REQUIRE(app::is_saved_run(file));
  const auto from_file = app::read_saved_runs(file, "run.json");
  REQUIRE(from_file.size() == 1);
  const app::TrainResult& back = from_file[0].result;
  CHECK(from_file[0].label == r.report.name);
  CHECK(same_figures(app::to_json(back), app::to_json(r)));  // report, level, energy and the levels it names
  REQUIRE(back.timeline);
  CHECK(back.timeline->spans.size() == r.timeline->spans.size());
  CHECK(back.timeline->events.size() == r.timeline->events.size());
  REQUIRE(back.power);
  CHECK(back.power->train_mean_w == r.power->train_mean_w);
  CHECK(back.power->down_w == r.power->down_w);

  // --json: the same without the timeline.
  const auto report_only = app::read_saved_runs(app::to_json(r), "r.json");
  REQUIRE(report_only.size() == 1);
  CHECK_FALSE(report_only[0].result.timeline);
  CHECK(same_figures(app::to_json(report_only[0].result), app::to_json(r)));

  // --compare --json: A and B.
  app::TrainComparison c{r, r};
  const auto both = app::read_saved_runs(app::to_json(c), "c.json");
  REQUIRE(both.size() == 2);
  CHECK(both[0].label == "A: " + r.report.name);
  CHECK(both[1].label == "B: " + r.report.name);

  // What cannot be read is named by its file and pointer.
  auto bad = file;
  bad["herd_run_timeline"]["spans"][0]["kind"] = "nap";
  CHECK_THROWS_WITH(app::read_saved_runs(bad, "run.json"), Catch::Contains("run.json") && Catch::Contains("/herd_run_timeline/spans/0/kind"));
  bad = file;
  bad.erase("herd_run_report");
  CHECK_THROWS_WITH(app::read_saved_runs(bad, "old.json"), Catch::Contains("/herd_run_report"));
  bad = app::to_json(c);
  bad["b"]["time_lost_hours"].erase("restart");
  CHECK_THROWS_WITH(app::read_saved_runs(bad, "c.json"), Catch::Contains("c.json") && Catch::Contains("/b"));
  CHECK_FALSE(app::is_saved_run(nlohmann::json{{"model", "llama3-8b"}}));
}
