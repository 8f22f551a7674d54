#include "herd/gui/power_chart.hpp"

#include <algorithm>
#include <cmath>

#include <QPainter>
#include <QPainterPath>

namespace herd::gui {

double power_y(const QRect& plot, const PowerScale& scale, double w) {
  return plot.bottom() + 1 - std::clamp(w / scale.top_w, 0.0, 1.0) * plot.height();
}

PowerScale power_scale_for(double max_w, int height_px) { return power_scale(max_w * 1.06, std::clamp(height_px / 18, 1, 6)); }

void paint_power_axis(QPainter& p, const QRect& plot, int label_w, const PowerScale& scale, const QColor& text) {
  const QFontMetrics fm(p.font());
  const int ticks = static_cast<int>(std::floor(scale.top_w / scale.step_w + 1e-9));
  for (int i = 0; i <= ticks; ++i) {
    const double w = i * scale.step_w;
    const int y = static_cast<int>(std::lround(power_y(plot, scale, w)));
    p.setPen(i == 0 ? QColor(0, 0, 0, 60) : QColor(0, 0, 0, 22));
    p.drawLine(plot.left(), y, plot.right(), y);
    const int h = fm.height();
    p.setPen(text);
    p.drawText(QRect(plot.left() - label_w, y - h / 2, label_w - 6, h), Qt::AlignRight | Qt::AlignVCenter,
               QString::fromStdString(scale.label(w)));
  }
}

void paint_power_curve(QPainter& p, const QRect& plot, const TimeAxis& axis, const PowerPoints& points, const PowerScale& scale,
                       const QColor& colour, int fill_alpha) {
  std::vector<PowerColumn> columns;
  power_columns(points, axis, columns);
  QColor fill = colour, range = colour;
  fill.setAlpha(fill_alpha);
  range.setAlpha(std::max(80, fill_alpha + 35));
  const double base = power_y(plot, scale, 0);
  p.save();
  p.setClipRect(plot);
  QPainterPath mean;
  bool open = false;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const PowerColumn& col = columns[c];
    if (!col.set) {
      open = false;
      continue;
    }
    const double x = plot.left() + double(c);
    const double y_hi = power_y(plot, scale, col.hi_w), y_lo = power_y(plot, scale, col.lo_w), y_mean = power_y(plot, scale, col.mean_w);
    p.fillRect(QRectF(x, y_mean, 1, base - y_mean), fill);
    if (y_lo - y_hi >= 1) p.fillRect(QRectF(x, y_hi, 1, y_lo - y_hi), range);
    // The mean through the column's time: the line (the range around it, lighter).
    if (open) mean.lineTo(x, y_mean);
    else mean.moveTo(x, y_mean);
    mean.lineTo(x + 1, y_mean);
    open = true;
  }
  p.setRenderHint(QPainter::Antialiasing, false);
  p.setPen(QPen(colour, 1.6));
  p.setBrush(Qt::NoBrush);
  p.drawPath(mean);
  p.restore();
}

}  // namespace herd::gui
