// Fluid activities: amounts of work (bytes, FLOPs, ...) drained at the max-min fair rates of a
// MaxMinSolver, completing on a Simulation's clock.
//
// Each running activity remembers its remaining work as of the last time its rate changed;
// progress is folded in only for the activities a re-solve touches, so a change costs the size
// of the components it touches, not the number of activities. One simulation event (the
// "wake") stands for the earliest completion and for any pending re-solve; it is moved whenever
// that earliest time changes.
//
// Changes made at simulated time t (start, cancel, a capacity) take effect at t: the re-solve
// runs in a wake event at t, or at once when a query needs up-to-date rates.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "herd/engine/completion_heap.hpp"
#include "herd/engine/event_queue.hpp"
#include "herd/engine/inline_function.hpp"
#include "herd/engine/max_min_solver.hpp"
#include "herd/engine/simulation.hpp"
#include "herd/engine/time.hpp"

namespace herd::engine {

enum class FluidActivityId : std::uint32_t {};

// Called once when an activity has done all its work, at the simulated time it finishes. It may
// start and cancel activities. Captures of up to 32 bytes are stored inline.
using CompletionCallback = InlineFunction<void(FluidActivityId), 32>;

struct FluidOptions {
  SharingOptions sharing{};  // rate bound (units/s) and share weight
  Time start_latency = 0;    // ns before the work begins to flow; >= 0
};

struct FluidConfig {
  // An activity completes when remaining <= relative_epsilon * its initial work.
  double relative_epsilon = 1e-9;
  // Priority of the FluidSystem's events among events at the same time.
  Priority event_priority = 0;
  // Tag of the wake event; the ends of start latencies are tagged event_tag + 1. 0: untagged.
  EventTag event_tag = 0;
};

class FluidSystem {
 public:
  // `simulation` must outlive this object.
  explicit FluidSystem(Simulation& simulation, FluidConfig config = {});
  // Cancels this system's pending events; completion callbacks not yet run are dropped.
  ~FluidSystem();
  FluidSystem(const FluidSystem&) = delete;
  FluidSystem& operator=(const FluidSystem&) = delete;

  // Resources (units/s). Throw like the MaxMinSolver functions of the same name. A capacity
  // change takes effect at now(); work done until now is kept.
  ResourceId add_resource(double capacity) { return solver_.add_resource(capacity); }
  void set_capacity(ResourceId resource, double capacity);

  // Starts `work` units over `uses`. Throws std::invalid_argument if work is negative or not
  // finite, start_latency is negative, or uses/sharing are invalid (see MaxMinSolver).
  // Zero work completes at now() + start_latency.
  FluidActivityId start(double work, std::span<const ResourceUse> uses,
                        CompletionCallback on_complete, FluidOptions options = {});
  // Stops an activity without calling its callback; returns the work it had left. Aborts if
  // `activity` is not live (finished, cancelled, or never started).
  double cancel(FluidActivityId activity);

  [[nodiscard]] bool contains(FluidActivityId activity) const noexcept;
  [[nodiscard]] std::size_t active_count() const noexcept { return live_; }

  // The queries below abort, like cancel(), on an id that is not live; an id is no longer live
  // inside its own completion callback.
  // Work left at now() (the initial work while in start latency).
  [[nodiscard]] double remaining(FluidActivityId activity) const;
  // Current rate in units/s (0 while in start latency); re-solves first if needed.
  [[nodiscard]] double rate(FluidActivityId activity);
  // The resource limiting the activity (kNoResource: its bound, nothing, or still in latency).
  [[nodiscard]] ResourceId bottleneck(FluidActivityId activity);
  // When the activity will complete at current rates (ns); kTimeNever if its rate is 0 or while in
  // start latency. Throws TimeOverflow when a rate above 0 would finish it past 64-bit time.
  [[nodiscard]] Time expected_completion(FluidActivityId activity);

  // Re-solves now if anything changed; normally done by the wake event.
  void settle();

  // Appends everything that decides how the system goes on: the live activities in the order
  // they were started (their work, rates, due times relative to now()) and the solver's state
  // over them. How the system goes on does not depend on which ids it gave them (activities due
  // at the same nanosecond complete in the order they were started), so ids are not included;
  // `order` receives the live activities in the order they were written, for the caller to name
  // their callbacks. Two instants with equal snapshots (and equal simulation events) run the
  // same way from there. False, with nothing written, while a re-solve is pending.
  bool snapshot(std::vector<std::uint64_t>& out, std::vector<FluidActivityId>& order) const;
  // After Simulation::shift_time(dt): moves the activities' times along.
  void shift_time(Time dt) noexcept;
  [[nodiscard]] const MaxMinSolver& solver() const noexcept { return solver_; }
  [[nodiscard]] Simulation& simulation() const noexcept { return simulation_; }

 private:
  enum class State : std::uint8_t { kFree, kWaiting, kRunning, kCompleting };
  struct Entry {
    CompletionCallback on_complete;
    std::vector<ResourceUse> delayed_uses;  // held during start latency only
    SharingOptions sharing;
    double work = 0;       // initial amount, scales the completion epsilon
    double remaining = 0;  // as of `updated`
    double rate = 0;       // in effect since `updated`
    Time updated = 0;
    Time begins = 0;             // the end of its start latency
    std::uint64_t sequence = 0;  // started_ when it was started: orders completions at one time
    EventId start_event;
    ActivityId solver_activity{};
    State state = State::kFree;
  };

  Entry& entry_at(FluidActivityId activity);
  const Entry& entry_at(FluidActivityId activity) const;
  void begin(std::uint32_t slot, std::span<const ResourceUse> uses);
  void advance(Entry& entry, Time now) const;
  [[nodiscard]] bool done(const Entry& entry) const noexcept;
  [[nodiscard]] Time completion_time(const Entry& entry, Time now) const;  // throws TimeOverflow
  void wake();
  void complete(std::uint32_t slot);
  void release(std::uint32_t slot);
  void reschedule_wake();

  Simulation& simulation_;
  FluidConfig config_;
  MaxMinSolver solver_;
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> free_entries_;
  std::vector<std::uint32_t> entry_of_activity_;  // solver activity index -> entry slot
  CompletionHeap completions_;
  std::size_t live_ = 0;
  std::uint64_t started_ = 0;
  EventId wake_event_;
  Time wake_time_ = kTimeNever;
  bool in_wake_ = false;
};

}  // namespace herd::engine
