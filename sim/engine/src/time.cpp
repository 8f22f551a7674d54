#include "herd/engine/time.hpp"
#include "herd/engine/time_overflow.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace herd::engine {
namespace {

// 2^63 is exactly representable as a double; every double strictly below it converts to int64
// without overflow, so this is the exclusive upper limit of a safe conversion.
constexpr double kTimeLimit = 9223372036854775808.0;

Time checked_nanoseconds(double seconds, double nanoseconds) {
  // +inf: a duration that overflowed a double (bytes over a near-zero bandwidth) is past 64-bit
  // time like any other too-long duration; NaN and -inf are bugs.
  if (seconds == std::numeric_limits<double>::infinity())
    throw TimeOverflow("herd::engine: time of inf s does not fit in 64-bit nanoseconds");
  if (!std::isfinite(seconds)) {
    throw std::invalid_argument("herd::engine: time of " + std::to_string(seconds) +
                                " s is not a finite number");
  }
  if (!(nanoseconds < kTimeLimit && nanoseconds >= -kTimeLimit)) {
    throw TimeOverflow("herd::engine: time of " + std::to_string(seconds) +
                            " s does not fit in 64-bit nanoseconds");
  }
  return static_cast<Time>(nanoseconds);
}

}  // namespace

Time from_seconds(double seconds) {
  return checked_nanoseconds(seconds, std::round(seconds * 1e9));
}

Time from_seconds_ceil_checked(double seconds) {
  return checked_nanoseconds(seconds, std::ceil(seconds * 1e9));
}

}  // namespace herd::engine
