// The search: a planted optimum known in closed form, pruning that never changes the top K, the
// same ranking with any thread count or shard split, nothing-fits reported, stop honoured.
#include <catch2/catch.hpp>

#include <stop_token>

#include "plan_fixtures.hpp"
#include "herd/sim/plan/planner.hpp"

using namespace herd;
using herd::test::scenario;
namespace sp = herd::sim::plan;

namespace {

std::vector<std::string> ids(const sp::SearchResult& r, std::size_t k) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < r.ranked.size() && i < k; ++i)
    out.push_back(sp::layout_id(r.ranked[i].candidate.plan, r.ranked[i].candidate.num_gpus) + " " +
                  std::to_string(r.ranked[i].step_time_s));
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
}  // namespace

TEST_CASE("planted optimum: on one GPU the least recomputation wins, at its closed-form time", "[plan]") {
  // Nothing communicates on one GPU, so each layout's step is its compute (the bound, exact:
  // step_bound_test) and recomputation only adds forward work: none < selective < full.
  const auto s = scenario({"cluster.num_gpus=1", "plan.dp=1", "plan.global_batch=4", "model.layers=4"});
  model::SearchSpace space;
  space.micro_batch = {1};
  space.schedules = {model::Schedule::one_f_one_b};
  space.recompute = {model::Recompute::full, model::Recompute::selective, model::Recompute::none};
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

TEST_CASE("the same ranking with one thread or many, sharded or not", "[plan]") {
  const auto s = scenario({"cluster.num_gpus=64", "plan.dp=64", "plan.global_batch=128"});
  const sim::StepSimulator simulator;
  sp::PlannerOptions one, two;
  one.threads = 1;
  two.threads = 2;
  const auto a = sp::search_layouts(s, small_space(), one, simulator);
  const auto b = sp::search_layouts(s, small_space(), two, sim::StepSimulator{});
  CHECK(ids(a, 100) == ids(b, 100));
  CHECK(a.counts.simulated == b.counts.simulated);
  std::vector<sp::SearchResult> shards;
  for (int i = 0; i < 3; ++i) {
    sp::PlannerOptions o;
    o.shard = i;
    o.shards = 3;
    shards.push_back(sp::search_layouts(s, small_space(), o, simulator));
  }
  auto merged = sp::merge_shards(shards);
  CHECK(ids(merged, 5) == ids(a, 5));
  CHECK(merged.counts.valid == a.counts.valid);
  CHECK(merged.counts.invalid == a.counts.invalid);
  CHECK(merged.counts.out_of_memory == a.counts.out_of_memory);
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
