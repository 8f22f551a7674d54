// The fluid network on the Llama 3 16K fabric: concurrent DP all-gathers, engine events per
// second under many point-to-point transfers, and the max-min solver's cost per rate update as
// the number of flows grows. Figures: docs/performance.md ("Network").
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <memory>
#include <random>
#include <vector>

#include "herd/engine/simulation.hpp"
#include "herd/model/placement.hpp"
#include "herd/model/scenario.hpp"
#include "herd/sim/network/network.hpp"

using namespace herd;

namespace {

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

std::shared_ptr<const sim::Fabric> fabric_16k() {
  return std::make_shared<const sim::Fabric>(model::default_scenario().cluster);
}

// 128 concurrent 1 GiB all-gathers, one per DP group of 128 ranks, across 16,384 GPUs. The
// fabric is built once (BM_Fabric16K times it); each iteration plans and simulates the call.
void BM_ConcurrentDpAllGathers(benchmark::State& state) {
  const auto fabric = fabric_16k();
  const auto s = model::default_scenario();
  const auto groups = model::RankLayout(s.plan, s.cluster).groups(model::Axis::dp);
  std::uint64_t events = 0;
  for (auto _ : state) {
    engine::Simulation simulation;
    sim::Network network(simulation, fabric);
    double time = 0;
    network.start_collective({model::Collective::all_gather, groups, 1024.0 * 1024 * 1024},
                             [&](const sim::CollectiveResult& r) { time = r.time_s(); });
    simulation.run();
    events = simulation.events_executed();
    benchmark::DoNotOptimize(time);
  }
  state.counters["events"] = static_cast<double>(events);
  state.counters["peak_rss_MB"] = peak_rss_mb();
}
BENCHMARK(BM_ConcurrentDpAllGathers)->Unit(benchmark::kMillisecond);

void BM_Fabric16K(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(fabric_16k());
}
BENCHMARK(BM_Fabric16K)->Unit(benchmark::kMillisecond);

// Engine throughput: `count` point-to-point transfers of 1-64 MiB between random GPUs, started
// at random times over 10 ms; every start and end is an event and a rate update.
void BM_RandomTransfersEventsPerSecond(benchmark::State& state) {
  const auto fabric = fabric_16k();
  const auto count = static_cast<int>(state.range(0));
  std::uint64_t events = 0;
  for (auto _ : state) {
    std::mt19937 random(11);
    std::uniform_int_distribution<int> rank(0, fabric->gpus() - 1);
    std::uniform_real_distribution<double> bytes(1 << 20, 64 << 20);
    std::uniform_int_distribution<engine::Time> when(0, 10 * engine::kMillisecond);
    engine::Simulation simulation;
    sim::Network network(simulation, fabric);
    for (int i = 0; i < count; ++i) {
      const int a = rank(random), b = rank(random);
      const double size = bytes(random);
      simulation.schedule_at(when(random), [&network, a, b, size] { network.send(a, b, size, {}); });
    }
    simulation.run();
    events += simulation.events_executed();
  }
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RandomTransfersEventsPerSecond)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// Solver cost per rate update: `flows` long transfers between random GPUs are running; each
// iteration starts one more (after its path latency it joins the solver: one rate update).
// Transfers crossing ToRs share the pods' uplink bundles, so most of them form one component
// that every update re-solves. (The count grows by one per iteration: 100 at most.)
void BM_RateUpdate(benchmark::State& state) {
  const auto fabric = fabric_16k();
  const auto flows = static_cast<int>(state.range(0));
  engine::Simulation simulation;
  sim::Network network(simulation, fabric);
  std::mt19937 random(3);
  std::uniform_int_distribution<int> rank(0, fabric->gpus() - 1);
  for (int i = 0; i < flows; ++i) network.send(rank(random), rank(random), 1e15, {});
  simulation.run_until(engine::kMillisecond);  // past every path latency: all flows are flowing
  std::size_t resolved = 0;
  for (auto _ : state) {
    network.send(rank(random), rank(random), 1e15, {});
    simulation.run_until(simulation.now() + 20 * engine::kMicrosecond);
    resolved += network.fluid().solver().last_solve_stats().activities;
  }
  state.SetItemsProcessed(state.iterations());  // rate updates
  state.counters["flows_resolved_per_update"] = static_cast<double>(resolved) / static_cast<double>(state.iterations());
  state.counters["peak_rss_MB"] = peak_rss_mb();
}
BENCHMARK(BM_RateUpdate)->Arg(1000)->Arg(16000)->Arg(128000)->Iterations(100)->Unit(benchmark::kMillisecond);

}  // namespace
