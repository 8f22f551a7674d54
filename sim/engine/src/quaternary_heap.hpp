// A 4-ary min-heap over a std::vector, ordered by a strict "runs before" predicate. Shallower
// than a binary heap, and the four children of a node share a cache line or two. Removal walks
// the hole down to a leaf along the smallest children, then sifts the last entry up from there:
// the last entry almost always belongs near the bottom, so this skips a comparison per level
// and its hard-to-predict branch. Used by EventQueue and by the max-min solve.
#pragma once

#include <cstddef>
#include <vector>

namespace herd::engine::quaternary_heap {

inline constexpr std::size_t kArity = 4;

template <class Entry, class Before>
void sift_up(std::vector<Entry>& heap, std::size_t hole, Entry entry, Before before) noexcept {
  while (hole > 0) {
    const std::size_t parent = (hole - 1) / kArity;
    if (!before(entry, heap[parent])) break;
    heap[hole] = heap[parent];
    hole = parent;
  }
  heap[hole] = entry;
}

template <class Entry, class Before>
void push(std::vector<Entry>& heap, Entry entry, Before before) {
  heap.emplace_back();
  sift_up(heap, heap.size() - 1, entry, before);
}

// Removes the front entry (the heap must not be empty).
template <class Entry, class Before>
void pop(std::vector<Entry>& heap, Before before) noexcept {
  const Entry last = heap.back();
  heap.pop_back();
  const std::size_t size = heap.size();
  if (size == 0) return;
  std::size_t hole = 0;
  while (true) {
    const std::size_t first = hole * kArity + 1;
    std::size_t best;
    if (first + kArity <= size) {
      const Entry* child = &heap[first];
      const std::size_t best01 = before(child[1], child[0]) ? 1 : 0;
      const std::size_t best23 = before(child[3], child[2]) ? 3 : 2;
      best = first + (before(child[best23], child[best01]) ? best23 : best01);
    } else if (first < size) {
      best = first;
      for (std::size_t c = first + 1; c < size; ++c) best = before(heap[c], heap[best]) ? c : best;
    } else {
      break;
    }
    heap[hole] = heap[best];
    hole = best;
  }
  sift_up(heap, hole, last, before);
}

// Turns an arbitrary vector into a heap in O(n).
template <class Entry, class Before>
void make(std::vector<Entry>& heap, Before before) noexcept {
  const std::size_t size = heap.size();
  if (size < 2) return;
  for (std::size_t node = (size - 2) / kArity + 1; node-- > 0;) {
    const Entry entry = heap[node];
    std::size_t hole = node;
    while (true) {
      const std::size_t first = hole * kArity + 1;
      if (first >= size) break;
      const std::size_t end = first + kArity < size ? first + kArity : size;
      std::size_t best = first;
      for (std::size_t c = first + 1; c < end; ++c) best = before(heap[c], heap[best]) ? c : best;
      if (!before(heap[best], entry)) break;
      heap[hole] = heap[best];
      hole = best;
    }
    heap[hole] = entry;
  }
}

}  // namespace herd::engine::quaternary_heap
