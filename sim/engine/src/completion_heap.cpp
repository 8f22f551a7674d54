#include "herd/engine/completion_heap.hpp"

#include "herd/engine/check.hpp"

namespace herd::engine {

void CompletionHeap::set(std::uint32_t item, Time due, std::uint64_t tie) {
  if (item >= position_.size()) position_.resize(item + std::size_t{1}, kAbsent);
  const Entry entry{due, tie, item};
  if (position_[item] == kAbsent) {
    heap_.emplace_back();
    sift_up(heap_.size() - 1, entry);
    return;
  }
  const std::size_t at = position_[item];
  if (before(entry, heap_[at])) {
    sift_up(at, entry);
  } else {
    sift_down(at, entry);
  }
}

void CompletionHeap::erase(std::uint32_t item) noexcept {
  if (!contains(item)) return;
  const std::size_t at = position_[item];
  position_[item] = kAbsent;
  const Entry last = heap_.back();
  heap_.pop_back();
  if (at == heap_.size()) return;
  // The last entry fills the hole; it may belong above or below it.
  if (at > 0 && before(last, heap_[(at - 1) / 2])) {
    sift_up(at, last);
  } else {
    sift_down(at, last);
  }
}

Time CompletionHeap::due(std::uint32_t item) const noexcept {
  return contains(item) ? heap_[position_[item]].due : kTimeNever;
}

std::uint32_t CompletionHeap::pop() {
  if (heap_.empty()) invariant_failure("CompletionHeap::pop called on an empty heap");
  const std::uint32_t item = heap_[0].item;
  erase(item);
  return item;
}

void CompletionHeap::place(std::size_t at, const Entry& entry) noexcept {
  heap_[at] = entry;
  position_[entry.item] = static_cast<std::uint32_t>(at);
}

void CompletionHeap::sift_up(std::size_t hole, Entry entry) noexcept {
  while (hole > 0) {
    const std::size_t parent = (hole - 1) / 2;
    if (!before(entry, heap_[parent])) break;
    place(hole, heap_[parent]);
    hole = parent;
  }
  place(hole, entry);
}

void CompletionHeap::sift_down(std::size_t hole, Entry entry) noexcept {
  const std::size_t size = heap_.size();
  while (true) {
    std::size_t child = 2 * hole + 1;
    if (child >= size) break;
    if (child + 1 < size && before(heap_[child + 1], heap_[child])) ++child;
    if (!before(heap_[child], entry)) break;
    place(hole, heap_[child]);
    hole = child;
  }
  place(hole, entry);
}

}  // namespace herd::engine
