// Due times of a set of items (small integer ids), with the earliest one at hand: an indexed
// binary min-heap ordered by (due time, tie, item), so that items due at the same nanosecond come
// out in the order of their tie keys (by default the item itself). FluidSystem keeps one entry per running activity, updates the entries whose
// rates changed, and schedules a single simulation event for the earliest.
#pragma once

#include <cstdint>
#include <vector>

#include "herd/engine/time.hpp"

namespace herd::engine {

class CompletionHeap {
 public:
  // Inserts `item` due at `due` (ns), or moves it there if it is already in. O(log n).
  void set(std::uint32_t item, Time due) { set(item, due, item); }
  // The same, with `tie` ordering items due at the same time.
  void set(std::uint32_t item, Time due, std::uint64_t tie);
  // Removes `item` if it is in; does nothing otherwise. O(log n).
  void erase(std::uint32_t item) noexcept;
  [[nodiscard]] bool contains(std::uint32_t item) const noexcept {
    return item < position_.size() && position_[item] != kAbsent;
  }
  [[nodiscard]] Time due(std::uint32_t item) const noexcept;  // kTimeNever if absent

  [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
  // The earliest due time, kTimeNever when empty.
  [[nodiscard]] Time earliest() const noexcept { return heap_.empty() ? kTimeNever : heap_[0].due; }
  // Removes and returns the earliest item. Precondition: !empty() (checked, aborts).
  std::uint32_t pop();
  // Moves every due time `dt` later (the order is unchanged).
  void shift(Time dt) noexcept {
    for (Entry& entry : heap_) entry.due += dt;
  }

 private:
  static constexpr std::uint32_t kAbsent = 0xFFFF'FFFFu;
  struct Entry {
    Time due;
    std::uint64_t tie;
    std::uint32_t item;
  };
  static bool before(const Entry& a, const Entry& b) noexcept {
    if (a.due != b.due) return a.due < b.due;
    return a.tie != b.tie ? a.tie < b.tie : a.item < b.item;
  }
  void place(std::size_t at, const Entry& entry) noexcept;
  void sift_up(std::size_t hole, Entry entry) noexcept;
  void sift_down(std::size_t hole, Entry entry) noexcept;

  std::vector<Entry> heap_;
  std::vector<std::uint32_t> position_;  // item -> index in heap_, or kAbsent
};

}  // namespace herd::engine
