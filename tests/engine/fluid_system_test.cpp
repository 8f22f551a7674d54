// Fluid activities against completion times derived by hand.
#include "herd/engine/fluid_system.hpp"
#include "herd/engine/time_overflow.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "reference_max_min.hpp"

using namespace herd::engine;

namespace {

// Records when each activity completed.
struct Recorder {
  Simulation* simulation;
  std::vector<std::pair<FluidActivityId, Time>> completions;
  CompletionCallback callback() {
    return [this](FluidActivityId id) { completions.emplace_back(id, simulation->now()); };
  }
  Time at(FluidActivityId id) const {
    for (const auto& [done, when] : completions) {
      if (done == id) return when;
    }
    return kTimeNever;
  }
};

std::vector<ResourceUse> over(ResourceId resource) { return {{resource}}; }

}  // namespace

TEST_CASE("S units alone on capacity B finish at S / B", "[fluid_system]") {
  // 1e9 bytes at 1e8 bytes/s: 10 s.
  Simulation simulation;
  FluidSystem fluid(simulation);
  Recorder recorder{&simulation, {}};
  const ResourceId link = fluid.add_resource(1e8);
  const FluidActivityId transfer = fluid.start(1e9, over(link), recorder.callback());
  CHECK(fluid.rate(transfer) == 1e8);
  CHECK(fluid.expected_completion(transfer) == 10 * kSecond);
  simulation.run();
  CHECK(recorder.at(transfer) == 10 * kSecond);
  CHECK(fluid.active_count() == 0);
  CHECK_FALSE(fluid.contains(transfer));
}

TEST_CASE("work at a rate so small that it ends past 64-bit time is TimeOverflow, not never", "[fluid_system]") {
  // 1e9 bytes at 1e-300 bytes/s: 1e309 s, far past the 2^63 ns (~292 years) time can hold. The
  // activity progresses, so "never" (which a step simulation reads as a deadlock) would be wrong.
  Simulation simulation;
  FluidSystem fluid(simulation);
  Recorder recorder{&simulation, {}};
  const ResourceId link = fluid.add_resource(1e-300);
  const FluidActivityId transfer = fluid.start(1e9, over(link), recorder.callback());
  CHECK_THROWS_AS(fluid.expected_completion(transfer), TimeOverflow);
}

TEST_CASE("two sharing: the first to finish hands its share to the other", "[fluid_system]") {
  // B = 100, S_a = 100, S_b = 300. Both at B/2 = 50 until a is done: t_a = 2 S_a / B = 2 s.
  // b has done 100 by then, its 200 left at the full 100: t_b = (S_a + S_b) / B = 4 s.
  Simulation simulation;
  FluidSystem fluid(simulation);
  Recorder recorder{&simulation, {}};
  const ResourceId link = fluid.add_resource(100);
  const FluidActivityId a = fluid.start(100, over(link), recorder.callback());
  const FluidActivityId b = fluid.start(300, over(link), recorder.callback());
  simulation.run_until(1 * kSecond);
  CHECK(fluid.remaining(b) == Approx(250));
  CHECK(fluid.rate(b) == 50);
  simulation.run();
  CHECK(recorder.at(a) == 2 * kSecond);
  CHECK(recorder.at(b) == 4 * kSecond);
}

TEST_CASE("a start latency delays the work", "[fluid_system]") {
  // B = 100. b (300 units) starts at 0; a (100 units) at 0 with a 1 s latency. b alone does 100
  // in [0, 1]; then both at 50: a needs 2 s, done at 3 s; b has 100 left at 3 s, done at 4 s.
  Simulation simulation;
  FluidSystem fluid(simulation);
  Recorder recorder{&simulation, {}};
  const ResourceId link = fluid.add_resource(100);
  const FluidActivityId b = fluid.start(300, over(link), recorder.callback());
  const FluidActivityId a =
      fluid.start(100, over(link), recorder.callback(), {.start_latency = kSecond});
  CHECK(fluid.rate(a) == 0);
  CHECK(fluid.remaining(a) == 100);
  CHECK(fluid.bottleneck(a) == kNoResource);
  simulation.run();
  CHECK(recorder.at(a) == 3 * kSecond);
  CHECK(recorder.at(b) == 4 * kSecond);
}

TEST_CASE("completion times are rounded up to the nanosecond", "[fluid_system]") {
  // 1 unit at 3 units/s: 333,333,333.3 ns, completes at 333,333,334 ns.
  Simulation simulation;
  FluidSystem fluid(simulation);
  Recorder recorder{&simulation, {}};
  const ResourceId link = fluid.add_resource(3);
  const FluidActivityId third = fluid.start(1, over(link), recorder.callback());
  simulation.run();
  CHECK(recorder.at(third) == 333'333'334);
}

TEST_CASE("a capacity change keeps the work done so far", "[fluid_system]") {
  // 100 units at 10/s; at 5 s (50 done) the link goes to 50/s: 50 left / 50 = 1 s, done at 6 s.
  Simulation simulation;
  FluidSystem fluid(simulation);
  Recorder recorder{&simulation, {}};
  const ResourceId link = fluid.add_resource(10);
  const FluidActivityId transfer = fluid.start(100, over(link), recorder.callback());
  simulation.schedule_at(5 * kSecond, [&] { fluid.set_capacity(link, 50); });
  simulation.run();
  CHECK(recorder.at(transfer) == 6 * kSecond);
}

TEST_CASE("cancel returns the work left and skips the callback", "[fluid_system]") {
  // 100 units at 10/s, cancelled at 3 s: 70 left. The other one then has the link alone.
  Simulation simulation;
  FluidSystem fluid(simulation);
  Recorder recorder{&simulation, {}};
  const ResourceId link = fluid.add_resource(20);
  const FluidActivityId doomed = fluid.start(100, over(link), recorder.callback());
  const FluidActivityId other = fluid.start(100, over(link), recorder.callback());
  const FluidActivityId never_began =
      fluid.start(5, over(link), recorder.callback(), {.start_latency = 10 * kSecond});
  double left = -1;
  simulation.schedule_at(3 * kSecond, [&] {
    left = fluid.cancel(doomed);
    CHECK(fluid.cancel(never_began) == 5);
  });
  simulation.run();
  CHECK(left == Approx(70));
  CHECK(recorder.at(doomed) == kTimeNever);
  CHECK(recorder.at(never_began) == kTimeNever);
  // other: 30 done in [0, 3] at 10/s, then 70 at 20/s = 3.5 s: done at 6.5 s.
  CHECK(recorder.at(other) == 6'500 * kMillisecond);
}

TEST_CASE("zero capacity stalls an activity until the capacity returns", "[fluid_system]") {
  Simulation simulation;
  FluidSystem fluid(simulation);
  Recorder recorder{&simulation, {}};
  const ResourceId link = fluid.add_resource(0);
  const FluidActivityId stalled = fluid.start(10, over(link), recorder.callback());
  simulation.run();
  CHECK(fluid.contains(stalled));
  CHECK(fluid.expected_completion(stalled) == kTimeNever);
  CHECK(fluid.bottleneck(stalled) == link);
  // At t = 2 s the link comes back at 5/s: 10 / 5 = 2 s more.
  simulation.run_until(2 * kSecond);
  fluid.set_capacity(link, 5);
  simulation.run();
  CHECK(recorder.at(stalled) == 4 * kSecond);
}

TEST_CASE("zero work and unlimited rates complete without time passing", "[fluid_system]") {
  Simulation simulation;
  FluidSystem fluid(simulation);
  Recorder recorder{&simulation, {}};
  const ResourceId unlimited = fluid.add_resource(kUnlimited);
  const FluidActivityId empty = fluid.start(0, over(unlimited), recorder.callback());
  const FluidActivityId instant = fluid.start(1e12, over(unlimited), recorder.callback());
  const FluidActivityId latency_only =
      fluid.start(0, {}, recorder.callback(), {.start_latency = 7});
  simulation.run();
  CHECK(recorder.at(empty) == 0);
  CHECK(recorder.at(instant) == 0);
  CHECK(recorder.at(latency_only) == 7);
}

TEST_CASE("callbacks chain activities and simultaneous ones complete in id order",
          "[fluid_system]") {
  // Three 100-unit transfers back to back at 100/s: done at 1, 2, 3 s. Two identical flows
  // started together complete in the same nanosecond, in id order.
  Simulation simulation;
  FluidSystem fluid(simulation);
  const ResourceId link = fluid.add_resource(100);
  std::vector<Time> chain;
  int left = 3;
  std::function<void(FluidActivityId)> next = [&](FluidActivityId) {
    chain.push_back(simulation.now());
    if (--left > 0) fluid.start(100, over(link), [&next](FluidActivityId id) { next(id); });
  };
  fluid.start(100, over(link), [&next](FluidActivityId id) { next(id); });
  simulation.run();
  CHECK(chain == std::vector<Time>{kSecond, 2 * kSecond, 3 * kSecond});

  Recorder recorder{&simulation, {}};
  const FluidActivityId first = fluid.start(50, over(link), recorder.callback());
  const FluidActivityId second = fluid.start(50, over(link), recorder.callback());
  simulation.run();
  REQUIRE(recorder.completions.size() == 2);
  CHECK(recorder.completions[0].first == first);
  CHECK(recorder.completions[1].first == second);
  CHECK(recorder.completions[0].second == 4 * kSecond);
  CHECK(recorder.completions[1].second == 4 * kSecond);
}

TEST_CASE("a busy link finishes all its work at total work / capacity", "[fluid_system]") {
  // However the link is shared, it is never idle while work is left, so the last completion is
  // at sum(S_i) / B (each completion rounds up by under 1 ns, hence the small tolerance).
  Simulation simulation;
  FluidSystem fluid(simulation);
  const ResourceId link = fluid.add_resource(1e9);
  std::mt19937_64 random(11);
  std::uniform_real_distribution<double> size(1e3, 1e7);
  std::vector<double> works;
  Time last = 0;
  int completed = 0;
  for (int k = 0; k < 200; ++k) {
    works.push_back(size(random));
    FluidOptions options;
    options.sharing.share_weight = 1 + static_cast<double>(k % 3);
    fluid.start(
        works.back(), over(link),
        [&](FluidActivityId) {
          last = simulation.now();
          ++completed;
        },
        options);
  }
  simulation.run();
  const double total = std::accumulate(works.begin(), works.end(), 0.0);
  CHECK(completed == 200);
  CHECK(std::abs(last - from_seconds(total / 1e9)) <= 200);
}

TEST_CASE("tiny and huge amounts terminate", "[fluid_system]") {
  // A sliver of work still takes a whole nanosecond; work beyond 292 years is TimeOverflow (the
  // test case "work at a rate so small ...").
  Simulation simulation;
  FluidSystem fluid(simulation);
  Recorder recorder{&simulation, {}};
  const ResourceId link = fluid.add_resource(1e-30);
  const FluidActivityId sliver = fluid.start(1e-45, over(link), recorder.callback());
  simulation.run();
  CHECK(recorder.at(sliver) == 1);
  const FluidActivityId endless = fluid.start(1, over(link), recorder.callback());
  CHECK_THROWS_AS(fluid.expected_completion(endless), TimeOverflow);
}

TEST_CASE("invalid activities throw", "[fluid_system]") {
  Simulation simulation;
  FluidSystem fluid(simulation);
  const ResourceId link = fluid.add_resource(1);
  CHECK_THROWS_AS(fluid.start(-1, over(link), nullptr), std::invalid_argument);
  CHECK_THROWS_AS(fluid.start(std::nan(""), over(link), nullptr), std::invalid_argument);
  CHECK_THROWS_AS(fluid.start(1, over(link), nullptr, {.start_latency = -1}),
                  std::invalid_argument);
  CHECK_THROWS_AS(fluid.start(1, over(ResourceId{9}), nullptr, {.start_latency = 5}),
                  std::invalid_argument);
  CHECK_THROWS_AS(FluidSystem(simulation, {.relative_epsilon = -1}), std::invalid_argument);
  CHECK(fluid.active_count() == 0);
  CHECK(simulation.events_pending() == 0);
}

TEST_CASE("destroying a fluid system cancels its events", "[fluid_system]") {
  Simulation simulation;
  {
    FluidSystem fluid(simulation);
    const ResourceId link = fluid.add_resource(1);
    fluid.start(1, over(link), nullptr);
    fluid.start(1, over(link), nullptr, {.start_latency = 5});
  }
  CHECK(simulation.events_pending() == 0);
  simulation.run();
}

TEST_CASE("cancelling a finished activity aborts", "[fluid_system]") {
  const auto outcome = testing::run_in_child([] {
    Simulation simulation;
    FluidSystem fluid(simulation);
    const FluidActivityId done = fluid.start(0, {}, nullptr);
    simulation.run();
    fluid.cancel(done);
  });
  CHECK(outcome.aborted);
  CHECK(outcome.stderr_text ==
        "herd::engine invariant violated: no live fluid activity with id 0\n");
}

namespace {

struct TimedActivity {
  testing::ToyActivity toy;
  double start_s;
  double work;
};

// A plain fluid simulation in double seconds: recompute every rate from scratch with the naive
// reference solver at each start or completion, jump to the next one. Returns completion times.
std::vector<double> reference_completions(const std::vector<double>& capacities,
                                          const std::vector<TimedActivity>& activities) {
  const std::size_t n = activities.size();
  std::vector<double> remaining(n), finished(n, -1);
  std::vector<bool> started(n, false);
  for (std::size_t i = 0; i < n; ++i) remaining[i] = activities[i].work;
  double now = 0;
  std::size_t done = 0;
  while (done < n) {
    std::vector<std::size_t> active;
    std::vector<testing::ToyActivity> toys;
    for (std::size_t i = 0; i < n; ++i) {
      if (started[i] && finished[i] < 0) {
        active.push_back(i);
        toys.push_back(activities[i].toy);
      }
    }
    const std::vector<double> rates = testing::reference_rates(capacities, toys);
    double next = std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < active.size(); ++k) {
      if (rates[k] > 0) next = std::min(next, now + remaining[active[k]] / rates[k]);
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!started[i]) next = std::min(next, activities[i].start_s);
    }
    for (std::size_t k = 0; k < active.size(); ++k) {
      remaining[active[k]] -= rates[k] * (next - now);
    }
    now = next;
    for (std::size_t k = 0; k < active.size(); ++k) {
      if (remaining[active[k]] <= 1e-9 * activities[active[k]].work) {
        finished[active[k]] = now;
        ++done;
      }
    }
    for (std::size_t i = 0; i < n; ++i) started[i] = started[i] || activities[i].start_s <= now;
  }
  return finished;
}

}  // namespace

TEST_CASE("completion times match a from-scratch fluid simulation", "[fluid_system]") {
  // Random transfers over 6 links, started at random times (half through start latency, half
  // from an event), some with bounds or share weights. The engine rounds each completion up to
  // the nanosecond, so times may drift by a few nanoseconds (3 at most with these seeds).
  for (unsigned seed : {1u, 2u, 3u, 4u}) {
    std::mt19937_64 random(seed);
    std::uniform_real_distribution<double> uniform(0, 1);
    std::vector<double> capacities;
    for (int j = 0; j < 6; ++j) capacities.push_back(1e9 * (1 + 4 * uniform(random)));
    std::vector<TimedActivity> activities;
    for (int i = 0; i < 30; ++i) {
      TimedActivity timed;
      const int use_count = 1 + static_cast<int>(random() % 3);
      for (int u = 0; u < use_count; ++u) {
        timed.toy.uses.push_back({ResourceId{static_cast<std::uint32_t>(random() % 6)},
                                  uniform(random) < 0.7 ? 1.0 : 0.5 + uniform(random)});
      }
      if (uniform(random) < 0.2) timed.toy.sharing.rate_bound = 5e8 * (1 + uniform(random));
      if (uniform(random) < 0.3) timed.toy.sharing.share_weight = 1 + 3 * uniform(random);
      // Whole nanoseconds, so that both simulations start each activity at the same instant.
      timed.start_s = to_seconds(static_cast<Time>(2e6 * uniform(random)));
      timed.work = 1e5 + 5e6 * uniform(random);
      activities.push_back(timed);
    }
    const std::vector<double> expected = reference_completions(capacities, activities);

    Simulation simulation;
    FluidSystem fluid(simulation);
    for (double capacity : capacities) fluid.add_resource(capacity);
    std::vector<Time> finished(activities.size(), -1);
    for (std::size_t i = 0; i < activities.size(); ++i) {
      const TimedActivity& timed = activities[i];
      auto record = [&finished, &simulation, i](FluidActivityId) {
        finished[i] = simulation.now();
      };
      const Time start = from_seconds(timed.start_s);
      if (i % 2 == 0) {
        fluid.start(timed.work, timed.toy.uses, record,
                    {.sharing = timed.toy.sharing, .start_latency = start});
      } else {
        simulation.schedule_at(start, [&fluid, &timed, record]() mutable {
          fluid.start(timed.work, timed.toy.uses, std::move(record),
                      {.sharing = timed.toy.sharing});
        });
      }
    }
    simulation.run();
    for (std::size_t i = 0; i < activities.size(); ++i) {
      INFO("seed " << seed << " activity " << i);
      CHECK(std::abs(static_cast<double>(finished[i]) - expected[i] * 1e9) <= 10);
    }
  }
}

TEST_CASE("simulations on parallel threads give the same results as serial ones",
          "[fluid_system]") {
  // No global state: independent Simulation/FluidSystem pairs on different threads must not
  // interfere, so a parallel sweep is byte-identical to a serial one.
  auto run = [](unsigned seed) {
    Simulation simulation;
    FluidSystem fluid(simulation);
    std::vector<ResourceId> links;
    for (int j = 0; j < 8; ++j) links.push_back(fluid.add_resource(1e9 + 1e8 * j));
    std::mt19937_64 random(seed);
    std::vector<Time> finished;
    for (int i = 0; i < 200; ++i) {
      const std::vector<ResourceUse> uses{{links[random() % 8]}, {links[random() % 8]}};
      fluid.start(
          1e4 + static_cast<double>(random() % 1'000'000), uses,
          [&finished, &simulation](FluidActivityId) { finished.push_back(simulation.now()); },
          {.start_latency = static_cast<Time>(random() % 1'000'000)});
    }
    simulation.run();
    return finished;
  };
  std::vector<std::vector<Time>> serial, parallel(4);
  for (unsigned seed = 0; seed < 4; ++seed) serial.push_back(run(seed));
  std::vector<std::thread> threads;
  for (unsigned seed = 0; seed < 4; ++seed) {
    threads.emplace_back([&parallel, &run, seed] { parallel[seed] = run(seed); });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(parallel == serial);
  CHECK(serial[0].size() == 200);
}

TEST_CASE("activities due at the same nanosecond complete in the order they were started", "[fluid_system]") {
  // B takes id 1, then C reuses A's id 0: C has the smaller id but was started after B. Both move
  // 100 units at their 100 units/s bound, so both finish at 1 s.
  Simulation simulation;
  FluidSystem fluid(simulation);
  std::vector<char> order;
  const FluidOptions bound{.sharing = {.rate_bound = 100}};
  const FluidActivityId a = fluid.start(1, {}, [](FluidActivityId) {}, bound);
  fluid.start(100, {}, [&](FluidActivityId) { order.push_back('B'); }, bound);
  fluid.cancel(a);
  const FluidActivityId c = fluid.start(100, {}, [&](FluidActivityId) { order.push_back('C'); }, bound);
  CHECK(c == a);
  simulation.run();
  CHECK(simulation.now() == 1'000'000'000);
  CHECK(order == std::vector<char>{'B', 'C'});
}

TEST_CASE("a snapshot names no ids, and shifted systems go on the same way", "[fluid_system]") {
  // Two systems with the same activities under different ids (the second started and dropped one
  // more first) write the same snapshot; shifting one by 5 s moves its completions by 5 s.
  auto build = [](Simulation& simulation, FluidSystem& fluid, bool extra, std::vector<Time>& done) {
    const ResourceId link = fluid.add_resource(100);
    if (extra) fluid.cancel(fluid.start(10, over(link), {}));
    fluid.start(300, over(link), [&](FluidActivityId) { done.push_back(simulation.now()); });
    fluid.start(100, over(link), [&](FluidActivityId) { done.push_back(simulation.now()); },
                {.start_latency = 500'000'000});
    simulation.run_until(250'000'000);
    fluid.settle();
  };
  Simulation s1, s2;
  FluidSystem f1(s1), f2(s2);
  std::vector<Time> d1, d2;
  build(s1, f1, false, d1);
  build(s2, f2, true, d2);
  std::vector<std::uint64_t> w1, w2;
  std::vector<FluidActivityId> o1, o2;
  REQUIRE(f1.snapshot(w1, o1));
  REQUIRE(f2.snapshot(w2, o2));
  CHECK(w1 == w2);
  CHECK(o1.size() == 2);
  s2.shift_time(5'000'000'000);
  f2.shift_time(5'000'000'000);
  s1.run();
  s2.run();
  REQUIRE(d1.size() == 2);
  REQUIRE(d2.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) CHECK(d2[i] == d1[i] + 5'000'000'000);
}
