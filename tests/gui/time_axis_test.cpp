#include "herd/gui/time_axis.hpp"

#include <catch2/catch.hpp>

using herd::gui::format_bytes;
using herd::gui::format_duration;
using herd::gui::TimeAxis;

TEST_CASE("time axis: maps time to pixels and back") {
  TimeAxis axis(10.0, 1000);  // 10 ms per pixel
  CHECK(axis.x_of(0) == Approx(0));
  CHECK(axis.x_of(5) == Approx(500));
  CHECK(axis.t_of(250) == Approx(2.5));
  CHECK(axis.seconds_per_px() == Approx(0.01));
}

TEST_CASE("time axis: zoom keeps the time under the anchor and stays within the limit") {
  TimeAxis axis(10.0, 1000);
  axis.zoom(0.5, 250);  // 2.5 s stays at x = 250, span 5 s
  CHECK(axis.span_s() == Approx(5));
  CHECK(axis.t_of(250) == Approx(2.5));
  CHECK(axis.start_s() == Approx(1.25));
  axis.zoom(100, 500);  // out beyond the whole: clamped to [0, 10]
  CHECK(axis.start_s() == Approx(0));
  CHECK(axis.end_s() == Approx(10));
  axis.zoom(1e-30, 0);  // not below 1 ns per 10 px
  CHECK(axis.span_s() == Approx(1e-7));
}

TEST_CASE("time axis: pan moves by pixels and stops at the ends") {
  TimeAxis axis(10.0, 1000);
  axis.show(2, 4);  // 2 ms per pixel
  axis.pan(100);
  CHECK(axis.start_s() == Approx(2.2));
  CHECK(axis.end_s() == Approx(4.2));
  axis.pan(-1e6);
  CHECK(axis.start_s() == Approx(0));
  CHECK(axis.span_s() == Approx(2));
  axis.pan(1e6);
  CHECK(axis.end_s() == Approx(10));
}

TEST_CASE("time axis: ticks at 1-2-5 steps with units, at least the gap apart") {
  TimeAxis axis(6.84, 1000);
  const auto ticks = axis.ticks(90);  // >= 0.616 s apart: 1 s
  REQUIRE(ticks.size() == 7);
  CHECK(ticks[0].label == "0 s");
  CHECK(ticks[1].label == "1 s");
  CHECK(ticks[6].t_s == Approx(6));
  axis.show(0.0012, 0.0013);  // 100 µs over 1000 px: 10 µs steps
  const auto fine = axis.ticks(90);
  REQUIRE(fine.size() >= 2);
  CHECK(fine[1].t_s - fine[0].t_s == Approx(1e-5));
  CHECK(fine[0].label == "1.20 ms");
  CHECK(fine[1].label == "1.21 ms");
  TimeAxis days(84 * 86400.0, 1000);  // a run: two-week steps
  CHECK(days.ticks(100)[1].label == "14 d");
}

TEST_CASE("durations and sizes are written with their units") {
  CHECK(format_duration(0.00375) == "3.75 ms");
  CHECK(format_duration(6.84) == "6.84 s");
  CHECK(format_duration(2.5e-7) == "250 ns");
  CHECK(format_duration(1.5e-6) == "1.50 µs");
  CHECK(format_duration(1.5e-6, 1e-7) == "1.5 µs");
  CHECK(format_duration(1.5e-6, 1e-7, 1e-3) == "0.0015 ms");
  CHECK(format_duration(3 * 86400.0) == "3.00 d");
  CHECK(format_bytes(512) == "512 B");
  CHECK(format_bytes(1536) == "1.5 KiB");
  CHECK(format_bytes(16.0 * (1 << 30)) == "16 GiB");
}
