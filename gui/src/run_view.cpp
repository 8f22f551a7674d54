#include "herd/gui/run_view.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QWheelEvent>

#include "herd/gui/palette.hpp"
#include "herd/gui/power_chart.hpp"
#include "herd/model/units.hpp"

namespace herd::gui {

namespace {
constexpr int kTop = 8, kTitle = 20, kProgress = 44, kBand = 18, kDown = 12, kTicks = 16, kRunGap = 16, kRuler = 26;
constexpr int kPower = 64, kPowerGap = 6, kPowerAxisWidth = 60;  // the power strip under a run's failures
constexpr sim::run::SpanKind kKinds[] = {sim::run::SpanKind::train,      sim::run::SpanKind::checkpoint,
                                         sim::run::SpanKind::detection,  sim::run::SpanKind::spare_wait,
                                         sim::run::SpanKind::restart,    sim::run::SpanKind::checkpoint_load,
                                         sim::run::SpanKind::planned};
QString kind_name(sim::run::SpanKind k) {
  const auto s = sim::run::to_string(k);
  return QString::fromUtf8(s.data(), static_cast<int>(s.size())).replace('_', ' ');
}
/// A horizontal axis line at `y` from `x0`, its ticks below with their labels centred.
void draw_ruler(QPainter& p, const TimeAxis& axis, int x0, int y) {
  p.drawLine(x0, y, x0 + axis.width_px(), y);
  for (const auto& tick : axis.ticks(100)) {
    const int x = x0 + static_cast<int>(std::lround(axis.x_of(tick.t_s)));
    p.drawLine(x, y, x, y + 5);
    p.drawText(QRect(x - 60, y + 5, 120, 16), Qt::AlignHCenter | Qt::AlignTop, QString::fromStdString(tick.label));
  }
}

QString days(double seconds) { return QString::number(seconds / 86400, 'f', 1) + " d"; }
QString hours(double seconds) { return QString::number(seconds / 3600, 'f', 1) + " h"; }
}  // namespace

RunView::RunView(QWidget* parent) : QWidget(parent) {
  setMouseTracking(false);
  setBackgroundRole(QPalette::Base);
  setAutoFillBackground(true);
  setFocusPolicy(Qt::StrongFocus);
}

void RunView::set_runs(std::vector<RunData> runs) {
  runs_ = std::move(runs);
  for (auto& r : runs_)
    if (r.power && r.power_series.empty()) r.power_series = sim::run_power_series(r.timeline, *r.power);
  double end = 0;
  for (const auto& r : runs_) {
    if (!r.timeline.spans.empty()) end = std::max(end, r.timeline.spans.back().end_s);
    end = std::max(end, r.report.elapsed_s.p90);
  }
  axis_.set_width(std::max(1, width() - kLabelWidth - 16));
  axis_.reset(end * 1.03);
  update();
}

void RunView::resizeEvent(QResizeEvent*) {
  const double a = axis_.start_s(), b = axis_.end_s();
  axis_.set_width(std::max(1, width() - kLabelWidth - 16));
  axis_.show(a, b);
}

void RunView::zoom(double factor, double x) {
  axis_.zoom(factor, std::clamp(x - kLabelWidth, 0.0, double(axis_.width_px())));
  update();
}

void RunView::pan(double dx_px) {
  axis_.pan(dx_px);
  update();
}

void RunView::wheelEvent(QWheelEvent* e) {
  if (e->angleDelta().y() != 0) zoom(std::pow(0.8, e->angleDelta().y() / 120.0), e->position().x());
  e->accept();
}

void RunView::mousePressEvent(QMouseEvent* e) { last_ = e->pos(); }

void RunView::mouseMoveEvent(QMouseEvent* e) {
  if (!(e->buttons() & Qt::LeftButton)) return;
  pan(-(e->pos() - last_).x());
  last_ = e->pos();
}

std::vector<QString> RunView::categories() const {
  std::map<QString, int> count;
  for (const auto& r : runs_)
    for (const auto& ev : r.timeline.events)
      if (ev.kind == sim::run::EventKind::failure) ++count[QString::fromStdString(ev.category.empty() ? ev.label : ev.category)];
  std::vector<std::pair<int, QString>> sorted;
  for (const auto& [name, n] : count) sorted.push_back({-n, name});
  std::sort(sorted.begin(), sorted.end());
  std::vector<QString> out;
  for (const auto& [n, name] : sorted) out.push_back(name);
  return out;
}

void RunView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  const QPalette& pal = palette();
  p.fillRect(rect(), pal.color(QPalette::Base));
  if (runs_.empty()) {
    p.setPen(pal.color(QPalette::PlaceholderText));
    p.drawText(rect(), Qt::AlignCenter, "No run simulated yet: press Run.");
    return;
  }
  const int x0 = kLabelWidth, w = axis_.width_px();
  const auto cats = categories();
  auto cat_index = [&](const QString& c) { return static_cast<int>(std::find(cats.begin(), cats.end(), c) - cats.begin()); };
  const QFontMetrics fm(font());
  // One power scale for every run, so that A and B compare by eye.
  double power_max = 0;
  for (const auto& r : runs_)
    for (const auto& pt : r.power_series) power_max = std::max(power_max, pt.w);
  const PowerScale power_scale = power_scale_for(power_max, kPower);
  int y = kTop;
  for (const auto& run : runs_) {
    // Title over the whole width, then the lanes.
    p.setPen(pal.color(QPalette::Text));
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.drawText(QRect(8, y, width() - 16, kTitle), Qt::AlignLeft | Qt::AlignVCenter,
               run.label + QString("  —  trial 0 of %1; %2 checkpoint interval")
                               .arg(run.report.trials)
                               .arg(QString::fromStdString(format_duration(run.report.checkpoint_interval_s))));
    p.setFont(font());
    y += kTitle;
    p.setPen(pal.color(QPalette::PlaceholderText));
    p.drawText(QRect(8, y, kLabelWidth - 12, kProgress), Qt::AlignLeft | Qt::AlignVCenter, "training time so far");
    // Progress: training time so far over the run's total, per pixel column.
    const auto& spans = run.timeline.spans;
    double total_train = 0;
    for (const auto& s : spans)
      if (s.kind == sim::run::SpanKind::train) total_train += s.end_s - s.start_s;
    QPainterPath path;
    double done = 0;
    std::size_t k = 0;
    const int py = y + 4, ph = kProgress - 8;
    for (int x = 0; x <= w; ++x) {
      const double t = axis_.t_of(x);
      while (k < spans.size() && spans[k].end_s <= t) {
        if (spans[k].kind == sim::run::SpanKind::train) done += spans[k].end_s - spans[k].start_s;
        ++k;
      }
      double partial = done;
      if (k < spans.size() && spans[k].kind == sim::run::SpanKind::train && spans[k].start_s < t) partial += t - spans[k].start_s;
      const QPointF pt(x0 + x, py + ph * (1 - (total_train > 0 ? partial / total_train : 0)));
      if (x == 0) path.moveTo(pt);
      else path.lineTo(pt);
    }
    p.setPen(QColor(0, 0, 0, 25));
    p.drawRect(QRect(x0, py, w, ph));
    p.setPen(QPen(colour_of(sim::run::SpanKind::train).darker(130), 1.5));
    if (!spans.empty()) p.drawPath(path);
    // The band: each pixel column blends the kinds by their share of its time; below it, a strip
    // with the downtime (detection, spare wait, restart, load, maintenance) however short.
    const int by = y + kProgress;
    std::vector<std::array<double, 7>> share(static_cast<std::size_t>(w));
    std::vector<int> downtime(static_cast<std::size_t>(w), -1);
    for (const auto& s : spans) {
      const double a = axis_.x_of(s.start_s), b = axis_.x_of(s.end_s);
      if (b < 0 || a > w) continue;
      const int kind = static_cast<int>(s.kind);
      const bool down = s.kind != sim::run::SpanKind::train && s.kind != sim::run::SpanKind::checkpoint;
      for (int c = std::max(0, static_cast<int>(std::floor(a))); c < std::min(w, static_cast<int>(std::ceil(b))); ++c) {
        share[static_cast<std::size_t>(c)][static_cast<std::size_t>(kind)] += std::min<double>(b, c + 1) - std::max<double>(a, c);
        if (down) downtime[static_cast<std::size_t>(c)] = kind;
      }
      if (down && std::ceil(b) <= std::floor(a) + 1 && a >= 0 && a < w) downtime[static_cast<std::size_t>(a)] = kind;
    }
    for (int c = 0; c < w; ++c) {
      const auto& sh = share[static_cast<std::size_t>(c)];
      double total = 0, r = 0, g = 0, bl = 0;
      for (int kind = 0; kind < 7; ++kind) {
        const QColor col = colour_of(static_cast<sim::run::SpanKind>(kind));
        total += sh[static_cast<std::size_t>(kind)];
        r += sh[static_cast<std::size_t>(kind)] * col.redF();
        g += sh[static_cast<std::size_t>(kind)] * col.greenF();
        bl += sh[static_cast<std::size_t>(kind)] * col.blueF();
      }
      if (total > 0) p.fillRect(QRect(x0 + c, by, 1, kBand), QColor::fromRgbF(static_cast<float>(r / total), static_cast<float>(g / total), static_cast<float>(bl / total)));
      if (downtime[static_cast<std::size_t>(c)] >= 0)
        p.fillRect(QRect(x0 + c, by + kBand + 1, 1, kDown), colour_of(static_cast<sim::run::SpanKind>(downtime[static_cast<std::size_t>(c)])));
    }
    p.setPen(pal.color(QPalette::PlaceholderText));
    if (spans.empty())  // a run read from `herd train --json`, which does not carry trial 0
      p.drawText(QRect(x0 + 8, by, w - 16, kBand), Qt::AlignLeft | Qt::AlignVCenter,
                 "trial 0's timeline is not in this file: `herd train --timeline FILE` saves it with the run");
    p.drawText(QRect(8, by, kLabelWidth - 12, kBand), Qt::AlignLeft | Qt::AlignVCenter, "time by activity");
    p.drawText(QRect(8, by + kBand, kLabelWidth - 12, kDown + 2), Qt::AlignLeft | Qt::AlignVCenter, "downtime");
    // Failures: a tick each, coloured by category.
    const int ty = by + kBand + kDown + 3;
    for (const auto& ev : run.timeline.events) {
      const double x = axis_.x_of(ev.time_s);
      if (x < 0 || x > w) continue;
      if (ev.kind == sim::run::EventKind::failure) {
        p.setPen(QPen(category_colour(cat_index(QString::fromStdString(ev.category.empty() ? ev.label : ev.category))), 1.5));
        p.drawLine(QPointF(x0 + x, ty), QPointF(x0 + x, ty + kTicks - 4));
      } else if (ev.kind == sim::run::EventKind::planned) {
        p.setPen(QPen(colour_of(sim::run::SpanKind::planned), 1.5));
        p.drawLine(QPointF(x0 + x, ty), QPointF(x0 + x, ty + kTicks - 4));
      }
    }
    p.setPen(pal.color(QPalette::PlaceholderText));
    if (!spans.empty())
      p.drawText(QRect(8, ty - 2, kLabelWidth - 12, kTicks), Qt::AlignLeft | Qt::AlignVCenter,
               QString("%1 failures").arg(std::count_if(run.timeline.events.begin(), run.timeline.events.end(),
                                                        [](const auto& e) { return e.kind == sim::run::EventKind::failure; })));
    y = ty + kTicks;
    if (!run.power_series.empty()) {
      // The cluster's IT power through the run: a level per part (training by phase, stalled, down).
      const QRect plot(x0, y + kPowerGap, w, kPower);
      paint_power_axis(p, plot, kPowerAxisWidth, power_scale, pal.color(QPalette::Text));
      paint_power_curve(p, plot, axis_, run.power_series, power_scale, power_colour());
      p.setPen(pal.color(QPalette::PlaceholderText));
      p.drawText(QRect(8, plot.top(), kLabelWidth - kPowerAxisWidth - 8, 2 * fm.height()), Qt::AlignLeft | Qt::AlignTop,
                 "IT power\n(trial 0)");
      y = plot.bottom() + 1;
    }
    y += kRunGap;
  }
  // Ruler in days.
  y -= kRunGap - 4;
  p.setPen(pal.color(QPalette::Text));
  draw_ruler(p, axis_, x0, y);
  y += kRuler;
  // Legend: span kinds, then failure categories.
  int lx = x0;
  auto legend = [&](const QColor& c, const QString& text) {
    const int tw = fm.horizontalAdvance(text);
    if (lx + tw + 24 > x0 + w) {
      lx = x0;
      y += 18;
    }
    p.fillRect(QRect(lx, y + 3, 12, 12), c);
    p.setPen(pal.color(QPalette::Text));
    p.drawText(QRect(lx + 16, y, tw + 4, 18), Qt::AlignLeft | Qt::AlignVCenter, text);
    lx += tw + 30;
  };
  for (auto k : kKinds) legend(colour_of(k), kind_name(k));
  lx = x0;
  y += 20;
  p.setPen(pal.color(QPalette::PlaceholderText));
  p.drawText(QRect(8, y, kLabelWidth - 12, 18), Qt::AlignLeft | Qt::AlignVCenter, "failures by category");
  for (std::size_t i = 0; i < cats.size(); ++i) legend(category_colour(static_cast<int>(i)), cats[i]);
  y += 34;

  // Spread of time-to-train over the trials, on an axis of its own from 0.
  double hi = 0, lo = 1e300;
  for (const auto& r : runs_) {
    hi = std::max({hi, r.report.elapsed_s.p90, r.report.elapsed_s.mean});
    lo = std::min({lo, r.report.elapsed_s.p10, r.report.ideal_s > 0 ? r.report.ideal_s : lo});
  }
  const int sw = w * 6 / 10;  // the boxes' width; the figures go right of it
  const double margin = std::max(hi - lo, hi * 0.01) * 0.15;
  TimeAxis spread(hi + margin, sw);
  spread.show(std::max(0.0, lo - margin), hi + margin);
  QFont bold = font();
  bold.setBold(true);
  p.setFont(bold);
  p.setPen(pal.color(QPalette::Text));
  p.drawText(QRect(8, y, 800, 18), Qt::AlignLeft | Qt::AlignVCenter,
             QString("Time-to-train over %1 trials: p10–p90 box, median line, mean ◆, failure-free |").arg(runs_.front().report.trials));
  p.setFont(font());
  y += 24;
  for (const auto& run : runs_) {
    const auto& d = run.report.elapsed_s;
    p.setPen(pal.color(QPalette::Text));
    p.drawText(QRect(8, y, kLabelWidth - 12, 22), Qt::AlignLeft | Qt::AlignVCenter,
               runs_.size() > 1 ? run.label.section(':', 0, 0) : fm.elidedText(run.label, Qt::ElideMiddle, kLabelWidth - 12));
    const double a = spread.x_of(d.p10), b = spread.x_of(d.p90);
    p.fillRect(QRectF(x0 + a, y + 3, std::max(2.0, b - a), 16), category_colour(0).lighter(140));
    p.setPen(QPen(category_colour(0).darker(120), 2));
    p.drawLine(QPointF(x0 + spread.x_of(d.p50), y + 1), QPointF(x0 + spread.x_of(d.p50), y + 21));
    const QPointF m(x0 + spread.x_of(d.mean), y + 11);
    p.setBrush(Qt::black);
    p.setPen(Qt::NoPen);
    p.drawPolygon(QPolygonF({m + QPointF(0, -5), m + QPointF(5, 0), m + QPointF(0, 5), m + QPointF(-5, 0)}));
    p.setBrush(Qt::NoBrush);
    if (run.report.ideal_s > 0) {
      p.setPen(QPen(QColor(0x59a14f), 2));
      const double xi = x0 + spread.x_of(run.report.ideal_s);
      p.drawLine(QPointF(xi, y), QPointF(xi, y + 22));
    }
    p.setPen(pal.color(QPalette::Text));
    p.drawText(QRect(x0 + sw + 16, y, w - sw - 16, 22), Qt::AlignLeft | Qt::AlignVCenter,
               QString("p50 %1 · mean %2 · p10–p90 %3–%4").arg(days(d.p50), days(d.mean), days(d.p10), days(d.p90)));
    y += 28;
  }
  p.setPen(pal.color(QPalette::Text));
  draw_ruler(p, spread, x0, y);
  // Time lost per trial, by cause.
  y += 36;
  p.setFont(bold);
  p.drawText(QRect(8, y, 600, 18), Qt::AlignLeft | Qt::AlignVCenter, "Time lost per trial (mean), by cause");
  p.setFont(font());
  y += 22;
  for (const auto& run : runs_) {
    const auto& l = run.report.lost;
    p.drawText(QRect(8, y, kLabelWidth - 12, 18), Qt::AlignLeft | Qt::AlignVCenter,
               runs_.size() > 1 ? run.label.section(':', 0, 0) : fm.elidedText(run.label, Qt::ElideMiddle, kLabelWidth - 12));
    p.drawText(QRect(x0, y, w, 18), Qt::AlignLeft | Qt::AlignVCenter,
               QString("lost work %1 · checkpoint stalls %2 · detection %3 · restart %4 · checkpoint load %5 · spare wait %6 · "
                       "maintenance %7 · degraded %8 · total %9 over %10 interruptions")
                   .arg(hours(l.lost_work), hours(l.checkpoint_stalls), hours(l.detection), hours(l.restart), hours(l.checkpoint_load),
                        hours(l.spare_wait), hours(l.planned), hours(l.degraded), hours(l.total()))
                   .arg(run.report.unexpected + run.report.planned, 0, 'f', 0));
    y += 20;
  }
  // Energy to train and its cost, over the trials' mean time by part of the run.
  if (std::any_of(runs_.begin(), runs_.end(), [](const RunData& r) { return r.energy && r.power; })) {
    y += 16;
    p.setFont(bold);
    p.drawText(QRect(8, y, 600, 18), Qt::AlignLeft | Qt::AlignVCenter, "Energy to train (mean over the trials)");
    p.setFont(font());
    y += 22;
    auto power = [](double watts) { return QString::fromStdString(model::format_power(watts)); };
    auto energy = [](double j) { return QString::fromStdString(model::format_energy(j)); };
    for (const auto& run : runs_) {
      if (!run.energy || !run.power) continue;
      const auto& e = *run.energy;
      const auto& l = *run.power;
      p.drawText(QRect(8, y, kLabelWidth - 12, 18), Qt::AlignLeft | Qt::AlignVCenter,
                 runs_.size() > 1 ? run.label.section(':', 0, 0) : fm.elidedText(run.label, Qt::ElideMiddle, kLabelWidth - 12));
      p.drawText(QRect(x0, y, w, 18), Qt::AlignLeft | Qt::AlignVCenter,
                 QString("%1 at the facility (PUE %2) · %3 IT · GPUs %4 · cost %5 at %6 per MWh · mean %7 IT, %8 per GPU")
                     .arg(energy(e.facility_energy_j))
                     .arg(l.pue, 0, 'f', 2)
                     .arg(energy(e.it_energy_j), energy(e.gpu_energy_j), QString::fromStdString(model::format_count(e.cost)))
                     .arg(l.price_per_mwh, 0, 'f', 0)
                     .arg(power(e.mean_it_w), power(e.mean_gpu_w)));
      y += 20;
      p.drawText(QRect(x0, y, w, 18), Qt::AlignLeft | Qt::AlignVCenter,
                 QString("power swings: within a step %1 · into a checkpoint stall %2 · into a restart %3")
                     .arg(power(e.step_swing_w), power(e.checkpoint_drop_w), power(e.restart_drop_w)));
      y += 20;
    }
  }
}

}  // namespace herd::gui
