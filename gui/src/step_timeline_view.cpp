#include "herd/gui/step_timeline_view.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>
#include <QToolTip>
#include <QWheelEvent>

#include "herd/gui/palette.hpp"
#include "herd/gui/power_chart.hpp"
#include "herd/model/units.hpp"

namespace herd::gui {

namespace {
constexpr double kWheelZoom = 0.8;  // per wheel notch (120 units)
constexpr double kKeyPan = 0.1;     // of the width per A/D press
constexpr int kStreamNameWidth = 80;
constexpr int kPowerTop = 22;     // above the power plot: room for the peak's label
constexpr int kPowerBottom = 8;
constexpr int kPowerAxisWidth = 64;  // the power axis' labels, right of the label column

QString stream_name(model::Stream s) {
  switch (s) {
    case model::Stream::compute: return "compute";
    case model::Stream::tp_comm: return "TP";
    case model::Stream::cp_comm: return "CP";
    case model::Stream::pp_comm: return "PP send/recv";
    case model::Stream::dp_comm: return "DP";
  }
  return {};
}
}  // namespace

StepTimelineView::StepTimelineView(QWidget* parent) : QAbstractScrollArea(parent) {
  setFocusPolicy(Qt::StrongFocus);
  viewport()->setMouseTracking(true);
  viewport()->setBackgroundRole(QPalette::Base);
  verticalScrollBar()->setSingleStep(kLaneHeight);
  setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  axis_.set_width(std::max(1, viewport()->width() - kLabelWidth));
}

void StepTimelineView::set_data(std::shared_ptr<StepTimelineData> data, double limit_s) {
  data_ = std::move(data);
  selected_.reset();
  axis_.reset(limit_s > 0 ? limit_s : data_ ? data_->step_time_s() * 1.02 : 1);
  relayout();
  viewport()->update();
  Q_EMIT range_changed(axis_.start_s(), axis_.end_s());
}

void StepTimelineView::set_power_height(int px) {
  power_height_ = std::max(60, px);
  relayout();
  viewport()->update();
}

void StepTimelineView::relayout() {
  rows_ = data_ ? data_->rows() : std::vector<StepTimelineData::Row>{};
  row_y_.assign(1, 0);
  for (const auto& r : rows_) {
    const int lanes = static_cast<int>(r.lanes.size()) + (rank_power_lane(r) ? 1 : 0);
    row_y_.push_back(row_y_.back() + (r.lanes.empty() ? kTitleHeight : lanes * kLaneHeight + kRowGap));
  }
  const int page = std::max(0, rows_bottom() - kRulerHeight);
  verticalScrollBar()->setPageStep(page);
  verticalScrollBar()->setRange(0, std::max(0, row_y_.back() - page));
}

void StepTimelineView::resizeEvent(QResizeEvent* e) {
  QAbstractScrollArea::resizeEvent(e);
  const double start = axis_.start_s(), end = axis_.end_s();
  axis_.set_width(std::max(1, viewport()->width() - kLabelWidth));
  axis_.show(start, end);
  relayout();
}

void StepTimelineView::scrollContentsBy(int, int) { viewport()->update(); }

int StepTimelineView::content_y(int row) const {
  return row_y_[static_cast<std::size_t>(row)] - verticalScrollBar()->value() + kRulerHeight;
}

int StepTimelineView::rows_bottom() const {
  const int h = viewport()->height();
  return data_ && data_->power() ? std::max(kRulerHeight, h - power_height_) : h;
}

std::optional<QRect> StepTimelineView::power_plot() const {
  if (!data_ || !data_->power()) return std::nullopt;
  const int top = rows_bottom() + kPowerTop;
  return QRect(kLabelWidth, top, axis_.width_px(), std::max(10, viewport()->height() - kPowerBottom - top));
}

std::optional<PowerScale> StepTimelineView::power_scale() const {
  const auto plot = power_plot();
  if (!plot) return std::nullopt;
  return power_scale_for(data_->power()->hi_w, plot->height());
}

StepTimelineView::Hit StepTimelineView::hit(QPoint p) const {
  if (p.y() < kRulerHeight || p.y() >= rows_bottom() || rows_.empty()) return {};
  const int y = p.y() - kRulerHeight + verticalScrollBar()->value();
  const auto it = std::upper_bound(row_y_.begin(), row_y_.end(), y);
  const int row = static_cast<int>(it - row_y_.begin()) - 1;
  if (row < 0 || row >= static_cast<int>(rows_.size())) return {};
  const auto& r = rows_[static_cast<std::size_t>(row)];
  const int lane = (y - row_y_[static_cast<std::size_t>(row)]) / kLaneHeight;
  const int lanes = static_cast<int>(r.lanes.size()) + (rank_power_lane(r) ? 1 : 0);
  if (r.lanes.empty() || lane >= lanes) return {row, -1};
  return {row, lane};
}

const PowerPoints* StepTimelineView::rank_power_lane(const StepTimelineData::Row& row) const {
  if (!show_rank_power_ || !data_ || row.lanes.empty()) return nullptr;
  return data_->rank_power(data_->nodes()[static_cast<std::size_t>(row.node)].rank);
}

void StepTimelineView::set_show_rank_power(bool on) {
  show_rank_power_ = on;
  relayout();
  viewport()->update();
}

QString StepTimelineView::describe_rank_power(const StepTimelineData::Row& row, QPoint p) const {
  const PowerPoints* points = rank_power_lane(row);
  const auto w = points ? power_at(*points, axis_.t_of(p.x() - kLabelWidth)) : std::nullopt;
  if (!w) return {};
  const auto& node = data_->nodes()[static_cast<std::size_t>(row.node)];
  return QString("%1: one GPU's power %2 at %3 (%4 bins)")
      .arg(QString::fromStdString(node.label), QString::fromStdString(model::format_power(*w)),
           QString::fromStdString(format_duration(axis_.t_of(p.x() - kLabelWidth))),
           QString::fromStdString(format_duration(data_->power()->step.bin_s)));
}

std::optional<std::int64_t> StepTimelineView::span_at(QPoint p) const {
  const Hit h = hit(p);
  if (!data_ || h.lane < 0 || p.x() < kLabelWidth) return std::nullopt;
  const auto& row = rows_[static_cast<std::size_t>(h.row)];
  const auto& node = data_->nodes()[static_cast<std::size_t>(row.node)];
  if (node.rank < 0 || h.lane >= static_cast<int>(row.lanes.size())) return std::nullopt;
  return data_->pick(node.rank, row.lanes[static_cast<std::size_t>(h.lane)], axis_, p.x() - kLabelWidth);
}

QString StepTimelineView::describe_at(QPoint p) const {
  if (data_ && data_->power() && p.y() >= rows_bottom()) return describe_power(p);
  const Hit h = hit(p);
  if (!data_ || h.lane < 0 || p.x() < kLabelWidth) return {};
  const auto& row = rows_[static_cast<std::size_t>(h.row)];
  const auto& node = data_->nodes()[static_cast<std::size_t>(row.node)];
  if (node.rank < 0)
    return QString("%1 GPUs, one lane per stream: the share of them busy. Click the name to open the group.")
        .arg(node.ranks.size());
  if (h.lane >= static_cast<int>(row.lanes.size())) return describe_rank_power(row, p);
  const auto m = data_->mark_at(node.rank, row.lanes[static_cast<std::size_t>(h.lane)], axis_, p.x() - kLabelWidth);
  if (!m) return {};
  QString text = QString::fromStdString(data_->info(m->span).describe());
  if (data_->on_critical_path(m->span)) text += "\non the critical path";
  return m->merged ? "Several ops under these pixels (zoom in to tell them apart); the longest:\n" + text : text;
}

std::optional<QPoint> StepTimelineView::point_of(int rank, model::Stream stream, double t_s) const {
  if (!data_) return std::nullopt;
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    if (data_->nodes()[static_cast<std::size_t>(rows_[i].node)].rank != rank) continue;
    const auto& lanes = rows_[i].lanes;
    const auto lane = std::find(lanes.begin(), lanes.end(), stream);
    if (lane == lanes.end()) return std::nullopt;
    const int y = content_y(static_cast<int>(i)) + static_cast<int>(lane - lanes.begin()) * kLaneHeight + kLaneHeight / 2;
    const double x = axis_.x_of(t_s);
    if (y < kRulerHeight || y >= rows_bottom() || x < 0 || x >= axis_.width_px()) return std::nullopt;
    return QPoint(kLabelWidth + static_cast<int>(std::floor(x)), y);
  }
  return std::nullopt;
}

void StepTimelineView::set_show_critical_path(bool on) {
  show_critical_ = on;
  viewport()->update();
}

void StepTimelineView::zoom(double factor, double viewport_x) {
  axis_.zoom(factor, std::clamp(viewport_x - kLabelWidth, 0.0, double(axis_.width_px())));
  viewport()->update();
  Q_EMIT range_changed(axis_.start_s(), axis_.end_s());
}

void StepTimelineView::pan(double dx_px) {
  axis_.pan(dx_px);
  viewport()->update();
  Q_EMIT range_changed(axis_.start_s(), axis_.end_s());
}

void StepTimelineView::reset_zoom() {
  axis_.show(0, axis_.limit_s());
  viewport()->update();
  Q_EMIT range_changed(axis_.start_s(), axis_.end_s());
}

void StepTimelineView::show_range(double start_s, double end_s) {
  axis_.show(start_s, end_s);
  viewport()->update();
  Q_EMIT range_changed(axis_.start_s(), axis_.end_s());
}

void StepTimelineView::toggle(int node) {
  if (!data_) return;
  const auto& n = data_->nodes().at(static_cast<std::size_t>(node));
  if (n.rank >= 0) return;
  data_->set_expanded(node, !n.expanded);
  relayout();
  viewport()->update();
}

void StepTimelineView::wheelEvent(QWheelEvent* e) {
  const QPoint delta = e->angleDelta();
  if (e->modifiers() & Qt::ShiftModifier) {
    verticalScrollBar()->setValue(verticalScrollBar()->value() - delta.y() / 120 * 3 * kLaneHeight);
  } else if (delta.y() != 0) {
    zoom(std::pow(kWheelZoom, delta.y() / 120.0), e->position().x());
  } else if (delta.x() != 0) {
    pan(-delta.x() / 120.0 * kKeyPan * axis_.width_px());
  }
  e->accept();
}

void StepTimelineView::mousePressEvent(QMouseEvent* e) {
  press_ = last_ = e->pos();
  dragging_ = false;
}

void StepTimelineView::mouseMoveEvent(QMouseEvent* e) {
  if (e->buttons() & Qt::LeftButton) {
    const QPoint d = e->pos() - last_;
    if ((e->pos() - press_).manhattanLength() > 3) dragging_ = true;
    if (dragging_) {
      last_ = e->pos();
      verticalScrollBar()->setValue(verticalScrollBar()->value() - d.y());
      pan(-d.x());
    }
  }
}

void StepTimelineView::mouseReleaseEvent(QMouseEvent* e) {
  if (dragging_ || e->button() != Qt::LeftButton) {
    dragging_ = false;
    return;
  }
  const Hit h = hit(e->pos());
  if (h.row < 0 || !data_) return;
  const int node = rows_[static_cast<std::size_t>(h.row)].node;
  if (e->pos().x() < kLabelWidth || h.lane < 0) {
    toggle(node);
    return;
  }
  selected_ = span_at(e->pos());
  viewport()->update();
  Q_EMIT span_selected(describe_at(e->pos()));
}

void StepTimelineView::keyPressEvent(QKeyEvent* e) {
  const QPoint cursor = viewport()->mapFromGlobal(QCursor::pos());
  const double anchor = viewport()->rect().contains(cursor) && cursor.x() >= kLabelWidth ? cursor.x() : kLabelWidth + axis_.width_px() / 2.0;
  switch (e->key()) {
    case Qt::Key_W: zoom(kWheelZoom, anchor); break;
    case Qt::Key_S: zoom(1 / kWheelZoom, anchor); break;
    case Qt::Key_A: pan(-kKeyPan * axis_.width_px()); break;
    case Qt::Key_D: pan(kKeyPan * axis_.width_px()); break;
    case Qt::Key_0:
    case Qt::Key_Home: reset_zoom(); break;
    case Qt::Key_C: set_show_critical_path(!show_critical_); break;
    case Qt::Key_P: set_show_rank_power(!show_rank_power_); break;
    default: QAbstractScrollArea::keyPressEvent(e); return;
  }
  e->accept();
}

bool StepTimelineView::viewportEvent(QEvent* e) {
  if (e->type() == QEvent::ToolTip && data_) {
    auto* help = static_cast<QHelpEvent*>(e);
    if (const auto text = describe_at(help->pos()); !text.isEmpty())
      QToolTip::showText(help->globalPos(), text, viewport());
    else
      QToolTip::hideText();
    return true;
  }
  return QAbstractScrollArea::viewportEvent(e);
}

void StepTimelineView::paint_ruler(QPainter& p) const {
  const QPalette& pal = palette();
  p.fillRect(QRect(0, 0, viewport()->width(), kRulerHeight), pal.color(QPalette::Window));
  p.setPen(pal.color(QPalette::Mid));
  p.drawLine(0, kRulerHeight - 1, viewport()->width(), kRulerHeight - 1);
  p.setPen(pal.color(QPalette::Text));
  QFont f = p.font();
  f.setBold(true);
  p.setFont(f);
  p.drawText(QRect(8, 0, kLabelWidth - 12, kRulerHeight), Qt::AlignVCenter | Qt::AlignLeft,
             data_ && data_->per_rank() ? "rank / stream" : "stage / stream");
  p.setFont(font());
  for (const auto& tick : axis_.ticks()) {
    const int x = kLabelWidth + static_cast<int>(std::lround(axis_.x_of(tick.t_s)));
    p.setPen(pal.color(QPalette::Text));
    p.drawLine(x, kRulerHeight - 8, x, kRulerHeight - 1);
    const QString text = QString::fromStdString(tick.label);
    if (x + 3 + p.fontMetrics().horizontalAdvance(text) > viewport()->width()) continue;  // no label cut at the edge
    p.drawText(QRect(x + 3, 2, 120, kRulerHeight - 10), Qt::AlignLeft | Qt::AlignVCenter, text);
  }
}

namespace {
/// The parts of the window of `window_s` ending at `end_s` within a step of `step_s` (a window
/// reaching back past the step's start wraps around to its end, as the step repeats).
std::vector<std::pair<double, double>> window_parts(double end_s, double window_s, double step_s) {
  const double start = end_s - window_s;
  if (start >= 0 || step_s <= 0) return {{std::max(0.0, start), end_s}};
  return {{0, end_s}, {std::max(end_s, step_s + start), step_s}};
}

QString power_text(double w) { return QString::fromStdString(model::format_power(w)); }
}  // namespace

void StepTimelineView::paint_power(QPainter& p) const {
  const auto& power = *data_->power();
  const PowerExtremes& ex = power.extremes;
  const QPalette& pal = palette();
  const int top = rows_bottom(), width = viewport()->width(), height = viewport()->height();
  const QRect plot = *power_plot();
  const PowerScale scale = *power_scale();
  p.setClipping(false);
  p.fillRect(QRect(0, top, width, height - top), pal.color(QPalette::Base));
  p.fillRect(QRect(0, top, width, 2), pal.color(QPalette::Mid));
  p.setPen(QColor(0, 0, 0, 18));
  for (const auto& tick : axis_.ticks()) {
    const int x = kLabelWidth + static_cast<int>(std::lround(axis_.x_of(tick.t_s)));
    p.drawLine(x, top + 2, x, height);
  }
  // The label column: what the lane is, the swing and over what it is taken; the axis right of it.
  QFont bold = font();
  bold.setBold(true);
  p.setFont(bold);
  p.setPen(pal.color(QPalette::Text));
  const int text_w = kLabelWidth - kPowerAxisWidth - 10;
  const QFontMetrics fm(font()), bold_fm(bold);
  p.drawText(QRect(8, top + 6, text_w, bold_fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
             bold_fm.elidedText("cluster power (IT)", Qt::ElideRight, text_w));
  p.setFont(font());
  const QString over = QString::fromStdString(format_duration(ex.window_s)) + (ex.window_means ? " windows" : " bins");
  const QStringList lines = {"swing " + power_text(ex.swing_w()), "(" + over + ")"};
  int y = top + 6 + bold_fm.height() + 2;
  for (int i = 0; i < lines.size(); ++i) {
    p.setPen(i == 0 ? pal.color(QPalette::Text) : pal.color(QPalette::PlaceholderText));
    p.drawText(QRect(8, y, text_w, fm.height()), Qt::AlignLeft | Qt::AlignVCenter, fm.elidedText(lines[i], Qt::ElideRight, text_w));
    y += fm.height();
  }
  paint_power_axis(p, plot, kPowerAxisWidth, scale, pal.color(QPalette::Text));
  // The peak's and the min's windows: a band each, under the curve.
  const double step = data_->step_time_s();
  auto band = [&](double end_s, const QColor& c) {
    QColor fill = c;
    fill.setAlpha(40);
    for (const auto& [a, b] : window_parts(end_s, ex.window_s, step)) {
      const double x0 = std::max(0.0, axis_.x_of(a)), x1 = std::min(double(plot.width()), axis_.x_of(b));
      if (x1 > x0) p.fillRect(QRectF(plot.left() + x0, plot.top(), std::max(1.0, x1 - x0), plot.height()), fill);
    }
  };
  band(ex.peak_at_s, power_peak_colour());
  band(ex.min_at_s, power_min_colour());
  paint_power_curve(p, plot, axis_, power.points, scale, power_colour());
  // Each window's mean as a line over it, and its value next to it (above the peak, below the min).
  p.setClipRect(QRect(kLabelWidth, top + 2, width - kLabelWidth, height - top - 2));
  auto mark = [&](double end_s, double w, const QColor& c, const QString& what, bool above) {
    const double yl = power_y(plot, scale, w);
    std::optional<double> label_x;
    double widest = -1;
    p.setPen(QPen(c, 2));
    for (const auto& [a, b] : window_parts(end_s, ex.window_s, step)) {
      const double x0 = axis_.x_of(a), x1 = axis_.x_of(b);
      if (x1 < 0 || x0 > plot.width()) continue;
      p.drawLine(QPointF(plot.left() + std::max(-2.0, x0), yl), QPointF(plot.left() + std::min(plot.width() + 2.0, std::max(x1, x0 + 3)), yl));
      // The label goes by the widest part in view (a window wrapping around the step has two).
      const double shown = std::min(x1, double(plot.width())) - std::max(x0, 0.0);
      if (shown > widest) {
        widest = shown;
        label_x = plot.left() + std::clamp(x0, 0.0, double(plot.width()));
      }
    }
    if (!label_x) return;
    const QString text = what + " " + power_text(w);
    const int tw = fm.horizontalAdvance(text) + 6, th = fm.height();
    int x = static_cast<int>(*label_x);
    if (x + tw > plot.right()) x = plot.right() - tw;
    int ty = above ? static_cast<int>(yl) - th - 3 : static_cast<int>(yl) + 3;
    if (!above && ty + th > plot.bottom()) ty = static_cast<int>(yl) - th - 3;
    ty = std::max(top + 3, ty);
    const QRect r(x, ty, tw, th);
    QColor back = pal.color(QPalette::Base);
    back.setAlpha(215);
    p.fillRect(r, back);
    p.setPen(c.darker(115));
    p.drawText(r, Qt::AlignCenter, text);
  };
  const QString kind = ex.window_means ? QString("peak") : QString("max");
  mark(ex.peak_at_s, ex.peak_w, power_peak_colour(), kind, true);
  mark(ex.min_at_s, ex.min_w, power_min_colour(), "min", false);
  p.setClipping(false);
}

QString StepTimelineView::describe_power(QPoint pt) const {
  const auto plot = power_plot();
  if (!plot || pt.x() < kLabelWidth) {
    if (!plot) return {};
    const auto& ex = data_->power()->extremes;
    return QString("The cluster's IT power (every GPU of the job, servers, switches) through the step, per %1 bin.\n"
                   "Marked: the %2 with the highest and the lowest mean; swing %3.")
        .arg(QString::fromStdString(format_duration(data_->power()->step.bin_s)),
             ex.window_means ? QString::fromStdString(format_duration(ex.window_s)) + " windows" : QString("bins"),
             power_text(ex.swing_w()));
  }
  const double x = pt.x() - kLabelWidth;
  const double t = axis_.t_of(x + 0.5);
  const auto& power = *data_->power();
  const auto w = power_at(power.points, t);
  if (!w) return {};
  QString text = QString("%1: %2 (cluster IT power, %3 bin)")
                     .arg(QString::fromStdString(format_duration(t, axis_.seconds_per_px(), axis_.end_s())), power_text(*w),
                          QString::fromStdString(format_duration(power.step.bin_s)));
  std::vector<PowerColumn> columns;
  power_columns(power.points, axis_, columns);
  const auto c = static_cast<std::size_t>(std::clamp(static_cast<int>(x), 0, axis_.width_px() - 1));
  if (columns[c].set && columns[c].hi_w > columns[c].lo_w)
    text += QString("\n%1 to %2 under this pixel (zoom in to tell the bins apart)").arg(power_text(columns[c].lo_w), power_text(columns[c].hi_w));
  const auto& ex = power.extremes;
  auto inside = [&](double end_s) {
    for (const auto& [a, b] : window_parts(end_s, ex.window_s, data_->step_time_s()))
      if (t >= a && t <= b) return true;
    return false;
  };
  const QString unit = ex.window_means ? QString::fromStdString(format_duration(ex.window_s)) + " window" : QString("bin");
  if (inside(ex.peak_at_s)) text += QString("\nin the %1 of the highest mean: %2").arg(unit, power_text(ex.peak_w));
  if (inside(ex.min_at_s)) text += QString("\nin the %1 of the lowest mean: %2").arg(unit, power_text(ex.min_w));
  return text;
}

void StepTimelineView::paintEvent(QPaintEvent*) {
  QPainter p(viewport());
  const QPalette& pal = palette();
  p.fillRect(viewport()->rect(), pal.color(QPalette::Base));
  if (!data_) {
    p.setPen(pal.color(QPalette::PlaceholderText));
    p.drawText(viewport()->rect(), Qt::AlignCenter, "No step simulated yet: press Run.");
    return;
  }
  const int width = viewport()->width(), height = viewport()->height(), bottom = rows_bottom();
  const auto ticks = axis_.ticks();
  // Grid lines under everything.
  p.setPen(QColor(0, 0, 0, 18));
  for (const auto& tick : ticks) {
    const int x = kLabelWidth + static_cast<int>(std::lround(axis_.x_of(tick.t_s)));
    p.drawLine(x, kRulerHeight, x, bottom);
  }
  std::vector<Mark> marks, idle, critical;
  // Where each drawn leaf lane is (y of its middle), for the critical path's lines between lanes.
  std::unordered_map<std::uint32_t, int> lane_y;
  const QColor critical_colour = critical_path_colour();
  const QFontMetrics fm(font());
  QFont small = font();
  small.setPointSizeF(std::max(6.0, font().pointSizeF() - 1.5));
  const QFontMetrics small_fm(small);
  const auto first = std::upper_bound(row_y_.begin(), row_y_.end(), verticalScrollBar()->value());
  for (int i = std::max(0, static_cast<int>(first - row_y_.begin()) - 1); i < static_cast<int>(rows_.size()); ++i) {
    const int y0 = content_y(i);
    if (y0 >= bottom) break;
    const auto& row = rows_[static_cast<std::size_t>(i)];
    const auto& node = data_->nodes()[static_cast<std::size_t>(row.node)];
    const int row_h = row_y_[static_cast<std::size_t>(i) + 1] - row_y_[static_cast<std::size_t>(i)];
    if (i % 2) p.fillRect(QRect(0, y0, width, row_h), QColor(0, 0, 0, 10));
    // Label: indentation by depth, a triangle on groups, red for the rank that finished last.
    const int indent = 8 + row.depth * 14;
    p.setPen(node.critical ? QColor(0xc0392b) : pal.color(QPalette::Text));
    QString label = QString::fromStdString(node.label);
    if (node.rank < 0) label = QString(node.expanded ? "▾ " : "▸ ") + label;
    if (node.critical && node.rank >= 0) label += "  (last)";
    p.setFont(font());
    // Lane rows keep the right of the column for the stream names.
    const int label_w = kLabelWidth - indent - (row.lanes.empty() ? 4 : kStreamNameWidth + 8);
    p.drawText(QRect(indent, y0, label_w, std::min(row_h, kLaneHeight + 2)), Qt::AlignVCenter | Qt::AlignLeft,
               fm.elidedText(label, Qt::ElideRight, label_w));
    if (node.critical) p.fillRect(QRect(0, y0, 3, row_h - (row.lanes.empty() ? 0 : kRowGap)), QColor(0xc0392b));
    p.setClipRect(QRect(kLabelWidth, kRulerHeight, width - kLabelWidth, bottom - kRulerHeight));
    for (std::size_t l = 0; l < row.lanes.size(); ++l) {
      const int ly = y0 + static_cast<int>(l) * kLaneHeight;
      if (ly + kLaneHeight < kRulerHeight) continue;
      const model::Stream stream = row.lanes[l];
      const QRectF lane_rect(kLabelWidth, ly + 1, width - kLabelWidth, kLaneHeight - 2);
      if (node.rank < 0) {
        data_->aggregate_marks(row.node, stream, axis_, marks);
        for (const Mark& m : marks) {
          QColor c = colour_of(m.style);
          c.setAlpha(m.level);
          p.fillRect(QRectF(kLabelWidth + m.x0, lane_rect.top(), m.x1 - m.x0, lane_rect.height()), c);
        }
      } else {
        data_->marks(node.rank, stream, axis_, marks, stream == model::Stream::compute ? &idle : nullptr);
        if (stream == model::Stream::compute) {
          for (const Mark& m : idle)
            p.fillRect(QRectF(kLabelWidth + m.x0, lane_rect.top(), m.x1 - m.x0, lane_rect.height()),
                       QBrush(colour_of(m.style), Qt::BDiagPattern));
        }
        p.setFont(small);
        for (const Mark& m : marks) {
          const QRectF r(kLabelWidth + m.x0, lane_rect.top(), std::max(1.0f, m.x1 - m.x0), lane_rect.height());
          QColor c = colour_of(m.style);
          if (m.backward) c = c.darker(125);
          p.fillRect(r, c);
          if (r.width() > 40 && !m.merged) {  // a merged run is many ops: no one name
            const SpanInfo info = data_->info(m.span);
            const QString text = small_fm.elidedText(QString::fromStdString(info.op), Qt::ElideRight, static_cast<int>(r.width()) - 4);
            if (text.size() > 2) {
              p.setPen(c.lightness() > 150 ? Qt::black : Qt::white);
              p.drawText(r.adjusted(2, 0, -2, 0), Qt::AlignVCenter | Qt::AlignLeft, text);
            }
          }
          if (selected_ && *selected_ == m.span) {
            p.setPen(QPen(Qt::black, 2));
            p.drawRect(r.adjusted(-1, -1, 1, 1));
          }
        }
        p.setFont(font());
        lane_y[static_cast<std::uint32_t>(node.rank * kStreams + static_cast<int>(stream))] = ly + kLaneHeight / 2;
      }
      if (show_critical_) {
        data_->critical_marks(row.node, stream, axis_, critical);
        for (const Mark& m : critical)
          p.fillRect(QRectF(kLabelWidth + m.x0, lane_rect.bottom() - 3, std::max(2.0f, m.x1 - m.x0), 3), critical_colour);
      }
      p.setClipping(false);
      // Stream names right-aligned in the label column.
      p.setFont(small);
      p.setPen(pal.color(QPalette::PlaceholderText));
      p.drawText(QRect(kLabelWidth - kStreamNameWidth - 6, ly, kStreamNameWidth, kLaneHeight), Qt::AlignVCenter | Qt::AlignRight,
                 stream_name(stream));
      p.setFont(font());
      p.setClipRect(QRect(kLabelWidth, kRulerHeight, width - kLabelWidth, bottom - kRulerHeight));
    }
    if (const PowerPoints* points = rank_power_lane(row)) {
      // One GPU's power, on the scale every rank's lane shares (0 to the highest bin of any).
      const int ly = y0 + static_cast<int>(row.lanes.size()) * kLaneHeight;
      if (ly + kLaneHeight >= kRulerHeight) {
        const QRect plot(kLabelWidth, ly + 1, axis_.width_px(), kLaneHeight - 2);
        paint_power_curve(p, plot, axis_, *points, power_scale_for(data_->power()->rank_hi_w, plot.height()), power_colour(), 110);
        p.setClipping(false);
        p.setFont(small);
        p.setPen(pal.color(QPalette::PlaceholderText));
        p.drawText(QRect(kLabelWidth - kStreamNameWidth - 6, ly, kStreamNameWidth, kLaneHeight), Qt::AlignVCenter | Qt::AlignRight,
                   "GPU power");
        p.setFont(font());
      }
    }
    p.setClipping(false);
  }
  // The critical path's passage from one drawn lane to another: a line from where the op before
  // ends to where the next starts, at most one per pixel column.
  if (show_critical_) {
    const auto& path = data_->critical_path();
    p.setClipRect(QRect(kLabelWidth, kRulerHeight, width - kLabelWidth, bottom - kRulerHeight));
    p.setPen(QPen(critical_colour, 1.5));
    int last_x = -1;
    for (std::size_t i = 1; i < path.spans.size(); ++i) {
      if (path.lanes[i] == path.lanes[i - 1]) continue;
      const auto from = lane_y.find(path.lanes[i - 1]), to = lane_y.find(path.lanes[i]);
      if (from == lane_y.end() || to == lane_y.end()) continue;
      const double x0 = axis_.x_of(data_->end_of(path.spans[i - 1])), x1 = axis_.x_of(data_->start_of(path.spans[i]));
      if (x1 < 0 || x0 > axis_.width_px() || static_cast<int>(x1) == last_x) continue;
      last_x = static_cast<int>(x1);
      p.drawLine(QPointF(kLabelWidth + x0, from->second), QPointF(kLabelWidth + x1, to->second));
    }
    p.setClipping(false);
  }
  if (data_->power()) paint_power(p);
  // The end of the step.
  const double x_end = axis_.x_of(data_->step_time_s());
  if (x_end >= 0 && x_end <= axis_.width_px()) {
    p.setPen(QPen(QColor(0xc0392b), 1, Qt::DashLine));
    p.drawLine(QPointF(kLabelWidth + x_end, kRulerHeight), QPointF(kLabelWidth + x_end, height));
  }
  p.setPen(pal.color(QPalette::Mid));
  p.drawLine(kLabelWidth - 1, kRulerHeight, kLabelWidth - 1, height);
  paint_ruler(p);
}

}  // namespace herd::gui
