// Speed of one simulated training step (docs/performance.md).
#include <benchmark/benchmark.h>

#include "herd/sim/step/step_simulator.hpp"

namespace {

herd::model::Scenario scenario(int gpus) {
  // Llama 3 405B, TP 8, PP 16, FSDP over the rest; 16 micro-batches per DP rank.
  const int dp = gpus / 128;
  std::vector<herd::model::Override> o{herd::model::parse_override("cluster.num_gpus=" + std::to_string(gpus)),
                                       herd::model::parse_override("plan.dp=" + std::to_string(dp)),
                                       herd::model::parse_override("plan.global_batch=" + std::to_string(16 * dp))};
  return herd::model::default_scenario(o);
}

void BM_SymmetricStep(benchmark::State& state) {
  const auto s = scenario(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(herd::sim::simulate_step(s).step_time_s);
  state.SetLabel(std::to_string(state.range(0)) + " GPUs");
}
BENCHMARK(BM_SymmetricStep)->Arg(1024)->Arg(16384)->Arg(65536)->Unit(benchmark::kMillisecond);

void BM_PerRankStep(benchmark::State& state) {
  const auto s = scenario(static_cast<int>(state.range(0)));
  herd::sim::StepOptions opt;
  opt.per_rank = true;
  for (auto _ : state) benchmark::DoNotOptimize(herd::sim::simulate_step(s, opt).step_time_s);
  state.SetLabel(std::to_string(state.range(0)) + " GPUs");
}
BENCHMARK(BM_PerRankStep)->Arg(1024)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
