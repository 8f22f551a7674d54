// Whole fluid simulations: every activity started, run until all have completed.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "herd/engine/fluid_system.hpp"
#include "two_tier_fabric.hpp"

using namespace herd::engine;
using herd::engine::bench::RingWorkload;
using herd::engine::bench::TwoTierFabric;

namespace {

// 128 concurrent ring collectives over 16,384 GPUs (512 resource uses each, one component),
// sizes 256 MiB to 1.75 GiB so that they finish at different times: 128 completions, each
// re-solving the whole component.
void BM_RingCollectivesToCompletion(benchmark::State& state) {
  std::vector<std::vector<ResourceUse>> rings;
  Time finished = 0;
  for (auto _ : state) {
    Simulation simulation;
    FluidSystem fluid(simulation);
    const TwoTierFabric fabric = RingWorkload::fabric(fluid);
    if (rings.empty()) {
      for (int r = 0; r < RingWorkload::kRings; ++r)
        rings.push_back(RingWorkload::ring_uses(fabric, r));
    }
    for (int r = 0; r < RingWorkload::kRings; ++r) {
      const double bytes = (1 + r % 7) * 256.0 * (1 << 20);
      fluid.start(bytes, rings[static_cast<std::size_t>(r)], nullptr,
                  {.start_latency = r * kMicrosecond});
    }
    simulation.run();
    finished = simulation.now();
  }
  state.counters["simulated_s"] = to_seconds(finished);
  state.SetItemsProcessed(state.iterations() * RingWorkload::kRings);
}
BENCHMARK(BM_RingCollectivesToCompletion)->Unit(benchmark::kMillisecond);

// Many small transfers: `count` transfers inside groups of 4 hosts on a leaf-spine fabric
// (small components), or across leaves (one component), staggered over 1 ms.
void BM_SmallTransfersToCompletion(benchmark::State& state) {
  const auto count = static_cast<int>(state.range(0));
  const bool one_component = state.range(1) != 0;
  std::mt19937 random(5);
  std::uniform_real_distribution<double> bytes(1e5, 1e7);
  std::uniform_int_distribution<Time> start(0, kMillisecond);
  for (auto _ : state) {
    Simulation simulation;
    FluidSystem fluid(simulation);
    const TwoTierFabric fabric(fluid, count / 4, 32, 16);
    std::vector<ResourceUse> uses;
    for (int k = 0; k < count; ++k) {
      const int source = static_cast<int>(random() % static_cast<unsigned>(fabric.hosts));
      int destination = source;
      while (destination == source ||
             (one_component && fabric.leaf_of(destination) == fabric.leaf_of(source))) {
        destination = one_component
                          ? static_cast<int>(random() % static_cast<unsigned>(fabric.hosts))
                          : source - source % 4 + static_cast<int>(random() % 4);
      }
      uses.clear();
      fabric.route(source, destination, uses);
      fluid.start(bytes(random), uses, nullptr, {.start_latency = start(random)});
    }
    simulation.run();
    state.counters["events"] = static_cast<double>(simulation.events_executed());
  }
  state.SetItemsProcessed(state.iterations() * count);
}
BENCHMARK(BM_SmallTransfersToCompletion)
    ->ArgNames({"transfers", "one_component"})
    ->Args({1 << 10, 0})
    ->Args({1 << 14, 0})
    ->Args({1 << 17, 0})
    ->Args({1 << 10, 1})
    ->Args({1 << 12, 1})
    ->Unit(benchmark::kMillisecond);

}  // namespace
