// Speed of simulated training steps (docs/performance.md): one step on a fresh platform, one more
// layout on a shared platform, and a planner's batch of 1,000 layouts from 2 threads.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "herd/model/error.hpp"
#include "herd/sim/step/step_simulator.hpp"

namespace {

using herd::model::parse_override;

herd::model::Scenario scenario(int gpus) {
  // Llama 3 405B, TP 8, PP 16, FSDP over the rest; 16 micro-batches per DP rank.
  const int dp = gpus / 128;
  std::vector<herd::model::Override> o{parse_override("cluster.num_gpus=" + std::to_string(gpus)),
                                       parse_override("plan.dp=" + std::to_string(dp)),
                                       parse_override("plan.global_batch=" + std::to_string(16 * dp))};
  return herd::model::default_scenario(o);
}

// Valid layouts of Llama 3 405B on 16,384 H100 (16M tokens per step at 8K), in the order a
// planner would enumerate them: degrees outermost, then virtual stages, micro-batch, recomputation
// and sharding. `degrees_only` keeps one layout per (tp, cp, pp).
std::vector<herd::model::Scenario> layouts_16k(bool degrees_only) {
  std::vector<herd::model::Scenario> out;
  for (int tp : {8, 4, 2, 1})
    for (int cp : {1, 2})
      for (int pp : {16, 8, 32}) {
        const std::size_t before = out.size();
        for (int v : {8, 4, 2, 1})
          for (int mb : {1, 2})
            for (const char* recompute : {"none", "selective", "full"})
              for (const char* sharding : {"fsdp", "zero1"}) {
                if (degrees_only && out.size() > before) continue;
                const int dp = 16384 / (tp * cp * pp);
                std::vector<herd::model::Override> o{
                    parse_override("plan.tp=" + std::to_string(tp)), parse_override("plan.cp=" + std::to_string(cp)),
                    parse_override("plan.pp=" + std::to_string(pp)), parse_override("plan.dp=" + std::to_string(dp)),
                    parse_override("plan.virtual_stages=" + std::to_string(v)),
                    parse_override("plan.micro_batch=" + std::to_string(mb)),
                    parse_override(std::string("plan.recompute=") + recompute),
                    parse_override(std::string("plan.dp_sharding=") + sharding),
                    parse_override(std::string("plan.schedule=") + (v > 1 ? "llama3" : "1f1b")),
                    parse_override("plan.round_size=" + std::to_string(pp))};
                try {
                  out.push_back(herd::model::default_scenario(o));
                } catch (const herd::model::InputError&) {
                  // not a valid layout (e.g. the sequence does not split over tp)
                }
              }
      }
  return out;
}

void BM_SymmetricStep(benchmark::State& state) {
  const auto s = scenario(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(herd::sim::simulate_step(s).step_time_s);
  state.SetLabel(std::to_string(state.range(0)) + " GPUs, fresh platform");
}
BENCHMARK(BM_SymmetricStep)->Arg(1024)->Arg(16384)->Arg(65536)->Unit(benchmark::kMillisecond);

// One more layout on a shared platform, none of whose network operations are cached: each
// iteration takes the next (tp, cp, pp) in turn, and the cache keeps one layout.
void BM_NewLayout16K(benchmark::State& state) {
  const auto layouts = layouts_16k(true);
  const herd::sim::StepSimulator simulator(1);
  benchmark::DoNotOptimize(simulator.fabric(layouts.front().cluster));  // the platform is built once
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(simulator.simulate(layouts[i++ % layouts.size()]).step_time_s);
  state.SetLabel(std::to_string(layouts.size()) + " degree tuples in turn");
}
BENCHMARK(BM_NewLayout16K)->Unit(benchmark::kMillisecond);

// The default layout (TP 8, PP 16, DP 128) on a shared platform with nothing cached: the cost of
// one more layout of that size whose network operations no earlier layout prepared.
void BM_DefaultLayoutUncached16K(benchmark::State& state) {
  const auto s = scenario(16384);
  const herd::sim::StepSimulator simulator(0);
  benchmark::DoNotOptimize(simulator.fabric(s.cluster));
  for (auto _ : state) benchmark::DoNotOptimize(simulator.simulate(s).step_time_s);
}
BENCHMARK(BM_DefaultLayoutUncached16K)->Unit(benchmark::kMillisecond);

// The same layout again on a shared platform (everything prepared): the event loop and lowering.
void BM_SameLayout16K(benchmark::State& state) {
  const auto s = scenario(16384);
  const herd::sim::StepSimulator simulator;
  benchmark::DoNotOptimize(simulator.simulate(s).step_time_s);
  for (auto _ : state) benchmark::DoNotOptimize(simulator.simulate(s).step_time_s);
}
BENCHMARK(BM_SameLayout16K)->Unit(benchmark::kMillisecond);

// A planner's batch: 1,000 different layouts of 405B on 16K from 2 threads, one shared platform.
void BM_Layouts1000TwoThreads(benchmark::State& state) {
  auto layouts = layouts_16k(false);
  layouts.resize(std::min<std::size_t>(layouts.size(), 1000));
  for (auto _ : state) {
    const herd::sim::StepSimulator simulator;
    std::vector<double> step(layouts.size());
    tbb::task_arena arena(2);
    arena.execute([&] {
      tbb::parallel_for(std::size_t{0}, layouts.size(), [&](std::size_t i) { step[i] = simulator.simulate(layouts[i]).step_time_s; });
    });
    benchmark::DoNotOptimize(step.data());
  }
  state.SetLabel(std::to_string(layouts.size()) + " layouts");
}
BENCHMARK(BM_Layouts1000TwoThreads)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

// Layouts with few data-parallel ranks and hundreds or thousands of micro-batches (Llama 3 405B,
// 8K sequences, global batch 2,048), on a shared platform with their network prepared: what the
// steady state's repetitions cost. Argument: the layout; second argument 1 replicates repeated
// periods (the default), 0 simulates every period.
const std::vector<std::vector<const char*>> kManyMicrobatches{
    // TP 8, PP 16 on 128 GPUs, DP 1: 2,048 micro-batches.
    {"cluster.num_gpus=128", "plan.dp=1", "plan.schedule=1f1b", "plan.virtual_stages=1"},
    {"cluster.num_gpus=128", "plan.dp=1", "plan.schedule=zero_bubble", "plan.virtual_stages=1", "plan.recompute=full"},
    {"cluster.num_gpus=128", "plan.dp=1", "plan.schedule=interleaved", "plan.virtual_stages=2", "plan.micro_batch=2"},
    {"cluster.num_gpus=128", "plan.dp=1"},  // the scenario's llama3 schedule, V 8
    // DP 2 over the network: 1,024 micro-batches.
    {"cluster.num_gpus=256", "plan.dp=2", "plan.schedule=1f1b", "plan.virtual_stages=1", "plan.dp_sharding=zero1"},
    {"cluster.num_gpus=256", "plan.dp=2", "plan.schedule=1f1b", "plan.virtual_stages=1"},  // FSDP, every micro-batch reduced
    // 16,384 GPUs: CP over the network, DP 2 or 4.
    {"plan.cp=16", "plan.pp=64", "plan.dp=2", "plan.virtual_stages=1", "plan.schedule=1f1b"},
    {"plan.cp=16", "plan.pp=64", "plan.dp=2", "plan.virtual_stages=2"},
    {"plan.cp=16", "plan.pp=32", "plan.dp=4", "plan.virtual_stages=4", "plan.schedule=interleaved", "plan.micro_batch=2",
     "plan.recompute=selective"},
    {"plan.cp=8", "plan.pp=16", "plan.dp=16", "plan.virtual_stages=8", "plan.dp_sharding=zero1"},
};


herd::model::Scenario many_microbatches(std::size_t i) {
  std::vector<herd::model::Override> o;
  for (const char* t : kManyMicrobatches[i]) o.push_back(parse_override(t));
  return herd::model::default_scenario(o);
}

void BM_ManyMicrobatches(benchmark::State& state) {
  const auto s = many_microbatches(static_cast<std::size_t>(state.range(0)));
  const herd::sim::StepSimulator simulator;
  herd::sim::StepOptions opt;
  opt.skip_repeats = state.range(1) != 0;
  const auto first = simulator.simulate(s, opt);
  for (auto _ : state) benchmark::DoNotOptimize(simulator.simulate(s, opt).step_time_s);
  const auto& p = s.plan;
  state.SetLabel("TP " + std::to_string(p.tp) + " CP " + std::to_string(p.cp) + " PP " + std::to_string(p.pp) + " V " +
                 std::to_string(p.virtual_stages) + " DP " + std::to_string(p.dp) + ", " +
                 std::to_string(p.microbatches()) + " micro-batches, " + std::to_string(first.replicated_periods) +
                 " periods replicated, " + std::to_string(first.events) + " events");
}
BENCHMARK(BM_ManyMicrobatches)
    ->ArgsProduct({benchmark::CreateDenseRange(0, 9, 1), {1, 0}})
    ->Unit(benchmark::kMillisecond);

void BM_PerRankStep(benchmark::State& state) {
  const auto s = scenario(static_cast<int>(state.range(0)));
  herd::sim::StepOptions opt;
  opt.per_rank = true;
  for (auto _ : state) benchmark::DoNotOptimize(herd::sim::simulate_step(s, opt).step_time_s);
  state.SetLabel(std::to_string(state.range(0)) + " GPUs");
}
BENCHMARK(BM_PerRankStep)->Arg(1024)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
