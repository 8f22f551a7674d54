// The search: a planted optimum known in closed form, pruning that never changes the top K, the
// same ranking with any thread count or shard split, nothing-fits reported, stop honoured.
#include <catch2/catch.hpp>

#include <stop_token>

#include "plan_fixtures.hpp"
#include "herd/sim/plan/planner.hpp"
#include "herd/sim/power/step_power.hpp"

using namespace herd;
using herd::test::scenario;
namespace sp = herd::sim::plan;

namespace {

// The first k ranked layouts with their step time (or, ranked by energy, their energy per token).
std::vector<std::string> ids(const sp::SearchResult& r, std::size_t k) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < r.ranked.size() && i < k; ++i)
    out.push_back(
        sp::layout_id(r.ranked[i].candidate.plan, r.ranked[i].candidate.num_gpus) + " " +
        std::to_string(r.rank_by == sp::Ranking::energy ? r.ranked[i].energy_per_token_j : r.ranked[i].step_time_s));
  return out;
}

// A small space of Llama 3 8B on 64 H100: TP, PP, schedules, DP modes.
model::SearchSpace small_space() {
  model::SearchSpace s;
  s.tp = {2, 4, 8};
  s.cp = {1};
  s.pp = {1, 2, 4};
  s.virtual_stages = {1, 2};
  s.micro_batch = {1};
  s.recompute = {model::Recompute::none};
  s.tp_comm_overlap = {0};
  s.top = 5;
  return s;
}

// Llama 3 8B (4 layers) on one GPU: the three recomputations, 1F1B, micro-batch 1.
model::Scenario one_gpu() {
  return scenario({"cluster.num_gpus=1", "plan.dp=1", "plan.global_batch=4", "model.layers=4"});
}
model::SearchSpace one_gpu_space() {
  model::SearchSpace space;
  space.micro_batch = {1};
  space.schedules = {model::Schedule::one_f_one_b};
  space.recompute = {model::Recompute::full, model::Recompute::selective, model::Recompute::none};
  return space;
}
}  // namespace

TEST_CASE("planted optimum: on one GPU the least recomputation wins, at its closed-form time", "[plan]") {
  // Nothing communicates on one GPU, so each layout's step is its compute (the bound, exact:
  // step_bound_test) and recomputation only adds forward work: none < selective < full.
  const auto s = one_gpu();
  const model::SearchSpace space = one_gpu_space();
  const sim::StepSimulator simulator;
  const auto r = sp::search_layouts(s, space, {}, simulator);
  REQUIRE(r.ranked.size() >= 3);
  const auto& best = r.ranked.front();
  CHECK(best.candidate.plan.recompute == model::Recompute::none);
  const sp::StepBound bound(s.model, s.cluster, nullptr);
  CHECK(best.step_time_s == Approx(bound.lower_bound_s(best.candidate.plan)).epsilon(1e-6));
  CHECK(r.ranked[1].candidate.plan.recompute == model::Recompute::selective);
  CHECK(r.ranked[2].candidate.plan.recompute == model::Recompute::full);
}

TEST_CASE("pruning by the bound keeps the exact top K", "[plan]") {
  const auto s = scenario({"cluster.num_gpus=64", "plan.dp=64", "plan.global_batch=128"});
  const sim::StepSimulator simulator;
  sp::PlannerOptions pruned, everything;
  everything.prune = false;
  const auto a = sp::search_layouts(s, small_space(), pruned, simulator);
  const auto b = sp::search_layouts(s, small_space(), everything, simulator);
  CHECK(ids(a, 5) == ids(b, 5));
  CHECK(a.counts.simulated + a.counts.pruned == b.counts.simulated);
  CHECK(b.counts.pruned == 0);
  CHECK(a.counts.valid == a.counts.out_of_memory + a.counts.pruned + a.counts.simulated);
  // Best first.
  for (std::size_t i = 1; i < b.ranked.size(); ++i) CHECK(b.ranked[i - 1].tokens_per_s >= b.ranked[i].tokens_per_s);
}

TEST_CASE("the same ranking, by throughput or energy, with one thread or many, sharded or not", "[plan]") {
  const auto s = scenario({"cluster.num_gpus=64", "plan.dp=64", "plan.global_batch=128"});
  const sim::StepSimulator simulator;
  sp::PlannerOptions one, two;
  one.rank_by = two.rank_by = GENERATE(sp::Ranking::throughput, sp::Ranking::energy);
  one.threads = 1;
  two.threads = 2;
  const auto a = sp::search_layouts(s, small_space(), one, simulator);
  const auto b = sp::search_layouts(s, small_space(), two, sim::StepSimulator{});
  CHECK(ids(a, 100) == ids(b, 100));
  CHECK(a.counts.simulated == b.counts.simulated);
  CHECK(a.counts.pruned == b.counts.pruned);
  std::vector<sp::SearchResult> shards;
  for (int i : {2, 0, 1}) {  // any order
    sp::PlannerOptions o;
    o.rank_by = one.rank_by;
    o.shard = i;
    o.shards = 3;
    shards.push_back(sp::search_layouts(s, small_space(), o, simulator));
  }
  auto merged = sp::merge_shards(shards);
  CHECK(ids(merged, 5) == ids(a, 5));
  CHECK(merged.counts.valid == a.counts.valid);
  CHECK(merged.counts.invalid == a.counts.invalid);
  CHECK(merged.counts.out_of_memory == a.counts.out_of_memory);
  shards[0].rank_by = shards[0].rank_by == sp::Ranking::energy ? sp::Ranking::throughput : sp::Ranking::energy;
  CHECK_THROWS_WITH(sp::merge_shards(shards), Catch::Contains("objectives"));
  shards[0].rank_by = one.rank_by;
  shards.pop_back();
  CHECK_THROWS_WITH(sp::merge_shards(shards), Catch::Contains("missing"));
}

TEST_CASE("nothing fits: no ranking, the closest layouts by memory", "[plan]") {
  // Llama 3 405B cannot fit on 8 GPUs of 80 GB whatever the layout.
  const auto s = scenario({"cluster.num_gpus=8", "plan.tp=8", "plan.pp=1", "plan.dp=1", "plan.virtual_stages=1",
                           "plan.schedule=1f1b", "plan.layer_layout=uniform", "plan.global_batch=8"},
                          "llama3-405b-16k");
  model::SearchSpace space;
  space.micro_batch = {1};
  space.top = 3;
  const auto r = sp::search_layouts(s, space, {}, sim::StepSimulator{});
  CHECK(r.ranked.empty());
  REQUIRE(r.closest_out_of_memory.size() == 3);
  CHECK(r.counts.out_of_memory == r.counts.valid);
  for (std::size_t i = 1; i < 3; ++i)
    CHECK(r.closest_out_of_memory[i - 1].memory_peak_bytes / r.closest_out_of_memory[i - 1].memory_capacity_bytes <=
          r.closest_out_of_memory[i].memory_peak_bytes / r.closest_out_of_memory[i].memory_capacity_bytes);
}

TEST_CASE("a stop request ends the search", "[plan]") {
  const auto s = scenario({"cluster.num_gpus=64", "plan.dp=64", "plan.global_batch=128"});
  std::stop_source stop;
  stop.request_stop();
  CHECK_THROWS_AS(sp::search_layouts(s, small_space(), {}, sim::StepSimulator{}, sim::Control{{}, stop.get_token()}),
                  sim::Cancelled);
}

// ----------------------------------------------------------------------------- energy, power budget

namespace {

sp::PlannerOptions by_energy() {
  sp::PlannerOptions o;
  o.rank_by = sp::Ranking::energy;
  return o;
}

// A layout's facility energy per token and peak facility power, recomputed from a full scenario of
// that layout: its step simulated with a trace, its power from sim::step_power.
std::pair<double, double> power_of(const model::Scenario& s, const sp::Evaluation& e,
                                   const sim::StepSimulator& simulator) {
  const model::Scenario full =
      model::with_overrides(s, sp::layout_overrides(e.candidate.plan, e.candidate.num_gpus), "test");
  sim::StepOptions traced;
  traced.trace = true;
  const auto setup = sim::power_setup(full, simulator);
  const auto p = sim::step_power(simulator.simulate(full, traced), setup);
  return {p.energy_per_token_j, p.peak_w * p.pue};
}

}  // namespace

TEST_CASE("ranking by energy: the order of each layout's energy per token from sim::step_power", "[plan][power]") {
  const auto s = scenario({"cluster.num_gpus=64", "plan.dp=64", "plan.global_batch=128"});
  const sim::StepSimulator simulator;
  const auto r = sp::search_layouts(s, small_space(), by_energy(), simulator);
  REQUIRE(r.ranked.size() >= 5);
  CHECK(r.rank_by == sp::Ranking::energy);
  double last = 0;
  for (const auto& e : r.ranked) {
    REQUIRE(e.has_power);
    const auto [energy, peak] = power_of(s, e, simulator);
    CHECK(e.energy_per_token_j == Approx(energy).epsilon(1e-9));
    CHECK(e.peak_power_w == Approx(peak).epsilon(1e-9));
    CHECK(energy >= last);  // least energy first
    last = energy;
    CHECK(e.energy_per_token_j >= e.energy_bound_j());
  }
  // Pruning by the energy bound keeps the exact top K.
  sp::PlannerOptions everything = by_energy();
  everything.prune = false;
  const auto all = sp::search_layouts(s, small_space(), everything, simulator);
  CHECK(ids(r, 5) == ids(all, 5));
  CHECK(r.counts.simulated + r.counts.pruned == all.counts.simulated);
  CHECK(r.counts.valid == r.counts.out_of_memory + r.counts.pruned + r.counts.simulated);
}

TEST_CASE("on one GPU a step's energy is its energy bound in closed form", "[plan][power]") {
  // One GPU does not communicate: it draws each kernel's state draw through the kernel, one after
  // another, and the wait draw in any gap, so E = PUE x (T x (server + switches) + compute-bound s
  // x P_compute + memory-bound s x P_memory + the rest of T x P_wait).
  const auto s = one_gpu();
  const model::SearchSpace space = one_gpu_space();
  const sim::StepSimulator simulator;
  const auto r = sp::search_layouts(s, space, by_energy(), simulator);
  REQUIRE(r.ranked.size() >= 3);
  const sp::StepBound bound(s.model, s.cluster, nullptr);
  const auto setup = sp::layout_power_setup(s, 1, simulator);
  for (const auto& e : r.ranked) {
    const auto k = bound.kernel_seconds(e.candidate.plan);
    const double T = e.step_time_s;
    const double joules =
        setup.pue * (T * setup.static_w() + k.compute_bound * setup.gpu_draw(sim::PowerState::compute, false) +
                     k.memory_bound * setup.gpu_draw(sim::PowerState::memory, false) +
                     (T - k.compute_bound - k.memory_bound) * setup.gpu_draw(sim::PowerState::wait, false));
    CHECK(e.energy_per_token_j == Approx(joules / e.tokens_per_step).epsilon(1e-5));
  }
  // Recomputation only adds kernels: none < selective < full in energy as in time.
  CHECK(r.ranked[0].candidate.plan.recompute == model::Recompute::none);
  CHECK(r.ranked[1].candidate.plan.recompute == model::Recompute::selective);
  CHECK(r.ranked[2].candidate.plan.recompute == model::Recompute::full);
}

TEST_CASE("a power budget drops exactly the layouts whose peak is above it", "[plan][power]") {
  const auto s = scenario({"cluster.num_gpus=64", "plan.dp=64", "plan.global_batch=128"});
  const sim::StepSimulator simulator;
  sp::PlannerOptions everything;
  everything.prune = false;
  everything.power_all = true;
  const auto all = sp::search_layouts(s, small_space(), everything, simulator);
  REQUIRE(all.ranked.size() >= 6);
  std::vector<double> peaks;
  for (const auto& e : all.ranked) peaks.push_back(e.peak_power_w);
  std::sort(peaks.begin(), peaks.end());
  const double budget = peaks[peaks.size() / 2];  // about half the layouts above it
  std::vector<std::string> within;
  std::int64_t above = 0;
  for (const auto& e : all.ranked) {
    if (e.peak_power_w <= budget) within.push_back(sp::layout_id(e.candidate.plan, e.candidate.num_gpus));
    else ++above;
  }
  REQUIRE(above > 0);
  auto space = small_space();
  space.power_budget_w = budget;
  const auto ids_of = [](const sp::SearchResult& r, std::size_t k) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < r.ranked.size() && i < k; ++i)
      out.push_back(sp::layout_id(r.ranked[i].candidate.plan, r.ranked[i].candidate.num_gpus));
    return out;
  };
  const auto unpruned = sp::search_layouts(s, space, everything, simulator);
  CHECK(ids_of(unpruned, 1000) == within);
  CHECK(unpruned.counts.over_power_budget == above);
  CHECK(unpruned.counts.valid ==
        unpruned.counts.out_of_memory + unpruned.counts.over_power_budget + unpruned.counts.simulated);
  for (const auto& e : unpruned.ranked) CHECK(e.peak_power_w <= budget);
  // With pruning: the top K of the layouts within the budget.
  const auto pruned = sp::search_layouts(s, space, {}, simulator);
  CHECK(ids_of(pruned, 5) ==
        std::vector<std::string>(within.begin(), within.begin() + std::min<std::size_t>(5, within.size())));
  CHECK(pruned.counts.valid ==
        pruned.counts.out_of_memory + pruned.counts.over_power_budget + pruned.counts.pruned + pruned.counts.simulated);
  // Below the cluster's least power (servers and switches alone): nothing is simulated.
  space.power_budget_w = 1;
  const auto none = sp::search_layouts(s, space, {}, simulator);
  CHECK(none.ranked.empty());
  CHECK(none.counts.over_power_budget == none.counts.valid - none.counts.out_of_memory);
  space.power_budget_w = -1;
  CHECK_THROWS_WITH(sp::search_layouts(s, space, {}, simulator), Catch::Contains("power"));
}

TEST_CASE("the top K get their power under the throughput ranking too", "[plan][power]") {
  const auto s = scenario({"cluster.num_gpus=64", "plan.dp=64", "plan.global_batch=128"});
  const sim::StepSimulator simulator;
  const auto r = sp::search_layouts(s, small_space(), {}, simulator);
  for (std::size_t i = 0; i < r.ranked.size(); ++i) {
    CHECK(r.ranked[i].has_power == (i < 5));
    if (i < 5) CHECK(r.ranked[i].energy_per_token_j == Approx(power_of(s, r.ranked[i], simulator).first).epsilon(1e-9));
  }
}
