#include "herd/engine/event_queue.hpp"

#include <utility>

#include "herd/engine/check.hpp"

namespace herd::engine {
namespace {

constexpr std::size_t kArity = 4;
// Below this many tombstones a rebuild costs more than it saves.
constexpr std::size_t kMinTombstonesToCompact = 64;

}  // namespace

EventId EventQueue::push(Time time, Priority priority, EventCallback callback) {
  std::uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  Slot& s = slots_[slot];
  s.callback = std::move(callback);
  s.pending = true;
  heap_.emplace_back();
  sift_up(heap_.size() - 1, Entry{time, next_sequence_++, priority, slot});
  ++live_;
  return EventId{slot, s.generation};
}

bool EventQueue::cancel(EventId id) noexcept {
  if (!contains(id)) return false;
  Slot& s = slots_[id.slot];
  s.callback.reset();
  s.pending = false;
  ++s.generation;  // the heap entry keeps the slot until it is removed; the id is dead now
  --live_;
  ++tombstones_;
  if (tombstones_ >= kMinTombstonesToCompact && tombstones_ > live_) drop_tombstones();
  return true;
}

bool EventQueue::contains(EventId id) const noexcept {
  return id.slot < slots_.size() && slots_[id.slot].pending &&
         slots_[id.slot].generation == id.generation;
}

Time EventQueue::next_time() noexcept {
  while (!heap_.empty() && !slots_[heap_.front().slot].pending) {
    release_slot(heap_.front().slot);
    --tombstones_;
    remove_front();
  }
  return heap_.empty() ? kTimeNever : heap_.front().time;
}

EventQueue::Popped EventQueue::pop() {
  (void)next_time();  // drops tombstones so that the front is live
  if (heap_.empty()) invariant_failure("EventQueue::pop called on an empty queue");
  const Entry front = heap_.front();
  remove_front();
  Slot& s = slots_[front.slot];
  // Move the callback out before running it: it may push events, which can grow slots_.
  Popped popped{front.time, std::move(s.callback)};
  s.pending = false;
  ++s.generation;
  release_slot(front.slot);
  --live_;
  return popped;
}

void EventQueue::release_slot(std::uint32_t slot) noexcept { free_slots_.push_back(slot); }

void EventQueue::remove_front() noexcept {
  const Entry last = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) sift_down(0, last);
}

// Hole-based sifting: move parents/children into the hole and write the entry once.
void EventQueue::sift_up(std::size_t hole, Entry entry) noexcept {
  while (hole > 0) {
    const std::size_t parent = (hole - 1) / kArity;
    if (!before(entry, heap_[parent])) break;
    heap_[hole] = heap_[parent];
    hole = parent;
  }
  heap_[hole] = entry;
}

void EventQueue::sift_down(std::size_t hole, Entry entry) noexcept {
  const std::size_t size = heap_.size();
  while (true) {
    const std::size_t first_child = hole * kArity + 1;
    if (first_child >= size) break;
    const std::size_t last_child = first_child + kArity < size ? first_child + kArity : size;
    std::size_t best = first_child;
    for (std::size_t child = first_child + 1; child < last_child; ++child) {
      if (before(heap_[child], heap_[best])) best = child;
    }
    if (!before(heap_[best], entry)) break;
    heap_[hole] = heap_[best];
    hole = best;
  }
  heap_[hole] = entry;
}

// Removing tombstones keeps the heap within twice the live count, so a caller that keeps
// rescheduling one event (as FluidSystem does) cannot grow memory without bound.
void EventQueue::drop_tombstones() noexcept {
  std::size_t kept = 0;
  for (const Entry& entry : heap_) {
    if (slots_[entry.slot].pending) {
      heap_[kept++] = entry;
    } else {
      release_slot(entry.slot);
    }
  }
  heap_.resize(kept);
  tombstones_ = 0;
  if (kept < 2) return;
  for (std::size_t i = (kept - 2) / kArity + 1; i-- > 0;) sift_down(i, heap_[i]);
}

}  // namespace herd::engine
