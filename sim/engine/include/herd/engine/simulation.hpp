// A discrete-event simulation: a clock and the events still to run. A plain object with no
// global state, so independent simulations may run concurrently on different threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "herd/engine/event_queue.hpp"
#include "herd/engine/time.hpp"

namespace herd::engine {

class Simulation {
 public:
  Simulation() = default;
  // Not copyable or movable: callbacks and models hold references to their simulation.
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Current simulated time in ns. Starts at 0; never decreases.
  [[nodiscard]] Time now() const noexcept { return now_; }

  // Schedules `callback` at absolute time `time` (ns). Events at equal time run by ascending
  // `priority`, then in the order they were scheduled. Aborts (always-on check) if time < now().
  // `tag` says what the callback does, for pending_events().
  EventId schedule_at(Time time, EventCallback callback, Priority priority = 0, EventTag tag = 0);

  // Schedules `callback` `delay` ns from now. Aborts if delay < 0 or now() + delay overflows.
  EventId schedule_after(Time delay, EventCallback callback, Priority priority = 0, EventTag tag = 0);

  // Cancels a pending event. Returns false when it already ran or was cancelled.
  bool cancel(EventId id) noexcept;
  [[nodiscard]] bool is_pending(EventId id) const noexcept { return queue_.contains(id); }

  // Runs the next event, advancing now() to its time. Returns false when none is pending.
  bool step();
  // Runs events until none is pending or stop() is called.
  void run();
  // Runs every event with time <= `until`, then sets now() to `until` (unless stop() was called
  // first). Aborts if until < now().
  void run_until(Time until);
  // Makes the running run()/run_until() return after the current event.
  void stop() noexcept { stop_requested_ = true; }

  // The pending events in the order they will run, with their times relative to now() (a model
  // compares its state at two instants with this; equal lists run the same way).
  [[nodiscard]] std::vector<PendingEvent> pending_events() const;
  // Moves the clock and every pending event `dt` ns later, keeping their order: a model whose
  // state repeats skips the repetitions. Aborts if dt < 0 or a time would overflow.
  void shift_time(Time dt);

  // Time of the next pending event, kTimeNever if none.
  [[nodiscard]] Time next_event_time() noexcept { return queue_.next_time(); }
  [[nodiscard]] std::size_t events_pending() const noexcept { return queue_.size(); }
  [[nodiscard]] std::uint64_t events_scheduled() const noexcept { return scheduled_; }
  [[nodiscard]] std::uint64_t events_executed() const noexcept { return executed_; }
  [[nodiscard]] std::uint64_t events_cancelled() const noexcept { return cancelled_; }

 private:
  EventQueue queue_;
  Time now_ = 0;
  std::uint64_t scheduled_ = 0;
  std::uint64_t executed_ = 0;
  std::uint64_t cancelled_ = 0;
  bool stop_requested_ = false;
};

}  // namespace herd::engine
