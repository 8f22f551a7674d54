#include "herd/engine/event_queue.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <random>
#include <vector>

#include "child_process.hpp"

using namespace herd::engine;

namespace {

// Pops everything, running each callback, and returns the times seen.
std::vector<Time> drain(EventQueue& queue) {
  std::vector<Time> times;
  while (!queue.empty()) {
    auto event = queue.pop();
    times.push_back(event.time);
    event.callback();
  }
  return times;
}

}  // namespace

TEST_CASE("events leave by time, then priority, then insertion order", "[event_queue]") {
  EventQueue queue;
  std::vector<int> order;
  queue.push(20, 0, [&] { order.push_back(4); });
  queue.push(10, 1, [&] { order.push_back(3); });
  queue.push(10, 0, [&] { order.push_back(1); });
  queue.push(10, 0, [&] { order.push_back(2); });
  queue.push(10, -5, [&] { order.push_back(0); });
  CHECK(queue.size() == 5);
  CHECK(queue.next_time() == 10);
  CHECK(drain(queue) == std::vector<Time>{10, 10, 10, 10, 20});
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(queue.next_time() == kTimeNever);
}

TEST_CASE("many equal-time events keep insertion order through the heap", "[event_queue]") {
  EventQueue queue;
  std::vector<int> order;
  std::mt19937 random(7);
  std::vector<int> expected;
  for (int i = 0; i < 500; ++i) {
    // Interleave other times so that the equal-time entries move around the heap.
    queue.push(static_cast<Time>(random() % 3) * 2 + 1, 0, [] {});
    queue.push(4, 0, [&order, i] { order.push_back(i); });
    expected.push_back(i);
  }
  drain(queue);
  CHECK(order == expected);
}

TEST_CASE("a cancelled event never runs and its id goes stale", "[event_queue]") {
  EventQueue queue;
  bool ran = false;
  const EventId doomed = queue.push(5, 0, [&] { ran = true; });
  const EventId kept = queue.push(6, 0, [] {});
  CHECK(queue.contains(doomed));
  CHECK(queue.cancel(doomed));
  CHECK_FALSE(queue.contains(doomed));
  CHECK_FALSE(queue.cancel(doomed));
  CHECK_FALSE(queue.cancel(EventId{}));
  CHECK(queue.size() == 1);
  CHECK(queue.next_time() == 6);
  CHECK(drain(queue) == std::vector<Time>{6});
  CHECK_FALSE(ran);
  // The slot of `kept` is free again; a new event reusing it has a different generation.
  const EventId reused = queue.push(7, 0, [] {});
  CHECK_FALSE(queue.contains(kept));
  CHECK_FALSE(queue.cancel(kept));
  CHECK(queue.contains(reused));
}

TEST_CASE("mass cancellation compacts the heap and keeps the order of survivors", "[event_queue]") {
  EventQueue queue;
  std::vector<EventId> ids;
  std::vector<Time> survivors;
  for (Time t = 0; t < 1000; ++t) ids.push_back(queue.push(1000 - t, 0, [] {}));
  for (Time t = 0; t < 1000; ++t) {
    if (t % 10 == 0) {
      survivors.push_back(1000 - t);
    } else {
      CHECK(queue.cancel(ids[static_cast<std::size_t>(t)]));
    }
  }
  CHECK(queue.size() == 100);
  std::sort(survivors.begin(), survivors.end());
  CHECK(drain(queue) == survivors);
}

TEST_CASE("popping an empty queue aborts", "[event_queue]") {
  const auto outcome = testing::run_in_child([] {
    EventQueue queue;
    queue.cancel(queue.push(1, 0, [] {}));
    (void)queue.pop();
  });
  CHECK(outcome.aborted);
  CHECK(outcome.stderr_text ==
        "herd::engine invariant violated: EventQueue::pop called on an empty queue\n");
}
