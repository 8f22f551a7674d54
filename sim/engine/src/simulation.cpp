#include "herd/engine/simulation.hpp"

#include <string>
#include <utility>

#include "herd/engine/check.hpp"

namespace herd::engine {
namespace {

[[noreturn]] void time_went_backwards(const char* what, Time requested, Time now) {
  invariant_failure(std::string(what) + " at t=" + std::to_string(requested) +
                    " ns, before now=" + std::to_string(now) + " ns (time must not go backwards)");
}

}  // namespace

EventId Simulation::schedule_at(Time time, EventCallback callback, Priority priority, EventTag tag) {
  if (time < now_) time_went_backwards("event scheduled", time, now_);
  ++scheduled_;
  return queue_.push(time, priority, std::move(callback), tag);
}

EventId Simulation::schedule_after(Time delay, EventCallback callback, Priority priority, EventTag tag) {
  if (delay < 0) time_went_backwards("event scheduled", now_ + delay, now_);
  if (delay > kTimeNever - now_) {
    invariant_failure("event scheduled " + std::to_string(delay) +
                      " ns after now=" + std::to_string(now_) + " ns overflows 64-bit time");
  }
  return schedule_at(now_ + delay, std::move(callback), priority, tag);
}

std::vector<PendingEvent> Simulation::pending_events() const {
  std::vector<PendingEvent> out;
  queue_.pending(out);
  for (PendingEvent& e : out) e.time -= now_;
  return out;
}

void Simulation::shift_time(Time dt) {
  if (dt < 0) time_went_backwards("shift_time", now_ + dt, now_);
  std::vector<PendingEvent> last;
  queue_.pending(last);
  const Time latest = last.empty() ? now_ : last.back().time;
  if (dt > kTimeNever - 1 - latest) invariant_failure("shift_time by " + std::to_string(dt) + " ns overflows 64-bit time");
  now_ += dt;
  queue_.shift(dt);
}

bool Simulation::cancel(EventId id) noexcept {
  const bool cancelled = queue_.cancel(id);
  cancelled_ += cancelled ? 1 : 0;
  return cancelled;
}

bool Simulation::step() {
  if (queue_.empty()) return false;
  EventQueue::Popped event = queue_.pop();
  // Cannot happen through schedule_at; guards against a corrupted queue all the same.
  if (event.time < now_) time_went_backwards("event popped", event.time, now_);
  now_ = event.time;
  ++executed_;
  event.callback();
  return true;
}

void Simulation::run() {
  stop_requested_ = false;
  while (!stop_requested_ && step()) {
  }
}

void Simulation::run_until(Time until) {
  if (until < now_) time_went_backwards("run_until", until, now_);
  stop_requested_ = false;
  while (!stop_requested_ && !queue_.empty() && queue_.next_time() <= until) step();
  if (!stop_requested_) now_ = until;
}

}  // namespace herd::engine
