#pragma once
// The cluster's power as the timelines draw it: a step function of (time, watts) points, reduced
// to one low-high range per pixel column (however many points lie under it), a power axis with
// round ticks, and what the step's power lane marks (the peak and min windows). Plain C++ (no Qt).
#include <optional>
#include <string>
#include <vector>

#include "herd/gui/time_axis.hpp"
#include "herd/sim/power/run_power.hpp"
#include "herd/sim/power/step_power.hpp"

namespace herd::gui {

/// Points of a step function: points[i].w holds from points[i].t_s to points[i + 1].t_s; the last
/// point closes the curve (sim::run_power_series' form, and the Chrome trace's counters').
using PowerPoints = std::vector<sim::PowerPoint>;

/// The step's cluster power (StepPower::cluster_w, one point per bin and one at the step's end).
PowerPoints step_power_points(const sim::StepPower& power);
/// The same for any series of `power`'s bins (one rank's GPU: StepPower::rank_w).
PowerPoints step_power_points(const sim::StepPower& power, const std::vector<double>& bins_w);

/// The power through one pixel column of an axis: the lowest and highest level under it, and
/// their mean over the column's time.
struct PowerColumn {
  double lo_w = 0, hi_w = 0, mean_w = 0;
  bool set = false;  ///< false: the curve does not reach this column
};
/// One column per pixel of `axis`; cost: the points in view plus the width.
void power_columns(const PowerPoints& points, const TimeAxis& axis, std::vector<PowerColumn>& out);
/// The level at `t_s` (null outside the curve).
std::optional<double> power_at(const PowerPoints& points, double t_s);

/// A power axis from 0 to `top_w` with ticks every `step_w` (the last at or below the top), labelled
/// in `unit` (W, kW, MW).
struct PowerScale {
  double top_w = 1, step_w = 1;
  double unit_w = 1;
  std::string unit = "W";
  std::string label(double w) const;  ///< "20 MW", "2.5 kW"
};
/// The scale from 0 to `max_w` with at most `max_ticks` ticks above 0, at 1, 2, 2.5 or 5 x 10^k.
PowerScale power_scale(double max_w, int max_ticks);

/// What the step's power lane marks: the highest and lowest window mean and where their windows
/// end (the step's own figures), or, for a saved step whose trace holds only the bins, the
/// highest and lowest bin.
struct PowerExtremes {
  double peak_w = 0, peak_at_s = 0;
  double min_w = 0, min_at_s = 0;
  double window_s = 0;        ///< the window (or the bin) ending at peak_at_s, min_at_s
  bool window_means = false;  ///< false: bins
  double swing_w() const { return peak_w - min_w; }
};
PowerExtremes power_extremes(const sim::StepPower& power);

}  // namespace herd::gui
