// The step's network preparation: prepared operations and the contended network come back from
// the cache as the very objects prepared before, equal to freshly prepared ones.
#include <catch2/catch.hpp>

#include "herd/model/compute_cost.hpp"
#include "herd/sim/step/comm_plan.hpp"

using namespace herd;

TEST_CASE("prepared network operations are shared through the cache and equal to fresh ones", "[step][network]") {
  const auto s = model::load_scenario("llama3-405b-16k");
  const model::ComputeCostModel cost(s.cluster.gpu);
  const auto plan = sim::lower_step(s, cost);
  const auto fabric = std::make_shared<const sim::Fabric>(s.cluster);
  sim::CommCache cache(2);
  const auto fresh = sim::prepare_comm(*fabric, s, plan, false);
  const auto first = sim::prepare_comm(*fabric, s, plan, false, &cache);
  const auto second = sim::prepare_comm(*fabric, s, plan, false, &cache);
  CHECK(cache.misses() == plan.net_ops.size() + 1);  // every block, and the contended network
  CHECK(cache.hits() == plan.net_ops.size() + 1);
  CHECK(first->network == second->network);
  REQUIRE(fresh->entries.size() == second->entries.size());
  CHECK(fresh->network->resources == second->network->resources);
  CHECK(fresh->network->rate_bound == second->network->rate_bound);
  CHECK(fresh->network->uses == second->network->uses);
  for (std::size_t i = 0; i < fresh->entries.size(); ++i) {
    const auto& x = fresh->entries[i];
    const auto& y = second->entries[i];
    CHECK(first->entries[i].op == y.op);  // the same prepared operation, not a copy
    CHECK(x.network == y.network);
    CHECK(x.op->latency_s == y.op->latency_s);
    REQUIRE(x.op->loads->size() == y.op->loads->size());
    for (std::size_t k = 0; k < x.op->loads->size(); ++k) {
      CHECK((*x.op->loads)[k].slot == (*y.op->loads)[k].slot);
      CHECK((*x.op->loads)[k].weight == (*y.op->loads)[k].weight);
    }
  }
}
