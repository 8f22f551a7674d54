#include "herd/engine/time.hpp"

#include <catch2/catch.hpp>
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
