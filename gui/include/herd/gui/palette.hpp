#pragma once
// The colours every view uses for the same thing: ops by kind, communication by group, run spans
// by kind (Tableau 10, readable on white and distinct for the common kinds of colour blindness).
#include <QColor>

#include "herd/gui/step_timeline_data.hpp"
#include "herd/sim/run/timeline.hpp"

namespace herd::gui {

QColor colour_of(OpStyle style);
QColor colour_of(sim::run::SpanKind kind);
/// The i-th colour of a categorical palette (failure categories, series).
QColor category_colour(int i);
/// The cluster's power curve, and its peak and min marks.
QColor power_colour();
QColor power_peak_colour();
QColor power_min_colour();
/// The step timeline's critical path: apart from every op and idle colour.
QColor critical_path_colour();

}  // namespace herd::gui
