// Units are parsed in one place; each accepted spelling converts to SI base units.
#include <catch2/catch.hpp>

#include "herd/model/units.hpp"

using herd::model::Dimension;
using herd::model::parse_quantity;

TEST_CASE("bandwidths in bits and bytes per second", "[units]") {
  CHECK(*parse_quantity("400 Gbps", Dimension::bandwidth) == Approx(50e9));   // 400e9 bits / 8
  CHECK(*parse_quantity("400Gb/s", Dimension::bandwidth) == Approx(50e9));
  CHECK(*parse_quantity("50 GB/s", Dimension::bandwidth) == Approx(50e9));
  CHECK(*parse_quantity("1.5 TB/s", Dimension::bandwidth) == Approx(1.5e12));
  CHECK(*parse_quantity("100 MiB/s", Dimension::bandwidth) == Approx(100.0 * 1024 * 1024));
  CHECK_FALSE(parse_quantity("400 Gbs", Dimension::bandwidth));
  CHECK_FALSE(parse_quantity("400 GB", Dimension::bandwidth));
}

TEST_CASE("sizes, durations, FLOP rates, counts, rates", "[units]") {
  CHECK(*parse_quantity("80 GiB", Dimension::bytes) == Approx(80.0 * (1ULL << 30)));
  CHECK(*parse_quantity("80 GB", Dimension::bytes) == Approx(80e9));
  CHECK(*parse_quantity("2.5 us", Dimension::time) == Approx(2.5e-6));
  CHECK(*parse_quantity("54 d", Dimension::time) == Approx(54 * 86400.0));
  CHECK(*parse_quantity("989 TFLOP/s", Dimension::flop_rate) == Approx(989e12));
  CHECK(*parse_quantity("15.6T", Dimension::count) == Approx(15.6e12));
  CHECK(*parse_quantity("16Mi", Dimension::count) == Approx(16.0 * (1 << 20)));
  CHECK(*parse_quantity("2e-5 /h", Dimension::rate) == Approx(2e-5 / 3600));
  CHECK(*parse_quantity("700 W", Dimension::power) == Approx(700));
  CHECK(*parse_quantity("4096", Dimension::count) == Approx(4096));
  CHECK_FALSE(parse_quantity("fast", Dimension::time));
  CHECK_FALSE(parse_quantity("", Dimension::bytes));
  CHECK_FALSE(parse_quantity("5 parsecs", Dimension::time));
}

TEST_CASE("formatting picks a readable unit", "[units]") {
  CHECK(herd::model::format_bytes(80.0 * (1ULL << 30)) == "80.0 GiB");
  CHECK(herd::model::format_time(13e-6) == "13.0 us");
  CHECK(herd::model::format_time(3 * 3600.0) == "3.00 h");
  CHECK(herd::model::format_time(76 * 86400.0) == "76.0 d");
  CHECK(herd::model::format_time(90.0) == "90.0 s");
  CHECK(herd::model::format_bandwidth(50e9) == "50.0 GB/s");
  CHECK(herd::model::format_flop_rate(400e12) == "400 TFLOP/s");
}
