#include "herd/gui/time_axis.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace herd::gui {

namespace {
constexpr double kMinSpanPerPx = 1e-10;  // 1 ns per 10 px: below this nothing of a step is resolved
}

TimeAxis::TimeAxis(double limit_s, int width_px) {
  set_width(width_px);
  reset(limit_s);
}

void TimeAxis::reset(double limit_s) {
  limit_s_ = limit_s > 0 ? limit_s : 1;
  start_s_ = 0;
  end_s_ = limit_s_;
}

void TimeAxis::set_width(int width_px) { width_px_ = std::max(1, width_px); }

void TimeAxis::show(double start_s, double end_s) {
  if (end_s < start_s) std::swap(start_s, end_s);
  double span = std::clamp(end_s - start_s, kMinSpanPerPx * width_px_, limit_s_);
  double centre = (start_s + end_s) / 2;
  start_s_ = std::clamp(centre - span / 2, 0.0, limit_s_ - span);
  end_s_ = start_s_ + span;
}

void TimeAxis::zoom(double factor, double anchor_px) {
  const double anchor_t = t_of(anchor_px);
  const double frac = anchor_px / width_px_;
  const double span = std::clamp(span_s() * factor, kMinSpanPerPx * width_px_, limit_s_);
  double start = std::clamp(anchor_t - frac * span, 0.0, limit_s_ - span);
  start_s_ = start;
  end_s_ = start + span;
}

void TimeAxis::pan(double dx_px) {
  const double span = span_s();
  start_s_ = std::clamp(start_s_ + dx_px * seconds_per_px(), 0.0, limit_s_ - span);
  end_s_ = start_s_ + span;
}

std::vector<TimeAxis::Tick> TimeAxis::ticks(double min_gap_px) const {
  const double min_step = min_gap_px * seconds_per_px();
  // Long spans step in minutes, hours, days rather than in powers of ten of seconds.
  static constexpr double kCalendar[] = {60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
                                         86400, 2 * 86400, 5 * 86400, 7 * 86400, 14 * 86400, 28 * 86400};
  double step = 0;
  if (min_step > 30) {
    for (double c : kCalendar)
      if (c >= min_step) { step = c; break; }
  }
  if (step == 0) step = nice_step(min_step, {1.0, 2.0, 5.0, 10.0});
  std::vector<Tick> out;
  // One unit for every label, the one of the largest time in view.
  const double magnitude = std::max({std::abs(start_s_), std::abs(end_s_), step});
  const double first = std::ceil(start_s_ / step) * step;
  for (double t = first; t <= end_s_ + step * 1e-9 && out.size() < 1000; t += step)
    out.push_back({t, format_duration(std::abs(t) < step * 1e-6 ? 0 : t, step, magnitude)});
  return out;
}

double nice_step(double min_step, std::initializer_list<double> multiples) {
  const double decade = std::pow(10.0, std::floor(std::log10(min_step)));
  for (double m : multiples)
    if (m * decade >= min_step * (1 - 1e-9)) return m * decade;
  return 10 * decade;
}

std::string format_duration(double seconds, double scale_s, double magnitude_s) {
  const double scale = magnitude_s > 0 ? magnitude_s : std::max(std::abs(seconds), std::abs(scale_s));
  struct Unit { double s; const char* name; };
  static constexpr Unit kUnits[] = {{86400, "d"}, {3600, "h"}, {60, "min"}, {1, "s"}, {1e-3, "ms"}, {1e-6, "µs"}, {1e-9, "ns"}};
  Unit unit = kUnits[6];
  for (const Unit& u : kUnits)
    if (scale >= u.s) { unit = u; break; }
  if (seconds == 0) return scale_s > 0 ? std::string("0 ") + unit.name : "0 s";
  const double v = seconds / unit.s;
  // Digits enough to tell ticks `scale_s` apart, and three significant ones for a value alone.
  int decimals = 0;
  const double rel = scale_s > 0 ? scale_s / unit.s : std::abs(v) / 100;
  while (decimals < 9 && rel * std::pow(10.0, decimals) < 0.999) ++decimals;
  char text[64];
  std::snprintf(text, sizeof text, "%.*f %s", decimals, v, unit.name);
  return text;
}

std::string format_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (u < 4 && std::abs(bytes) >= 1024) { bytes /= 1024; ++u; }
  char text[64];
  if (u == 0 || bytes == std::floor(bytes)) std::snprintf(text, sizeof text, "%.0f %s", bytes, kUnits[u]);
  else std::snprintf(text, sizeof text, "%.3g %s", bytes, kUnits[u]);
  return text;
}

}  // namespace herd::gui
