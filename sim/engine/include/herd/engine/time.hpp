// Simulated time: a signed 64-bit count of nanoseconds (about 292 years either way).
#pragma once

#include <cstdint>
#include <limits>

namespace herd::engine {

// A point in simulated time or a duration, in nanoseconds.
using Time = std::int64_t;

inline constexpr Time kNanosecond = 1;
inline constexpr Time kMicrosecond = 1'000;
inline constexpr Time kMillisecond = 1'000'000;
inline constexpr Time kSecond = 1'000'000'000;

// "Never": later than any event a simulation will run. Scheduling at kTimeNever is allowed.
inline constexpr Time kTimeNever = std::numeric_limits<Time>::max();

// Seconds → nanoseconds, rounded to the nearest nanosecond (halfway cases away from zero).
// Throws std::invalid_argument for NaN or ±infinity, std::out_of_range when the result does not
// fit in Time.
Time from_seconds(double seconds);

// Seconds → nanoseconds, rounded up (towards +infinity): the first nanosecond at or after the
// exact instant. Used for completion times, so that a finishing activity has done all its work.
// Throws like from_seconds. Inline for the common case (simulators call it for every scheduled
// completion); the rest, and every error, in from_seconds_ceil_checked.
Time from_seconds_ceil_checked(double seconds);
inline Time from_seconds_ceil(double seconds) {
  const double ns = seconds * 1e9;
  // In [0, 2^62) truncation is exact for integers and the ceiling of anything else is one more:
  // std::ceil without its library call. NaN fails the test and goes to the checked path.
  if (ns >= 0 && ns < 4611686018427387904.0) {
    const auto t = static_cast<Time>(ns);
    return t + static_cast<Time>(static_cast<double>(t) < ns);
  }
  return from_seconds_ceil_checked(seconds);
}

// Nanoseconds → seconds. Exact for |t| < 2^53 ns (about 104 days); beyond that, the nearest
// double. Never throws.
constexpr double to_seconds(Time t) noexcept { return static_cast<double>(t) / 1e9; }

}  // namespace herd::engine
