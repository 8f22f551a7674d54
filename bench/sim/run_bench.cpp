// Monte Carlo speed of the training-run simulation: the Llama 3 405B job on 16,384 GPUs over the
// 54-day window of its reliability snapshot (~466 interruptions per trial, a checkpoint every few
// minutes), 1,000 trials. Goal (issue 5): under 2 s on 2 cores. Figures in docs/performance.md.
#include <benchmark/benchmark.h>

#include <tbb/global_control.h>

#include "herd/sim/run/run_simulation.hpp"

using namespace herd::sim::run;

namespace {

const RunSimulation& llama3_54_days() {
  static const RunSimulation sim = [] {
    using herd::model::Override;
    const auto s = herd::model::default_scenario(std::vector<Override>{
        {"run.window", "54 d", "run.window=54 d"}, {"run.tokens", nullptr, "run.tokens=null"},
        {"run.step_time", "6.5 s", "run.step_time=6.5 s"}});
    return RunSimulation(s, prefer_given_step_time(s, roofline_step_time_source()));
  }();
  return sim;
}

// 1,000 trials at a fixed interval (Young's, 4.2 min): the Monte Carlo alone. Arg: threads.
void BM_Trials54Days16K(benchmark::State& state) {
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(state.range(0)));
  const auto& sim = llama3_54_days();
  const double interval = young_interval(sim.model().checkpoint.stall_s, sim.model().mtbf_s());
  for (auto _ : state) benchmark::DoNotOptimize(sim.trials(1, 1000, interval));
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_Trials54Days16K)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// What `herd train` does: the simulated optimum (17 evaluations of 1,000 trials) and the report.
void BM_Report54Days16K(benchmark::State& state) {
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(state.range(0)));
  const auto& sim = llama3_54_days();
  for (auto _ : state) benchmark::DoNotOptimize(sim.run(1000, 1));
}
BENCHMARK(BM_Report54Days16K)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// One trial, single-threaded: the cost per interruption.
void BM_OneTrial54Days16K(benchmark::State& state) {
  const auto& sim = llama3_54_days();
  std::uint64_t trial = 0;
  for (auto _ : state) benchmark::DoNotOptimize(simulate_trial(sim.model(), 1, trial++, 250.0));
}
BENCHMARK(BM_OneTrial54Days16K)->Unit(benchmark::kMicrosecond);

}  // namespace
