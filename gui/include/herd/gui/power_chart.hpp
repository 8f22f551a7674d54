#pragma once
// Drawing a power curve (power_curve.hpp) under a timeline: the step timeline's power lane and
// the run view's power strip share it, so both read the same way.
#include <QColor>
#include <QRect>

#include "herd/gui/power_curve.hpp"

class QPainter;

namespace herd::gui {

/// Where `w` lies in `plot` on `scale` (0 at the bottom).
double power_y(const QRect& plot, const PowerScale& scale, double w);

/// The scale for a plot `height_px` tall showing levels up to `max_w` (a tick at most every 18 px).
PowerScale power_scale_for(double max_w, int height_px);

/// Gridlines across `plot` at the scale's ticks and their labels right-aligned in the `label_w`
/// pixels left of it; the top label sits below its line so that nothing is cut at the plot's edge.
void paint_power_axis(QPainter& p, const QRect& plot, int label_w, const PowerScale& scale, const QColor& text);

/// `points` over `axis` into `plot`: per pixel column, the mean level over its time as the line,
/// the area under it filled, and the range of the levels under it (lowest to highest) shaded, as
/// Perfetto draws a counter that changes faster than the pixels. A repaint costs the width plus the
/// points in view. `fill_alpha`: the area's opacity (a lane a few pixels high wants more).
void paint_power_curve(QPainter& p, const QRect& plot, const TimeAxis& axis, const PowerPoints& points, const PowerScale& scale,
                       const QColor& colour, int fill_alpha = 45);

}  // namespace herd::gui
