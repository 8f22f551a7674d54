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
// Throws like from_seconds.
Time from_seconds_ceil(double seconds);

// Nanoseconds → seconds. Exact for |t| < 2^53 ns (about 104 days); beyond that, the nearest
// double. Never throws.
constexpr double to_seconds(Time t) noexcept { return static_cast<double>(t) / 1e9; }

}  // namespace herd::engine
