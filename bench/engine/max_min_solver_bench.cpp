// Cost of one rate update (remove an activity, add another, re-solve) as the activity count
// grows, on a leaf-spine fabric: many small components versus one big component.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "herd/engine/max_min_solver.hpp"
#include "two_tier_fabric.hpp"

using namespace herd::engine;
using herd::engine::bench::RingWorkload;
using herd::engine::bench::TwoTierFabric;

namespace {

constexpr int kHostsPerLeaf = 32;
constexpr int kSpines = 16;
constexpr int kActivitiesPerHost = 4;
constexpr int kHostsPerGroup = 4;

enum Shape : int { kSmallComponents = 0, kOneComponent = 1 };

// Routes of random transfers, drawn up front. Small components: transfers stay inside groups
// of 4 hosts under one leaf (a tensor-parallel group, say), so a component is ~16 activities
// over 8 host ports. One component: transfers between hosts of different leaves, all joined
// through the spine links.
std::vector<std::vector<ResourceUse>> random_routes(const TwoTierFabric& fabric, Shape shape,
                                                    std::size_t count, unsigned seed) {
  std::mt19937 random(seed);
  std::vector<std::vector<ResourceUse>> routes(count);
  for (auto& uses : routes) {
    int source = static_cast<int>(random() % static_cast<unsigned>(fabric.hosts));
    int destination;
    if (shape == kSmallComponents) {
      const int group_start = source - source % kHostsPerGroup;
      do {
        destination = group_start + static_cast<int>(random() % kHostsPerGroup);
      } while (destination == source);
    } else {
      do {
        destination = static_cast<int>(random() % static_cast<unsigned>(fabric.hosts));
      } while (fabric.leaf_of(destination) == fabric.leaf_of(source));
    }
    fabric.route(source, destination, uses);
  }
  return routes;
}

void BM_RateUpdate(benchmark::State& state) {
  const auto activities = static_cast<std::size_t>(state.range(0));
  const auto shape = static_cast<Shape>(state.range(1));
  MaxMinSolver solver;
  const TwoTierFabric fabric(solver, static_cast<int>(activities / kActivitiesPerHost),
                             kHostsPerLeaf, kSpines);
  const auto initial = random_routes(fabric, shape, activities, 1);
  const auto replacements = random_routes(fabric, shape, 4096, 2);
  std::vector<ActivityId> live;
  for (const auto& uses : initial) live.push_back(solver.add_activity(uses));
  solver.solve();
  std::mt19937 random(3);
  std::size_t next = 0;
  double resolved = 0;
  for (auto _ : state) {
    const std::size_t victim = random() % live.size();
    solver.remove_activity(live[victim]);
    live[victim] = solver.add_activity(replacements[next++ % replacements.size()]);
    solver.solve();
    resolved += static_cast<double>(solver.last_solve_stats().activities);
  }
  state.counters["resolved_per_update"] = resolved / static_cast<double>(state.iterations());
  state.counters["activity_rates_per_s"] =
      benchmark::Counter(resolved, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RateUpdate)
    ->ArgNames({"activities", "one_component"})
    ->ArgsProduct({{1 << 10, 1 << 14, 1 << 17}, {kSmallComponents, kOneComponent}})
    ->Unit(benchmark::kMicrosecond);

// 128 ring collectives of 512 uses each in one component: restart one ring, re-solve all.
void BM_RingCollectiveUpdate(benchmark::State& state) {
  MaxMinSolver solver;
  const TwoTierFabric fabric = RingWorkload::fabric(solver);
  std::vector<std::vector<ResourceUse>> rings;
  std::vector<ActivityId> live;
  for (int r = 0; r < RingWorkload::kRings; ++r) {
    rings.push_back(RingWorkload::ring_uses(fabric, r));
    live.push_back(solver.add_activity(rings.back()));
  }
  solver.solve();
  std::size_t next = 0;
  for (auto _ : state) {
    const std::size_t ring = next++ % live.size();
    solver.remove_activity(live[ring]);
    live[ring] = solver.add_activity(rings[ring]);
    solver.solve();
  }
  state.counters["resource_uses"] = static_cast<double>(solver.last_solve_stats().resource_uses);
}
BENCHMARK(BM_RingCollectiveUpdate)->Unit(benchmark::kMicrosecond);

}  // namespace
