// The pending-event set of a simulation: events ordered by (time, priority, insertion sequence),
// so that events at equal time and priority leave in the order they were pushed, and any run is
// bit-for-bit reproducible. Cancellation is lazy: a cancelled event stays in the heap as a
// tombstone until it reaches the front or until tombstones outnumber live events.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "herd/engine/inline_function.hpp"
#include "herd/engine/time.hpp"

namespace herd::engine {

// Smaller runs first among events at the same time. 16 bits, so that priority and insertion
// sequence pack into one 64-bit ordering key.
using Priority = std::int16_t;

// What an event does when it fires. Lambdas capturing up to 32 bytes are stored inline.
using EventCallback = InlineFunction<void(), 32>;

// Says what an event's callback does, for a model that compares its state at two instants
// (Simulation::pending_events); 0: untagged.
using EventTag = std::uint64_t;

// A pending event as Simulation::pending_events lists it.
struct PendingEvent {
  Time time;
  Priority priority;
  EventTag tag;
};

// Names one scheduled event. Stays valid (and harmless) after the event ran or was cancelled:
// a slot's generation changes when it is released, so an old id never names a newer event.
struct EventId {
  static constexpr std::uint32_t kNoSlot = 0xFFFF'FFFFu;
  std::uint32_t slot = kNoSlot;
  std::uint32_t generation = 0;

  friend bool operator==(EventId, EventId) = default;
};

class EventQueue {
 public:
  struct Popped {
    Time time;
    EventCallback callback;
  };

  // Adds an event. The queue does not check time against anything: Simulation does.
  EventId push(Time time, Priority priority, EventCallback callback, EventTag tag = 0);

  // Cancels a pending event and drops its callback. Returns false (and does nothing) when the
  // event already ran, was already cancelled, or `id` is default-constructed.
  bool cancel(EventId id) noexcept;

  // True while the event is scheduled and neither popped nor cancelled.
  [[nodiscard]] bool contains(EventId id) const noexcept;

  [[nodiscard]] bool empty() const noexcept { return live_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return live_; }

  // Time of the next live event, kTimeNever when empty. Drops tombstones at the front.
  [[nodiscard]] Time next_time() noexcept;

  // Removes and returns the next live event. Precondition: !empty() (checked, aborts).
  Popped pop();

  // Appends the live events to `out` in the order they will run.
  void pending(std::vector<PendingEvent>& out) const;
  // Moves every event `dt` later; their order is unchanged. The caller checks for overflow.
  void shift(Time dt) noexcept;

 private:
  struct Entry {
    Time time;
    std::uint64_t order;  // biased priority in the top 16 bits, insertion sequence below
    std::uint32_t slot;
  };
  struct Slot {
    EventCallback callback;
    EventTag tag = 0;
    std::uint32_t generation = 0;
    bool pending = false;
  };

  // Branch-free: equal times are common and would make a branchy comparison mispredict.
  struct RunsBefore {  // a type rather than a function, so that the heap code inlines it
    bool operator()(const Entry& a, const Entry& b) const noexcept {
      return (a.time < b.time) | ((a.time == b.time) & (a.order < b.order));
    }
  };
  void remove_front() noexcept;
  void release_slot(std::uint32_t slot) noexcept;
  void drop_tombstones() noexcept;

  std::vector<Entry> heap_;  // a 4-ary min-heap: shallower than binary, children share a line
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::uint64_t next_sequence_ = 0;
  std::size_t live_ = 0;
  std::size_t tombstones_ = 0;
};

}  // namespace herd::engine
