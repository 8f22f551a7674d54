#include "herd/engine/detail/monotone_radix_heap.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>

using herd::engine::detail::MonotoneRadixHeap;

TEST_CASE("keys leave in ascending order, late ids last among ties", "[monotone_radix_heap]") {
  MonotoneRadixHeap heap;
  const std::uint32_t late = MonotoneRadixHeap::kLateBit;
  heap.push(40, 1);
  heap.push(7, late | 2);
  heap.push(7, 3);
  heap.push(0, 4);
  heap.push(1000, 5);
  CHECK(heap.pop().id == 4);
  CHECK(heap.pop().id == 3);
  CHECK(heap.pop().id == (late | 2));
  // Pushing at or above the last key popped (7) is allowed while popping.
  heap.push(7, 6);
  heap.push(41, 7);
  CHECK(heap.pop().id == 6);
  CHECK(heap.pop().key == 40);
  CHECK(heap.pop().key == 41);
  CHECK(heap.pop().key == 1000);
  CHECK(heap.empty());
}

TEST_CASE("a monotone mix of pushes and pops leaves in key order", "[monotone_radix_heap]") {
  // The way progressive filling uses it: pops interleaved with pushes of keys at or above the
  // last one popped, keys spread over all 64 bits.
  MonotoneRadixHeap heap;
  std::mt19937_64 random(17);
  for (int round = 0; round < 3; ++round) {
    heap.clear();
    std::uint64_t last = 0;
    std::size_t popped = 0;
    for (int k = 0; k < 2000; ++k) {
      heap.push(random() >> (random() % 64), static_cast<std::uint32_t>(k));
    }
    for (int k = 0; k < 2000; ++k) {
      const auto entry = heap.pop();
      REQUIRE(entry.key >= last);
      last = entry.key;
      ++popped;
      if (k % 3 == 0) {
        const std::uint64_t step = random() >> (random() % 64);
        heap.push(step < UINT64_MAX - last ? last + step : UINT64_MAX, 0);
      }
    }
    while (!heap.empty()) {
      const auto entry = heap.pop();
      REQUIRE(entry.key >= last);
      last = entry.key;
      ++popped;
    }
    CHECK(popped == 2000 + 667);
  }
}
