// Building the fabric graph of the Llama 3 cluster and routing on it.
// Figures: docs/performance.md ("Network").
#include <benchmark/benchmark.h>

#include <vector>

#include "herd/model/scenario.hpp"
#include "herd/model/topology.hpp"

using namespace herd::model;

namespace {

ClusterSpec llama3(int gpus) {
  ClusterSpec c = default_scenario().cluster;
  c.num_gpus = gpus;
  return c;
}

// The 24,576-GPU Llama 3 RoCE cluster (8 pods), graph and routing structure.
void BM_BuildLlama3Topology(benchmark::State& state) {
  const ClusterSpec c = llama3(static_cast<int>(state.range(0)));
  std::size_t links = 0;
  for (auto _ : state) {
    const Topology t(c);
    links = t.links().size();
    benchmark::DoNotOptimize(links);
  }
  state.counters["links"] = static_cast<double>(links);
}
BENCHMARK(BM_BuildLlama3Topology)->Arg(24576)->Arg(131072)->Unit(benchmark::kMillisecond);

// Build, then route one transfer from every GPU to the GPU 4,096 further on (crossing pods),
// each split over 16 ECMP flows.
void BM_BuildAndRouteEveryGpu(benchmark::State& state) {
  const ClusterSpec c = llama3(24576);
  std::vector<LinkShare> shares;
  for (auto _ : state) {
    const Topology t(c);
    std::size_t total = 0;
    for (int g = 0; g < t.num_gpus(); ++g) {
      shares.clear();
      t.route(g, (g + 4096) % t.num_gpus(), shares);
      total += shares.size();
    }
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(state.iterations() * 24576);
}
BENCHMARK(BM_BuildAndRouteEveryGpu)->Unit(benchmark::kMillisecond);

}  // namespace
