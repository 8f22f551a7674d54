// Index-based storage with a free list: the engine's objects live in vectors and are named by
// their index, and released indices are reused before the vector grows.
#pragma once

#include <cstdint>
#include <vector>

namespace herd::engine {

// Returns the index of a slot of `slots` to use: the most recently released one (its memory is
// likely still in cache), or a new default-constructed one at the end. The slot keeps whatever
// a previous user left in it; the caller resets what matters.
template <class Slot>
std::uint32_t acquire_slot(std::vector<Slot>& slots, std::vector<std::uint32_t>& free_slots) {
  if (free_slots.empty()) {
    slots.emplace_back();
    return static_cast<std::uint32_t>(slots.size() - 1);
  }
  const std::uint32_t slot = free_slots.back();
  free_slots.pop_back();
  return slot;
}

}  // namespace herd::engine
