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

EventId Simulation::schedule_at(Time time, EventCallback callback, Priority priority) {
  if (time < now_) time_went_backwards("event scheduled", time, now_);
  ++scheduled_;
  return queue_.push(time, priority, std::move(callback));
}

EventId Simulation::schedule_after(Time delay, EventCallback callback, Priority priority) {
  if (delay < 0) time_went_backwards("event scheduled", now_ + delay, now_);
  if (delay > kTimeNever - now_) {
    invariant_failure("event scheduled " + std::to_string(delay) +
                      " ns after now=" + std::to_string(now_) + " ns overflows 64-bit time");
  }
  return schedule_at(now_ + delay, std::move(callback), priority);
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
