#include "herd/engine/time.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

using namespace herd::engine;

TEST_CASE("from_seconds rounds to the nearest nanosecond, halves away from zero", "[time]") {
  CHECK(from_seconds(0) == 0);
  CHECK(from_seconds(1) == kSecond);
  CHECK(from_seconds(2.5e-6) == 2'500);
  CHECK(from_seconds(0.4e-9) == 0);
  CHECK(from_seconds(0.6e-9) == 1);
  CHECK(from_seconds(1.5e-9) == 2);
  CHECK(from_seconds(-1.5e-9) == -2);
  CHECK(from_seconds(-3) == -3 * kSecond);
}

TEST_CASE("from_seconds_ceil rounds up", "[time]") {
  CHECK(from_seconds_ceil(0) == 0);
  CHECK(from_seconds_ceil(1e-10) == 1);
  CHECK(from_seconds_ceil(1.0 / 3.0) == 333'333'334);  // 333,333,333.33 ns
  CHECK(from_seconds_ceil(-1.5e-9) == -1);
  CHECK(from_seconds_ceil(2) == 2 * kSecond);
  // Past 2^62 ns (146 years) the checked path takes over; both are std::ceil.
  CHECK(from_seconds_ceil(4.6e9) == 4'600'000'000'000'000'000);
  CHECK(from_seconds_ceil(4.7e9) == static_cast<Time>(std::ceil(4.7e9 * 1e9)));
  for (const double x : {1e-9, 1.5e-9, 0.123456789123, 3.0000000001, 1e6 + 0.5e-9, 7.77e8})
    CHECK(from_seconds_ceil(x) == static_cast<Time>(std::ceil(x * 1e9)));
}

TEST_CASE("conversions reject values that are not a time", "[time]") {
  const double infinity = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(from_seconds(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  // +inf is a duration too long for 64-bit time (a size over a near-zero rate), not a bug.
  CHECK_THROWS_AS(from_seconds(infinity), std::out_of_range);
  CHECK_THROWS_AS(from_seconds_ceil(-infinity), std::invalid_argument);
  // 2^63 ns is about 292.5 years.
  CHECK_THROWS_AS(from_seconds(9.3e9), std::out_of_range);
  CHECK_THROWS_AS(from_seconds(-9.3e9), std::out_of_range);
  CHECK(from_seconds(9.2e9) == 9'200'000'000 * kSecond);
}

TEST_CASE("to_seconds is exact below 2^53 ns", "[time]") {
  CHECK(to_seconds(kSecond) == 1.0);
  CHECK(to_seconds(1'500 * kMillisecond) == 1.5);
  CHECK(to_seconds(-kMicrosecond) == -1e-6);
  CHECK(from_seconds(to_seconds(123'456'789'012)) == 123'456'789'012);
}
