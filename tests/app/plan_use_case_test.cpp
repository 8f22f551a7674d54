// `herd plan` as a use case: search lists from text, the explanation of a layout, runs and their
// Pareto front across GPU counts, and shards joined back through their JSON.
#include <catch2/catch.hpp>

#include <algorithm>

#include "app_fixtures.hpp"
#include "herd/app/plan_use_case.hpp"
#include "herd/app/scenario_loading.hpp"
#include "herd/model/error.hpp"
#include "herd/sim/plan/planner.hpp"
#include "herd/sim/step/step_simulator.hpp"

using namespace herd;
namespace sp = herd::sim::plan;

namespace {
// Llama 3 8B on 64 H100, a small space.
app::PlanRequest request() {
  app::PlanRequest r;
  r.scenario = app::load_scenario("llama3-8b", {"cluster.num_gpus=64", "plan.dp=64", "plan.global_batch=128"});
  for (auto [key, text] : {std::pair{"tp", "2,4,8"}, {"cp", "1"}, {"pp", "1:4"}, {"v", "1,2"}, {"mb", "1"},
                           {"recompute", "none"}, {"overlap", "0"}})
    app::set_space_list(r.space, key, text);
  r.space.top = 4;
  r.robustness = false;
  return r;
}
}  // namespace

TEST_CASE("search lists parse from flags' text", "[plan]") {
  model::SearchSpace s;
  app::set_space_list(s, "pp", "8:64");
  CHECK(s.pp == std::vector<int>{8, 16, 32, 64});
  app::set_space_list(s, "tp", "1,2,8");
  CHECK(s.tp == std::vector<int>{1, 2, 8});
  app::set_space_list(s, "schedule", "1f1b,llama3");
  CHECK(s.schedules == std::vector{model::Schedule::one_f_one_b, model::Schedule::llama3});
  app::set_space_list(s, "order", "tp-cp-pp-dp,tp-pp-cp-dp");
  CHECK(s.rank_orders.size() == 2);
  CHECK_THROWS_WITH(app::set_space_list(s, "tp", "two"), Catch::Contains("--tp"));
  CHECK_THROWS_WITH(app::set_space_list(s, "schedule", "fast"), Catch::Contains("--schedule"));
  CHECK_THROWS_WITH(app::set_space_list(s, "pp", "8:4"), Catch::Contains("--pp"));
}

TEST_CASE("explaining a layout: its rank, what limits it, what would help", "[plan]") {
  auto r = request();
  r.explain = "tp=2,pp=4,v=1,schedule=1f1b";
  const auto result = app::plan(r);
  REQUIRE(result.explanation);
  const auto& x = *result.explanation;
  CHECK(x.invalid.empty());
  REQUIRE(x.layout.simulated);
  CHECK(x.rank >= 1);
  // Exact: every layout faster than it was simulated, so its rank counts them all.
  int faster = 0;
  for (const auto& e : result.search.ranked)
    if (e.tokens_per_s > x.layout.tokens_per_s) ++faster;
  CHECK(x.rank == faster + 1);
  CHECK(!x.limits.empty());
  CHECK(x.changes.size() <= 2);
  for (const auto& c : x.changes) CHECK(c.gain > 0);
  // A layout that is none: the reason, no rank.
  r.explain = "pp=4,v=5,schedule=interleaved";  // 32 layers over 20 chunks
  const auto bad = app::plan(r);
  REQUIRE(bad.explanation);
  CHECK_THAT(bad.explanation->invalid, Catch::Contains("/plan/virtual_stages"));
  CHECK(bad.explanation->rank == 0);
}

TEST_CASE("runs across GPU counts: time-to-train, GPU-hours and the Pareto front", "[plan]") {
  auto r = request();
  app::set_space_list(r.space, "gpus", "32,64");
  r.run_candidates = 1;
  r.run_trials = 20;
  r.objective = app::Objective::gpu_hours;
  r.scenario = model::with_overrides(r.scenario, {{"run.tokens", "20B"}}, "test");
  const auto result = app::plan(r);
  REQUIRE(result.runs.size() == 2);
  CHECK(result.runs[0].gpu_hours <= result.runs[1].gpu_hours);
  int front = 0;
  for (const auto& run : result.runs) {
    CHECK(run.time_to_train_s > 0);
    front += run.pareto;
  }
  CHECK(front >= 1);
}

TEST_CASE("shards written as JSON merge into the one-machine ranking", "[plan]") {
  const auto whole = app::plan(request());
  std::vector<std::pair<std::string, nlohmann::json>> files;
  for (int i = 0; i < 2; ++i) {
    auto r = request();
    r.options.shard = i;
    r.options.shards = 2;
    files.emplace_back("shard" + std::to_string(i) + ".json", app::to_json(app::plan(r)));
  }
  const auto merged = app::merge(request().scenario, files);
  REQUIRE(merged.search.ranked.size() >= 4);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(merged.search.ranked[i].candidate.index == whole.search.ranked[i].candidate.index);
    CHECK(merged.search.ranked[i].step_time_s == Approx(whole.search.ranked[i].step_time_s).epsilon(1e-12));
  }
  CHECK(merged.search.counts.valid == whole.search.counts.valid);
  // A shard of another search is refused, naming its file.
  files[1].second["space"]["tp"] = {8};
  CHECK_THROWS_WITH(app::merge(request().scenario, files), Catch::Contains("shard1.json"));
  // CSV: a header and one row per simulated layout.
  const std::string csv = app::to_csv(whole);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == static_cast<long>(whole.search.ranked.size()) + 1);
}

TEST_CASE("the scenario's search section narrows the space, a flag's list wins", "[plan]") {
  auto r = request();
  r.space = {};
  r.scenario = model::with_overrides(r.scenario, {{"search.tp", {4}}, {"search.pp", {1, 2}}, {"search.top", 2},
                                                  {"search.schedule", {"1f1b"}}, {"search.micro_batch", {1}}},
                                     "test");
  CHECK(r.scenario.search.tp == std::vector<int>{4});
  app::set_space_list(r.space, "pp", "1");
  r.robustness = false;
  const auto result = app::plan(r);
  CHECK(result.space.tp == std::vector<int>{4});
  CHECK(result.space.pp == std::vector<int>{1});
  CHECK(result.space.top == 2);
  for (const auto& e : result.search.ranked) CHECK(e.candidate.plan.tp == 4);
  CHECK_THROWS_WITH(model::with_overrides(r.scenario, {{"search.rank_order", {"tp-tp-pp-dp"}}}, "test"),
                    Catch::Contains("/search/rank_order/0"));
}

TEST_CASE("a power budget parses with its unit, bad ones name the flag", "[plan][power]") {
  CHECK(app::parse_power_budget("25 MW") == Approx(25e6));
  CHECK(app::parse_power_budget("900kW") == Approx(9e5));
  CHECK(app::parse_power_budget("2.5e7") == Approx(2.5e7));
  for (const char* bad : {"", "lots", "25 MB", "0 MW", "-3 MW", "inf"})
    CHECK_THROWS_WITH(app::parse_power_budget(bad), Catch::Contains("--power-budget"));
  CHECK(app::parse_objective("energy") == app::Objective::energy);
  CHECK_THROWS_WITH(app::parse_objective("watts"), Catch::Contains("energy"));
}

TEST_CASE("the energy objective ranks by energy per token, in JSON, CSV and through shards", "[plan][power]") {
  auto r = request();
  r.objective = app::Objective::energy;
  const auto whole = app::plan(r);
  REQUIRE(whole.search.ranked.size() >= 4);
  CHECK(whole.runs.empty());
  for (std::size_t i = 1; i < whole.search.ranked.size(); ++i)
    CHECK(whole.search.ranked[i - 1].energy_per_token_j <= whole.search.ranked[i].energy_per_token_j);
  const auto j = app::to_json(whole);
  CHECK(j["objective"] == "energy");
  CHECK(j["ranked"][0]["energy_per_token_j"].get<double>() == whole.search.ranked[0].energy_per_token_j);
  CHECK(j["ranked"][0].contains("peak_power_w"));
  CHECK(j["counts"]["over_power_budget"] == 0);
  const std::string csv = app::to_csv(whole);
  CHECK_THAT(csv, Catch::Contains("energy_per_token_j,peak_power_w\n"));
  std::vector<std::pair<std::string, nlohmann::json>> files;
  for (int i = 0; i < 2; ++i) {
    auto part = r;
    part.options.shard = i;
    part.options.shards = 2;
    files.emplace_back("shard" + std::to_string(i) + ".json", app::to_json(app::plan(part)));
  }
  const auto merged = app::merge(r.scenario, files);
  CHECK(merged.objective == app::Objective::energy);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(merged.search.ranked[i].candidate.index == whole.search.ranked[i].candidate.index);
    CHECK(merged.search.ranked[i].energy_per_token_j == whole.search.ranked[i].energy_per_token_j);
  }
  // Shards of the throughput ranking do not join those of the energy ranking.
  files[1].second["objective"] = "throughput";
  CHECK_THROWS_WITH(app::merge(r.scenario, files), Catch::Contains("shard1.json"));
}

TEST_CASE("explaining a layout under the energy objective ranks it by energy per token", "[plan][power]") {
  auto r = request();
  r.objective = app::Objective::energy;
  r.explain = "tp=2,pp=4,v=1,schedule=1f1b";
  const auto result = app::plan(r);
  REQUIRE(result.explanation);
  const auto& x = *result.explanation;
  CHECK(x.by_energy);
  REQUIRE(x.layout.simulated);
  REQUIRE(x.layout.has_power);
  // Exact: every layout that uses less energy per token was simulated with its power, so the rank
  // counts them all; how far behind is the energy per token against the best's.
  int better = 0;
  for (const auto& e : result.search.ranked) {
    REQUIRE(e.has_power);
    if (e.energy_per_token_j < x.layout.energy_per_token_j) ++better;
  }
  CHECK(x.rank == better + 1);
  const double best = result.search.ranked.front().energy_per_token_j;
  CHECK(x.behind_best == Approx(std::max(0.0, x.layout.energy_per_token_j / best - 1)));
  // Each change suggested uses less energy per token; its gain is the explained layout's excess.
  for (const auto& c : x.changes) {
    CHECK(c.energy_per_token_j < x.layout.energy_per_token_j);
    CHECK(c.gain == Approx(x.layout.energy_per_token_j / c.energy_per_token_j - 1));
  }
  const auto j = app::to_json(result);
  CHECK(j["explanation"]["ranked_by"] == "energy");
  // The same layout by throughput ranks among the faster ones instead.
  r.objective = app::Objective::throughput;
  const auto by_speed = app::plan(r);
  REQUIRE(by_speed.explanation);
  CHECK_FALSE(by_speed.explanation->by_energy);
  CHECK(app::to_json(by_speed)["explanation"]["ranked_by"] == "throughput");
}

TEST_CASE("robustness under a power budget: a move that raises the winner's peak past it unseats it", "[plan][power]") {
  auto r = request();
  r.robustness = false;
  const auto plain = app::plan(r);
  REQUIRE_FALSE(plain.search.ranked.empty());
  const sp::Evaluation& first = plain.search.ranked.front();
  REQUIRE(first.has_power);
  // The winner's peak under GPU speed moved by `factor`, as robustness measures it.
  const sim::StepSimulator simulator;
  const double sustained = r.scenario.cluster.gpu.efficiency.sustained;
  const auto moved_peak = [&](double factor) {
    model::Scenario moved = r.scenario;
    moved.cluster.gpu.efficiency.sustained = std::min(1.0, factor * sustained);
    sp::Evaluation e = first;
    e.least_power_w = e.kernel_energy_j = 0;
    sp::measure_power(moved, e, simulator, nullptr, sp::layout_power_setup(moved, e.candidate.num_gpus, simulator), {});
    return e.peak_power_w;
  };
  const double up = moved_peak(1.1), down = moved_peak(0.9);
  const std::string raising = up > down ? "GPU sustained speed +10 %" : "GPU sustained speed -10 %";
  const double raised = std::max(up, down);
  REQUIRE(raised > first.peak_power_w);  // one of the two moves draws a higher peak
  // A budget between the two: the winner fits as searched and passes it under that move.
  r.space.power_budget_w = 0.5 * (first.peak_power_w + raised);
  r.robustness = true;
  const auto result = app::plan(r);
  REQUIRE(result.robustness);
  const std::int64_t winner = result.search.ranked.front().candidate.index;
  CHECK(winner == first.candidate.index);
  bool seen = false;
  for (const auto& p : result.robustness->perturbations) {
    // Every top layout is either ranked or over the budget, never both.
    for (auto i : p.over_power_budget) CHECK(std::find(p.order.begin(), p.order.end(), i) == p.order.end());
    CHECK(p.order.size() + p.over_power_budget.size() == std::min<std::size_t>(5, result.search.ranked.size()));
    if (p.what == raising) {
      seen = true;
      CHECK(std::find(p.over_power_budget.begin(), p.over_power_budget.end(), winner) != p.over_power_budget.end());
      CHECK_FALSE(p.winner_holds);
    }
  }
  CHECK(seen);
  CHECK_FALSE(result.robustness->winner_robust);
  CHECK(app::to_json(result)["robustness"]["perturbations"][0].contains("over_power_budget"));
}

TEST_CASE("the power budget from the scenario's search section, a flag's wins", "[plan][power]") {
  auto r = request();
  r.scenario = model::with_overrides(r.scenario, {{"search.power_budget", "1 W"}}, "test");
  CHECK(r.scenario.search.power_budget_w == 1);
  const auto none = app::plan(r);
  CHECK(none.search.ranked.empty());
  CHECK(none.search.counts.over_power_budget > 0);
  r.space.power_budget_w = 1e9;
  const auto all = app::plan(r);
  CHECK(all.space.power_budget_w == 1e9);
  CHECK(all.search.ranked.size() >= 4);
  CHECK(all.search.counts.over_power_budget == 0);
  CHECK_THROWS_WITH(model::with_overrides(r.scenario, {{"search.power_budget", "25 MB"}}, "test"),
                    Catch::Contains("/search/power_budget"));
}

TEST_CASE("a plan result saved as JSON reads back with its scenario", "[plan][saved]") {
  const auto whole = app::plan(request());
  const nlohmann::json j = app::to_json(whole);
  REQUIRE(app::is_saved_plan(j));
  const app::SavedPlan saved = app::read_saved_plan(j, "plan.json");
  // The scenario it searched, as it was resolved: the same plan and cluster.
  CHECK(saved.scenario.name == request().scenario.name);
  CHECK(saved.scenario.resolved == request().scenario.resolved);
  CHECK(saved.scenario.plan.gpus() == 64);
  // The same ranking, figures and counts.
  REQUIRE(saved.result.search.ranked.size() == whole.search.ranked.size());
  for (std::size_t i = 0; i < whole.search.ranked.size(); ++i) {
    CHECK(saved.result.search.ranked[i].candidate.index == whole.search.ranked[i].candidate.index);
    CHECK(saved.result.search.ranked[i].candidate.plan.tp == whole.search.ranked[i].candidate.plan.tp);
    CHECK(saved.result.search.ranked[i].step_time_s == whole.search.ranked[i].step_time_s);
  }
  CHECK(saved.result.search.counts.simulated == whole.search.counts.simulated);
  // A result without its scenario, or not a plan at all, is named.
  auto old = j;
  old.erase("resolved_scenario");
  CHECK_THROWS_WITH(app::read_saved_plan(old, "old.json"), Catch::Contains("old.json") && Catch::Contains("/resolved_scenario"));
  CHECK_FALSE(app::is_saved_plan(nlohmann::json{{"ranked", 1}}));
}
