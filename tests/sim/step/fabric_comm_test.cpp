// The step's communication on the fluid network: a stage's collective summed over its groups as
// one activity takes the time the network gives all those groups run side by side (symmetry), and
// links no other stream can load turn into rate bounds without changing the answer.
#include <catch2/catch.hpp>

#include "herd/model/compute_cost.hpp"
#include "herd/model/memory.hpp"
#include "herd/model/placement.hpp"
#include "herd/sim/network/network.hpp"
#include "herd/sim/step/fabric_comm.hpp"

using namespace herd;

namespace {
double time_of(engine::Simulation& sim, const std::function<void(engine::EventCallback)>& start) {
  const engine::Time t0 = sim.now();
  engine::Time t1 = -1;
  start([&] { t1 = sim.now(); });
  sim.run();
  return engine::to_seconds(t1 - t0);
}

// The plan's network operation for a collective of `stage`, or -1.
int net_index(const sim::StepPlan& plan, sim::CommGroup g, model::Collective op, int stage, double bytes) {
  for (std::size_t i = 0; i < plan.net_ops.size(); ++i) {
    const auto& n = plan.net_ops[i];
    if (!n.transfer && n.group == g && n.op == op && n.stage == stage && n.bytes == bytes) return static_cast<int>(i);
  }
  return -1;
}
}  // namespace

TEST_CASE("a stage's data-parallel collective equals its groups run together in the network", "[step][network]") {
  for (const char* name : {"llama3-405b-16k", "llama3-405b-128k"}) {
    INFO(name);
    const auto s = model::load_scenario(name);
    const model::ComputeCostModel cost(s.cluster.gpu);
    const auto plan = sim::lower_step(s, cost);
    const auto fabric = std::make_shared<const sim::Fabric>(s.cluster);
    const double bytes = 4.0 * model::shard_parameters(s.model, s.plan).layer;  // one layer's FP32 gradients
    const int net = net_index(plan, sim::CommGroup::dp_cp, model::Collective::reduce_scatter, 3, bytes);
    REQUIRE(net >= 0);

    engine::Simulation a;
    sim::FabricComm comm(a, *fabric, sim::prepare_comm(*fabric, s, plan, false));
    sim::CollectiveCall call;
    call.op = model::Collective::reduce_scatter;
    call.group = sim::CommGroup::dp_cp;
    call.stage = 3;
    call.bytes = bytes;
    call.net = net;
    const double summed = time_of(a, [&](engine::EventCallback done) { comm.start(a, call, std::move(done)); });

    engine::Simulation b;
    sim::Network network(b, fabric);
    std::vector<std::vector<int>> groups;
    const model::RankLayout layout(s.plan, s.cluster);
    const std::vector<model::Axis> axes{model::Axis::cp, model::Axis::dp};
    for (auto& g : layout.groups(axes))
      if (layout.coords(g.front())[model::Axis::pp] == 3) groups.push_back(g);
    REQUIRE(groups.size() == static_cast<std::size_t>(s.plan.tp));
    double separate = 0;
    network.start_collective({model::Collective::reduce_scatter, groups, bytes, {}},
                             [&](const sim::CollectiveResult& r) { separate = r.time_s(); });
    b.run();
    CHECK(summed == Approx(separate).epsilon(1e-6));
  }
}
