// A monotone priority queue of (64-bit key, 32-bit id) pairs: a radix heap. Valid only while
// every key pushed is >= the last key popped, which holds for progressive filling, whose level
// never goes down. Entries sit in bucket b when their key first differs from the last popped
// key at bit b - 1; popping refills bucket 0 from the lowest non-empty bucket. Each entry moves
// down O(1) buckets in practice, so a push is O(1) and a pop amortised O(1): cheaper than a
// binary heap or a sort on the tens of thousands of candidates of a large component.
// Among equal keys (common in symmetric problems), entries whose id has the top bit set leave
// after the others; the order is otherwise unspecified but fixed by the sequence of calls.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace herd::engine::detail {

class MonotoneRadixHeap {
 public:
  struct Entry {
    std::uint64_t key;
    std::uint32_t id;
  };
  static constexpr std::uint32_t kLateBit = 0x8000'0000u;

  void clear() noexcept {
    buckets_[0].clear();
    for (std::uint64_t rest = occupied_; rest != 0; rest &= rest - 1) {
      buckets_[static_cast<std::size_t>(std::countr_zero(rest)) + 1].clear();
    }
    occupied_ = 0;
    last_ = 0;
    size_ = 0;
    ties_arranged_ = true;
  }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  // Precondition: key >= the last key popped (0 after clear()).
  void push(std::uint64_t key, std::uint32_t id) {
    place(Entry{key, id});
    ++size_;
  }

  // Removes and returns an entry with the smallest key. Precondition: !empty().
  Entry pop() {
    if (buckets_[0].empty()) refill();
    if (!ties_arranged_) {
      // Late entries to the front, since entries leave from the back. O(ties), unlike a sort.
      std::partition(buckets_[0].begin(), buckets_[0].end(),
                     [](const Entry& entry) { return (entry.id & kLateBit) != 0; });
      ties_arranged_ = true;
    }
    const Entry entry = buckets_[0].back();
    buckets_[0].pop_back();
    --size_;
    return entry;
  }

 private:
  void place(const Entry& entry) {
    if (entry.key == last_) {
      buckets_[0].push_back(entry);
      ties_arranged_ = false;
      return;
    }
    const int highest_difference = 63 - std::countl_zero(entry.key ^ last_);
    buckets_[static_cast<std::size_t>(highest_difference) + 1].push_back(entry);
    occupied_ |= std::uint64_t{1} << highest_difference;
  }

  void refill() {
    const int lowest_bit = std::countr_zero(occupied_);
    occupied_ &= occupied_ - 1;
    std::vector<Entry>& source = buckets_[static_cast<std::size_t>(lowest_bit) + 1];
    std::uint64_t smallest = source[0].key;
    for (const Entry& entry : source) smallest = entry.key < smallest ? entry.key : smallest;
    last_ = smallest;
    // Every entry of `source` agrees with the new last_ on all bits from lowest_bit up, so it
    // lands in a lower bucket: the loop never pushes into `source` itself.
    for (const Entry& entry : source) place(entry);
    source.clear();
  }

  std::array<std::vector<Entry>, 65> buckets_;
  std::uint64_t occupied_ = 0;  // bit b - 1 set: bucket b (b >= 1) is not empty
  std::uint64_t last_ = 0;
  std::size_t size_ = 0;
  bool ties_arranged_ = true;  // bucket 0 has its late entries in front
};

}  // namespace herd::engine::detail
