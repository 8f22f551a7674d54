#include "herd/engine/fluid_system.hpp"
#include "herd/engine/time_overflow.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "free_slots.hpp"
#include "herd/engine/check.hpp"

namespace herd::engine {
namespace {

std::uint32_t index(FluidActivityId id) { return static_cast<std::uint32_t>(id); }
std::uint32_t index(ActivityId id) { return static_cast<std::uint32_t>(id); }

// Completion times are rounded up to whole nanoseconds, so at its completion event an activity
// may have done up to 1 ns of work more than it had; 2 ns leaves room for rounding on top.
constexpr double kRoundingSlackSeconds = 2e-9;

}  // namespace

FluidSystem::FluidSystem(Simulation& simulation, FluidConfig config)
    : simulation_(simulation), config_(config) {
  if (!(config.relative_epsilon >= 0 && config.relative_epsilon < 1)) {
    throw std::invalid_argument("herd::engine: FluidConfig::relative_epsilon " +
                                std::to_string(config.relative_epsilon) + " must be in [0, 1)");
  }
}

FluidSystem::~FluidSystem() {
  simulation_.cancel(wake_event_);
  for (const Entry& entry : entries_) {
    if (entry.state == State::kWaiting) simulation_.cancel(entry.start_event);
  }
}

FluidSystem::Entry& FluidSystem::entry_at(FluidActivityId id) {
  if (!contains(id))
    invariant_failure("no live fluid activity with id " + std::to_string(index(id)));
  return entries_[index(id)];
}

const FluidSystem::Entry& FluidSystem::entry_at(FluidActivityId id) const {
  return const_cast<FluidSystem*>(this)->entry_at(id);
}

bool FluidSystem::contains(FluidActivityId id) const noexcept {
  return index(id) < entries_.size() && (entries_[index(id)].state == State::kWaiting ||
                                         entries_[index(id)].state == State::kRunning);
}

void FluidSystem::set_capacity(ResourceId resource, double capacity) {
  solver_.set_capacity(resource, capacity);
  reschedule_wake();
}

FluidActivityId FluidSystem::start(double work, std::span<const ResourceUse> uses,
                                   CompletionCallback on_complete, FluidOptions options) {
  if (!(work >= 0) || !std::isfinite(work)) {
    throw std::invalid_argument("herd::engine: activity work " + std::to_string(work) +
                                " must be finite and >= 0");
  }
  if (options.start_latency < 0) {
    throw std::invalid_argument("herd::engine: start latency " +
                                std::to_string(options.start_latency) + " ns must be >= 0");
  }
  solver_.check_activity(uses, options.sharing);
  const std::uint32_t slot = acquire_slot(entries_, free_entries_);
  Entry& entry = entries_[slot];
  entry.on_complete = std::move(on_complete);
  entry.sharing = options.sharing;
  entry.work = entry.remaining = work;
  entry.rate = 0;
  entry.updated = simulation_.now();
  entry.begins = entry.updated + options.start_latency;
  entry.sequence = started_++;
  ++live_;
  if (options.start_latency == 0) {
    begin(slot, uses);
  } else {
    entry.state = State::kWaiting;
    entry.delayed_uses.assign(uses.begin(), uses.end());
    entry.start_event = simulation_.schedule_after(
        checked_delay(simulation_.now(), options.start_latency),
        [this, slot] {
          begin(slot, entries_[slot].delayed_uses);
          entries_[slot].delayed_uses.clear();
        },
        config_.event_priority, config_.event_tag == 0 ? 0 : config_.event_tag + 1);
  }
  return FluidActivityId{slot};
}

void FluidSystem::begin(std::uint32_t slot, std::span<const ResourceUse> uses) {
  Entry& entry = entries_[slot];
  entry.state = State::kRunning;
  entry.updated = simulation_.now();
  entry.rate = 0;
  entry.solver_activity = solver_.add_activity(uses, entry.sharing);
  const std::uint32_t activity = index(entry.solver_activity);
  if (activity >= entry_of_activity_.size()) entry_of_activity_.resize(activity + std::size_t{1});
  entry_of_activity_[activity] = slot;
  reschedule_wake();
}

double FluidSystem::cancel(FluidActivityId id) {
  Entry& entry = entry_at(id);
  double left = entry.work;
  if (entry.state == State::kWaiting) {
    simulation_.cancel(entry.start_event);
  } else {
    advance(entry, simulation_.now());
    left = entry.remaining;
    completions_.erase(index(id));
    solver_.remove_activity(entry.solver_activity);
  }
  --live_;
  release(index(id));
  reschedule_wake();
  return left;
}

double FluidSystem::remaining(FluidActivityId id) const {
  const Entry& entry = entry_at(id);
  if (entry.state == State::kWaiting) return entry.work;
  if (std::isinf(entry.rate)) return 0;
  const double done = entry.rate * to_seconds(simulation_.now() - entry.updated);
  return std::max(entry.remaining - done, 0.0);
}

double FluidSystem::rate(FluidActivityId id) {
  settle();
  return entry_at(id).rate;
}

ResourceId FluidSystem::bottleneck(FluidActivityId id) {
  settle();
  const Entry& entry = entry_at(id);
  return entry.state == State::kRunning ? solver_.bottleneck(entry.solver_activity) : kNoResource;
}

Time FluidSystem::expected_completion(FluidActivityId id) {
  settle();
  (void)entry_at(id);
  return completions_.due(index(id));
}

// Folds the work done since entry.updated at the rate in effect since then. Rates change only
// in settle(), which runs at the simulated time of the change, so this is exact.
// An unlimited rate drains everything at once, even over zero time.
void FluidSystem::advance(Entry& entry, Time now) const {
  if (std::isinf(entry.rate)) entry.remaining = 0;
  if (now == entry.updated || entry.remaining == 0) {
    entry.updated = now;
    return;
  }
  const double remaining = entry.remaining - entry.rate * to_seconds(now - entry.updated);
  const double slack = config_.relative_epsilon * entry.work + entry.rate * kRoundingSlackSeconds;
  if (remaining < -slack) {
    invariant_failure("work not conserved: a fluid activity of " + std::to_string(entry.work) +
                      " units has " + std::to_string(remaining) + " left at t=" +
                      std::to_string(now) + " ns (it should have completed earlier)");
  }
  entry.remaining = std::max(remaining, 0.0);
  entry.updated = now;
}

bool FluidSystem::done(const Entry& entry) const noexcept {
  return entry.remaining <= config_.relative_epsilon * entry.work;
}

// Rounded up, so the activity has done all its work by then; at least 1 ns ahead when work is
// left, so that a completion event always makes progress. A rate above zero so small that the work
// would end past 64-bit time is TimeOverflow, not "never": the activity does progress, and the
// model that gave it that rate (a near-zero bandwidth or efficiency) is the input's fault.
Time FluidSystem::completion_time(const Entry& entry, Time now) const {
  if (done(entry) || std::isinf(entry.rate)) return now;
  if (!(entry.rate > 0)) return kTimeNever;
  const double nanoseconds = std::ceil(entry.remaining / entry.rate * 1e9);
  if (!(nanoseconds < static_cast<double>(kTimeNever - now)))
    throw TimeOverflow("herd::engine: a fluid activity of " + std::to_string(entry.work) + " units at " +
                       std::to_string(entry.rate) + " per second ends past 64-bit nanoseconds");
  return now + std::max<Time>(1, static_cast<Time>(nanoseconds));
}

void FluidSystem::settle() {
  if (!solver_.needs_solve()) return;
  solver_.solve();
  const Time now = simulation_.now();
  for (const ActivityId activity : solver_.last_solved()) {
    const std::uint32_t slot = entry_of_activity_[index(activity)];
    Entry& entry = entries_[slot];
    advance(entry, now);
    entry.rate = solver_.rate(activity);
    const Time due = completion_time(entry, now);
    if (due == kTimeNever) {
      completions_.erase(slot);
    } else {
      completions_.set(slot, due, entry.sequence);
    }
  }
  reschedule_wake();
}

void FluidSystem::wake() {
  wake_event_ = {};
  wake_time_ = kTimeNever;
  in_wake_ = true;
  const Time now = simulation_.now();
  settle();
  // Every activity due now completes before the one re-solve: callbacks that start or cancel
  // activities all act at `now`, and the others' progress up to `now` does not depend on rates
  // set at `now`. Many transfers finishing at once (symmetric copies) cost one solve, not many.
  while (completions_.earliest() <= now) {
    while (completions_.earliest() <= now) {
      const std::uint32_t slot = completions_.pop();
      Entry& entry = entries_[slot];
      advance(entry, now);
      if (done(entry)) {
        complete(slot);  // its callback may start or cancel activities
      } else if (const Time due = completion_time(entry, now); due != kTimeNever) {
        completions_.set(slot, due, entry.sequence);  // rounding left a sliver: due is at least now + 1 ns
      }
    }
    settle();
  }
  in_wake_ = false;
  reschedule_wake();
}

void FluidSystem::complete(std::uint32_t slot) {
  Entry& entry = entries_[slot];
  solver_.remove_activity(entry.solver_activity);
  entry.state = State::kCompleting;
  CompletionCallback on_complete = std::move(entry.on_complete);
  --live_;
  // The slot is released only after the callback, so activities it starts get other ids.
  if (on_complete) on_complete(FluidActivityId{slot});
  release(slot);
}

void FluidSystem::release(std::uint32_t slot) {
  Entry& entry = entries_[slot];
  entry.state = State::kFree;
  entry.on_complete.reset();
  entry.delayed_uses.clear();
  entry.start_event = {};
  free_entries_.push_back(slot);
}

// One event covers both a pending re-solve (due now) and the earliest completion.
void FluidSystem::reschedule_wake() {
  if (in_wake_) return;
  const Time target = solver_.needs_solve() ? simulation_.now() : completions_.earliest();
  if (target == wake_time_ && simulation_.is_pending(wake_event_)) return;
  simulation_.cancel(wake_event_);
  wake_time_ = target;
  wake_event_ = {};
  if (target == kTimeNever) return;
  wake_event_ = simulation_.schedule_at(
      target, [this] { wake(); }, config_.event_priority, config_.event_tag);
}

bool FluidSystem::snapshot(std::vector<std::uint64_t>& out, std::vector<FluidActivityId>& order) const {
  if (solver_.needs_solve()) return false;
  const Time now = simulation_.now();
  auto relative = [now](Time t) { return static_cast<std::uint64_t>(t == kTimeNever ? kTimeNever : t - now); };
  order.clear();
  for (std::uint32_t slot = 0; slot < entries_.size(); ++slot)
    if (entries_[slot].state == State::kWaiting || entries_[slot].state == State::kRunning) order.push_back(FluidActivityId{slot});
  std::sort(order.begin(), order.end(), [this](FluidActivityId a, FluidActivityId b) {
    return entries_[index(a)].sequence < entries_[index(b)].sequence;
  });
  std::vector<ActivityId> running;
  const std::size_t first = out.size();
  out.push_back(order.size());
  out.push_back(relative(wake_time_));
  for (const FluidActivityId id : order) {
    const Entry& entry = entries_[index(id)];
    out.push_back(static_cast<std::uint64_t>(entry.state));
    for (const double v : {entry.work, entry.remaining, entry.rate, entry.sharing.rate_bound, entry.sharing.share_weight})
      out.push_back(std::bit_cast<std::uint64_t>(v));
    out.push_back(relative(entry.updated));
    if (entry.state == State::kWaiting) {
      out.push_back(relative(entry.begins));
      out.push_back(entry.delayed_uses.size());
      for (const ResourceUse& use : entry.delayed_uses) {
        out.push_back(static_cast<std::uint32_t>(use.resource));
        out.push_back(std::bit_cast<std::uint64_t>(use.weight));
      }
    } else {
      out.push_back(relative(completions_.due(index(id))));
      running.push_back(entry.solver_activity);
    }
  }
  if (!solver_.snapshot(out, running)) {
    out.resize(first);
    return false;
  }
  return true;
}

void FluidSystem::shift_time(Time dt) noexcept {
  for (Entry& entry : entries_)
    if (entry.state != State::kFree) {
      entry.updated += dt;
      entry.begins += dt;
    }
  completions_.shift(dt);
  if (wake_time_ != kTimeNever) wake_time_ += dt;
}

}  // namespace herd::engine
