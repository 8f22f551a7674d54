// Simulated time that does not fit in Time (64-bit nanoseconds, about 292 years). Inputs out of
// proportion (a bandwidth of 1 B/s, a sequence of 2^31 tokens) reach it; callers that know which
// input that was turn it into an input error.
#pragma once

#include <stdexcept>
#include <string>

namespace herd::engine {

class TimeOverflow : public std::out_of_range {
 public:
  explicit TimeOverflow(const std::string& what) : std::out_of_range(what) {}
};

}  // namespace herd::engine

#include "herd/engine/time.hpp"

namespace herd::engine {

/// `delay`, checked so that now + delay fits in Time; throws TimeOverflow otherwise. For delays that
/// come from input magnitudes, where Simulation::schedule_after's overflow check would abort.
inline Time checked_delay(Time now, Time delay) {
  if (delay > kTimeNever - now)
    throw TimeOverflow("herd::engine: simulated time passes 64-bit nanoseconds (about 292 years)");
  return delay;
}

}  // namespace herd::engine
