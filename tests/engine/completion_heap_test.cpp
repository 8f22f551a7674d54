#include "herd/engine/completion_heap.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <utility>
#include <vector>

using namespace herd::engine;

TEST_CASE("items come out by due time, ties by item", "[completion_heap]") {
  CompletionHeap heap;
  CHECK(heap.earliest() == kTimeNever);
  heap.set(3, 50);
  heap.set(1, 50);
  heap.set(2, 10);
  heap.set(7, 30);
  CHECK(heap.size() == 4);
  CHECK(heap.earliest() == 10);
  CHECK(heap.due(7) == 30);
  CHECK(heap.due(5) == kTimeNever);
  std::vector<std::uint32_t> order;
  while (!heap.empty()) order.push_back(heap.pop());
  CHECK(order == std::vector<std::uint32_t>{2, 7, 1, 3});
}

TEST_CASE("moving and erasing items keeps the heap ordered", "[completion_heap]") {
  // Against a std::map of (due, item) as the obviously right answer.
  CompletionHeap heap;
  std::map<std::uint32_t, Time> due;
  std::mt19937 random(3);
  for (int step = 0; step < 5000; ++step) {
    const auto item = static_cast<std::uint32_t>(random() % 200);
    if (random() % 3 == 0) {
      heap.erase(item);
      due.erase(item);
    } else {
      const Time when = random() % 1000;
      heap.set(item, when);
      due[item] = when;
    }
    if (step % 50 == 0 && !due.empty()) {
      const auto earliest =
          std::min_element(due.begin(), due.end(), [](const auto& a, const auto& b) {
            return std::pair(a.second, a.first) < std::pair(b.second, b.first);
          });
      REQUIRE(heap.earliest() == earliest->second);
      REQUIRE(heap.size() == due.size());
    }
  }
  std::vector<std::pair<Time, std::uint32_t>> expected;
  for (const auto& [item, when] : due) expected.emplace_back(when, item);
  std::sort(expected.begin(), expected.end());
  for (const auto& [when, item] : expected) {
    CHECK(heap.earliest() == when);
    CHECK(heap.pop() == item);
  }
  CHECK(heap.empty());
}

TEST_CASE("a tie key orders items due at the same time", "[completion_heap]") {
  CompletionHeap heap;
  heap.set(0, 50, 7);
  heap.set(1, 50, 3);
  heap.set(2, 40, 9);
  heap.set(3, 50, 5);
  CHECK(heap.pop() == 2);
  CHECK(heap.pop() == 1);
  CHECK(heap.pop() == 3);
  CHECK(heap.pop() == 0);
  CHECK(heap.empty());
}
