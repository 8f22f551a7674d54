#include "herd/engine/simulation.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "child_process.hpp"

using namespace herd::engine;

TEST_CASE("the clock follows the events", "[simulation]") {
  Simulation simulation;
  std::vector<Time> seen;
  simulation.schedule_at(30, [&] { seen.push_back(simulation.now()); });
  simulation.schedule_after(10, [&] {
    seen.push_back(simulation.now());
    // Scheduling at now() is allowed and runs before time moves on.
    simulation.schedule_after(0, [&] { seen.push_back(simulation.now()); });
    simulation.schedule_after(5, [&] { seen.push_back(simulation.now()); });
  });
  CHECK(simulation.now() == 0);
  simulation.run();
  CHECK(seen == std::vector<Time>{10, 10, 15, 30});
  CHECK(simulation.now() == 30);
  CHECK(simulation.events_scheduled() == 4);
  CHECK(simulation.events_executed() == 4);
  CHECK(simulation.events_pending() == 0);
  CHECK_FALSE(simulation.step());
}

TEST_CASE("equal-time events run in insertion order, every time", "[simulation]") {
  // Bit-for-bit determinism: two runs of the same program give the same trace.
  auto trace = [] {
    Simulation simulation;
    std::string order;
    for (char name = 'a'; name <= 'h'; ++name) {
      simulation.schedule_at(100, [&order, name] { order += name; });
    }
    simulation.schedule_at(
        100, [&order] { order += '!'; }, -1);  // lower priority value first
    simulation.run();
    return order;
  };
  CHECK(trace() == "!abcdefgh");
  CHECK(trace() == trace());
}

TEST_CASE("run_until runs events up to and including the limit", "[simulation]") {
  Simulation simulation;
  int ran = 0;
  for (Time t : {5, 10, 15}) simulation.schedule_at(t, [&ran] { ++ran; });
  simulation.run_until(10);
  CHECK(ran == 2);
  CHECK(simulation.now() == 10);
  simulation.run_until(12);
  CHECK(simulation.now() == 12);
  CHECK(simulation.next_event_time() == 15);
  simulation.run_until(kTimeNever);
  CHECK(ran == 3);
  CHECK(simulation.now() == kTimeNever);
}

TEST_CASE("stop ends run after the current event", "[simulation]") {
  Simulation simulation;
  int ran = 0;
  simulation.schedule_at(1, [&] { ++ran; });
  simulation.schedule_at(2, [&] {
    ++ran;
    simulation.stop();
  });
  simulation.schedule_at(3, [&] { ++ran; });
  simulation.run();
  CHECK(ran == 2);
  CHECK(simulation.now() == 2);
  simulation.run_until(100);
  CHECK(ran == 3);
  CHECK(simulation.now() == 100);
}

TEST_CASE("a cancelled event does not run and is counted", "[simulation]") {
  Simulation simulation;
  bool ran = false;
  const EventId id = simulation.schedule_at(4, [&] { ran = true; });
  CHECK(simulation.is_pending(id));
  CHECK(simulation.cancel(id));
  CHECK_FALSE(simulation.cancel(id));
  simulation.run();
  CHECK_FALSE(ran);
  CHECK(simulation.events_cancelled() == 1);
  CHECK(simulation.events_executed() == 0);
}

TEST_CASE("scheduling in the past aborts, in Release too", "[simulation]") {
  const auto outcome = testing::run_in_child([] {
    Simulation simulation;
    simulation.schedule_at(50, [&simulation] { simulation.schedule_at(49, [] {}); });
    simulation.run();
  });
  CHECK(outcome.aborted);
  CHECK(outcome.stderr_text ==
        "herd::engine invariant violated: event scheduled at t=49 ns, before now=50 ns "
        "(time must not go backwards)\n");
}

TEST_CASE("a negative delay and run_until into the past abort", "[simulation]") {
  const auto negative_delay = testing::run_in_child([] {
    Simulation simulation;
    simulation.run_until(10);
    simulation.schedule_after(-1, [] {});
  });
  CHECK(negative_delay.aborted);
  CHECK(negative_delay.stderr_text.find("event scheduled at t=9 ns, before now=10 ns") !=
        std::string::npos);

  const auto backwards_run = testing::run_in_child([] {
    Simulation simulation;
    simulation.run_until(10);
    simulation.run_until(9);
  });
  CHECK(backwards_run.aborted);
  CHECK(backwards_run.stderr_text.find("run_until at t=9 ns, before now=10 ns") !=
        std::string::npos);
}

TEST_CASE("a delay that overflows 64-bit time aborts", "[simulation]") {
  const auto outcome = testing::run_in_child([] {
    Simulation simulation;
    simulation.run_until(10);
    simulation.schedule_after(kTimeNever, [] {});
  });
  CHECK(outcome.aborted);
  CHECK(outcome.stderr_text.find("overflows 64-bit time") != std::string::npos);
}

TEST_CASE("pending events are listed in run order, relative to now, and shift together", "[simulation]") {
  Simulation simulation;
  std::vector<Time> ran;
  simulation.schedule_at(10, [&] { ran.push_back(simulation.now()); }, 0, 1);
  simulation.schedule_at(40, [&] { ran.push_back(simulation.now()); }, 0, 2);
  simulation.schedule_at(40, [&] { ran.push_back(simulation.now()); }, -1, 3);  // runs first at 40
  const EventId cancelled = simulation.schedule_at(20, [] {}, 0, 4);
  simulation.schedule_at(40, [&] { ran.push_back(simulation.now()); }, 0, 5);
  simulation.cancel(cancelled);
  simulation.step();  // now 10
  const auto pending = simulation.pending_events();
  REQUIRE(pending.size() == 3);
  CHECK(pending[0].time == 30);
  CHECK(pending[0].tag == 3);
  CHECK(pending[0].priority == -1);
  CHECK(pending[1].tag == 2);
  CHECK(pending[2].tag == 5);
  // Shifting by 1000 ns: the same list relative to the new now, the same order, later times.
  simulation.shift_time(1000);
  CHECK(simulation.now() == 1010);
  const auto shifted = simulation.pending_events();
  REQUIRE(shifted.size() == 3);
  for (std::size_t i = 0; i < shifted.size(); ++i) {
    CHECK(shifted[i].time == pending[i].time);
    CHECK(shifted[i].tag == pending[i].tag);
  }
  simulation.run();
  CHECK(ran == std::vector<Time>{10, 1040, 1040, 1040});
}
