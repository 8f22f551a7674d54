#include "herd/gui/power_curve.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace herd::gui {

PowerPoints step_power_points(const sim::StepPower& power) { return step_power_points(power, power.cluster_w); }

PowerPoints step_power_points(const sim::StepPower& power, const std::vector<double>& w) {
  PowerPoints out;
  if (w.empty()) return out;
  out.reserve(w.size() + 1);
  for (std::size_t i = 0; i < w.size(); ++i) out.push_back({std::min(double(i) * power.bin_s, power.step_time_s), w[i]});
  out.push_back({power.step_time_s, w.back()});
  return out;
}

namespace {
/// The index of the point whose level holds at `t_s` (the last point at or before it).
std::size_t point_before(const PowerPoints& points, double t_s) {
  const auto it = std::upper_bound(points.begin(), points.end(), t_s, [](double t, const sim::PowerPoint& p) { return t < p.t_s; });
  return it == points.begin() ? 0 : static_cast<std::size_t>(it - points.begin()) - 1;
}
}  // namespace

void power_columns(const PowerPoints& points, const TimeAxis& axis, std::vector<PowerColumn>& out) {
  const int width = axis.width_px();
  out.assign(static_cast<std::size_t>(width), {});
  if (points.size() < 2) return;
  std::vector<double> covered_s(out.size(), 0.0);
  for (std::size_t i = point_before(points, axis.start_s()); i + 1 < points.size(); ++i) {
    const double a = points[i].t_s, b = points[i + 1].t_s;
    if (a >= axis.end_s()) break;
    if (!(b > a)) continue;
    const double xa = axis.x_of(a), xb = axis.x_of(b);
    const int c0 = std::max(0, static_cast<int>(std::floor(xa)));
    const int c1 = std::min(width - 1, static_cast<int>(std::ceil(xb)) - 1);
    for (int c = c0; c <= c1; ++c) {
      PowerColumn& col = out[static_cast<std::size_t>(c)];
      const double w = points[i].w;
      const double dt = std::min(b, axis.t_of(c + 1)) - std::max(a, axis.t_of(c));
      if (!col.set) col = {w, w, 0, true};
      col.lo_w = std::min(col.lo_w, w);
      col.hi_w = std::max(col.hi_w, w);
      col.mean_w += w * std::max(0.0, dt);
      covered_s[static_cast<std::size_t>(c)] += std::max(0.0, dt);
    }
  }
  for (std::size_t c = 0; c < out.size(); ++c) {
    PowerColumn& col = out[c];
    if (col.set) col.mean_w = covered_s[c] > 0 ? std::clamp(col.mean_w / covered_s[c], col.lo_w, col.hi_w) : col.lo_w;
  }
}

std::optional<double> power_at(const PowerPoints& points, double t_s) {
  if (points.size() < 2 || t_s < points.front().t_s || t_s > points.back().t_s) return std::nullopt;
  return points[point_before(points, t_s)].w;
}

std::string PowerScale::label(double w) const {
  const double v = w / unit_w;
  const double step = step_w / unit_w;
  int decimals = 0;
  while (decimals < 3 && std::abs(step * std::pow(10.0, decimals) - std::round(step * std::pow(10.0, decimals))) > 1e-6) ++decimals;
  char text[64];
  std::snprintf(text, sizeof text, "%.*f %s", decimals, v, unit.c_str());
  return text;
}

PowerScale power_scale(double max_w, int max_ticks) {
  PowerScale s;
  max_w = max_w > 0 && std::isfinite(max_w) ? max_w : 1;
  max_ticks = std::max(1, max_ticks);
  s.step_w = nice_step(max_w / max_ticks, {1.0, 2.0, 2.5, 5.0, 10.0});
  s.top_w = max_w;
  if (s.top_w >= 1e6) {
    s.unit_w = 1e6;
    s.unit = "MW";
  } else if (s.top_w >= 1e3) {
    s.unit_w = 1e3;
    s.unit = "kW";
  }
  return s;
}

PowerExtremes power_extremes(const sim::StepPower& power) {
  PowerExtremes e;
  if (power.window_s > 0) {
    e.peak_w = power.peak_w;
    e.peak_at_s = power.peak_at_s;
    e.min_w = power.min_w;
    e.min_at_s = power.min_at_s;
    e.window_s = power.window_s;
    e.window_means = true;
    return e;
  }
  const auto& w = power.cluster_w;
  if (w.empty()) return e;
  const auto [lo, hi] = std::minmax_element(w.begin(), w.end());
  auto end_of = [&](auto it) { return std::min(power.step_time_s, double(it - w.begin() + 1) * power.bin_s); };
  e.peak_w = *hi;
  e.peak_at_s = end_of(hi);
  e.min_w = *lo;
  e.min_at_s = end_of(lo);
  e.window_s = power.bin_s;
  return e;
}

}  // namespace herd::gui
