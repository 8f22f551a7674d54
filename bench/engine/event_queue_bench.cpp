// Events per second of the Simulation's queue.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "herd/engine/simulation.hpp"

using namespace herd::engine;

namespace {

// Pseudo-random delays, drawn once so the timed loop measures the queue, not the generator.
std::vector<Time> random_delays(std::size_t count) {
  std::mt19937_64 random(42);
  std::uniform_int_distribution<Time> delay(1, 1'000'000);
  std::vector<Time> delays(count);
  for (Time& d : delays) d = delay(random);
  return delays;
}

// The classic "hold" model: `pending` events in the queue; each event, when run, schedules one
// more at a random delay. One iteration = one schedule + one pop + one callback.
struct Hold {
  Simulation* simulation;
  const std::vector<Time>* delays;
  std::size_t next = 0;
  void reschedule() {
    const Time delay = (*delays)[next++ & (delays->size() - 1)];
    simulation->schedule_after(delay, [this] { reschedule(); });
  }
};

void BM_HoldScheduleAndRun(benchmark::State& state) {
  const auto pending = static_cast<std::size_t>(state.range(0));
  const std::vector<Time> delays = random_delays(1 << 16);
  Simulation simulation;
  Hold hold{&simulation, &delays};
  for (std::size_t k = 0; k < pending; ++k) hold.reschedule();
  for (auto _ : state) simulation.step();
  state.SetItemsProcessed(state.iterations());
  state.counters["pending"] = static_cast<double>(simulation.events_pending());
}
BENCHMARK(BM_HoldScheduleAndRun)->Arg(1 << 10)->Arg(1 << 16)->Arg(1 << 20);

// Fill the queue with `count` events, then run them all: schedule + pop per item.
void BM_FillThenDrain(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  const std::vector<Time> delays = random_delays(1 << 16);
  std::uint64_t sum = 0;
  for (auto _ : state) {
    Simulation simulation;
    for (std::size_t k = 0; k < count; ++k) {
      simulation.schedule_at(delays[k & 0xFFFF], [&sum] { ++sum; });
    }
    simulation.run();
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(count));
}
BENCHMARK(BM_FillThenDrain)->Arg(1 << 10)->Arg(1 << 20);

// The FluidSystem pattern: one event cancelled and rescheduled over and over among `pending`
// others (tombstones are compacted away).
void BM_CancelAndReschedule(benchmark::State& state) {
  const auto pending = static_cast<std::size_t>(state.range(0));
  const std::vector<Time> delays = random_delays(1 << 16);
  Simulation simulation;
  for (std::size_t k = 0; k < pending; ++k) simulation.schedule_at(delays[k & 0xFFFF], [] {});
  EventId moving = simulation.schedule_at(1, [] {});
  std::size_t next = 0;
  for (auto _ : state) {
    simulation.cancel(moving);
    moving = simulation.schedule_at(delays[next++ & 0xFFFF], [] {});
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CancelAndReschedule)->Arg(1 << 10)->Arg(1 << 16);

}  // namespace
