// The layout space: every combination is either a layout or counted under one reason, shards
// partition the layouts, layout ids round-trip, and a candidate built from typed fields is the
// scenario --set would build.
#include <catch2/catch.hpp>

#include <set>

#include "herd/model/error.hpp"
#include "plan_fixtures.hpp"
#include "herd/sim/plan/search_space.hpp"
#include "herd/sim/plan/planner.hpp"

using namespace herd;
using herd::test::scenario;
namespace sp = herd::sim::plan;


TEST_CASE("every combination is a layout or counted invalid, once", "[plan]") {
  const auto s = scenario({});
  const auto space = sp::complete_space(s, {});
  const auto all = sp::enumerate_layouts(s, space);
  CHECK(all.combinations == std::int64_t(all.candidates.size()) + all.invalid_total());
  CHECK(all.candidates.size() > 100);
  // Each candidate passes the plan's own checks and names its GPU count.
  for (const auto& c : all.candidates) {
    model::ClusterSpec cluster = s.cluster;
    cluster.num_gpus = c.num_gpus;
    REQUIRE_NOTHROW(model::validate_plan(c.plan, s.model, cluster));
    REQUIRE(c.plan.gpus() == c.num_gpus);
  }
}

TEST_CASE("a TP that does not divide the heads rejects everything below it", "[plan]") {
  const auto s = scenario({});
  model::SearchSpace space;
  space.tp = {3, 5};  // Llama 3 8B has 32 heads
  const auto full = sp::complete_space(s, space);
  const auto e = sp::enumerate_layouts(s, full);
  CHECK(e.candidates.empty());
  CHECK(e.invalid[static_cast<std::size_t>(sp::Invalid::tensor_parallel)] == e.combinations);
}

TEST_CASE("shards partition the layouts by index", "[plan]") {
  const auto s = scenario({});
  const auto space = sp::complete_space(s, {});
  const auto all = sp::enumerate_layouts(s, space);
  std::set<std::int64_t> seen;
  std::size_t total = 0;
  for (int i = 0; i < 3; ++i) {
    const auto part = sp::enumerate_layouts(s, space, i, 3);
    CHECK(part.invalid == all.invalid);  // each shard counts every invalid combination
    for (const auto& c : part.candidates) {
      CHECK(c.index % 3 == i);
      seen.insert(c.index);
    }
    total += part.candidates.size();
  }
  CHECK(total == all.candidates.size());
  CHECK(seen.size() == all.candidates.size());
  CHECK_THROWS_AS(sp::enumerate_layouts(s, space, 3, 3), model::ValueError);
}

TEST_CASE("layout ids round-trip and build the scenario --set would", "[plan]") {
  const auto s = scenario({});
  model::SearchSpace narrow;
  narrow.pp = {1, 2, 4};
  narrow.micro_batch = {1, 2};
  const auto e = sp::enumerate_layouts(s, sp::complete_space(s, narrow));
  REQUIRE(e.candidates.size() > 20);
  const sim::StepSimulator simulator;
  for (std::size_t i = 0; i < e.candidates.size(); i += e.candidates.size() / 7) {
    const auto& c = e.candidates[i];
    const std::string id = sp::layout_id(c.plan, c.num_gpus);
    INFO(id);
    model::PlanSpec p = s.plan;
    int gpus = 0;
    sp::parse_layout(id, p, gpus);
    CHECK(sp::layout_id(p, gpus) == id);
    // The typed candidate and the scenario built through overrides simulate alike.
    const auto full = model::with_overrides(s, sp::layout_overrides(c.plan, c.num_gpus), "test");
    CHECK(sp::layout_id(full.plan, full.cluster.num_gpus) == id);
    const auto a = simulator.simulate(sp::candidate_scenario(s, c));
    const auto b = simulator.simulate(full);
    CHECK(a.step_time_s == b.step_time_s);
    CHECK(a.memory.stages.size() == b.memory.stages.size());
  }
}

TEST_CASE("a bad layout text names the key", "[plan]") {
  model::PlanSpec p;
  int gpus = 8;
  CHECK_THROWS_WITH(sp::parse_layout("tp=8,xx=1", p, gpus), Catch::Contains("/layout/xx"));
  CHECK_THROWS_WITH(sp::parse_layout("schedule=fast", p, gpus), Catch::Contains("/layout/schedule"));
  CHECK_THROWS_WITH(sp::parse_layout("tp=-1", p, gpus), Catch::Contains("/layout/tp"));
  CHECK_THROWS_WITH(sp::parse_layout("order=tp-cp", p, gpus), Catch::Contains("/layout/order"));
}
