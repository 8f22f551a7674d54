#include "herd/engine/event_queue.hpp"

#include <algorithm>
#include <utility>

#include "free_slots.hpp"
#include "herd/engine/check.hpp"
#include "quaternary_heap.hpp"

namespace herd::engine {
namespace {

// Below this many tombstones a rebuild costs more than it saves.
constexpr std::size_t kMinTombstonesToCompact = 64;

}  // namespace

EventId EventQueue::push(Time time, Priority priority, EventCallback callback, EventTag tag) {
  const std::uint32_t slot = acquire_slot(slots_, free_slots_);
  Slot& s = slots_[slot];
  s.callback = std::move(callback);
  s.tag = tag;
  s.pending = true;
  // 48 bits of sequence: 2.8e14 events, years of simulation at tens of millions per second.
  if (next_sequence_ >> 48 != 0) invariant_failure("more than 2^48 events scheduled in one queue");
  const auto biased_priority =
      static_cast<std::uint64_t>(static_cast<std::uint16_t>(priority) ^ 0x8000u);
  quaternary_heap::push(heap_, Entry{time, biased_priority << 48 | next_sequence_++, slot},
                        RunsBefore{});
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

void EventQueue::pending(std::vector<PendingEvent>& out) const {
  std::vector<Entry> live;
  live.reserve(live_);
  for (const Entry& entry : heap_)
    if (slots_[entry.slot].pending) live.push_back(entry);
  std::sort(live.begin(), live.end(), RunsBefore{});
  for (const Entry& entry : live)
    out.push_back({entry.time, static_cast<Priority>(static_cast<std::uint16_t>(entry.order >> 48) ^ 0x8000u),
                   slots_[entry.slot].tag});
}

void EventQueue::shift(Time dt) noexcept {
  for (Entry& entry : heap_) entry.time += dt;
}

void EventQueue::release_slot(std::uint32_t slot) noexcept { free_slots_.push_back(slot); }

void EventQueue::remove_front() noexcept { quaternary_heap::pop(heap_, RunsBefore{}); }

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
  quaternary_heap::make(heap_, RunsBefore{});
}

}  // namespace herd::engine
