#include "herd/gui/plan_explorer_view.hpp"

#include <algorithm>
#include <map>

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QLineSeries>
#include <QPushButton>
#include <QScatterSeries>
#include <QValueAxis>
#include <QVBoxLayout>

#include "herd/gui/chart_util.hpp"
#include "herd/gui/command_line.hpp"
#include "herd/gui/palette.hpp"
#include "herd/gui/time_axis.hpp"
#include "herd/model/error.hpp"

namespace herd::gui {

namespace {
constexpr double kGiB = 1024.0 * 1024 * 1024;
enum Metric { kMfu, kStepTime, kTokensPerS };
}  // namespace

PlanExplorerView::PlanExplorerView(QWidget* parent) : QWidget(parent) {
  metric_ = new QComboBox(this);
  metric_->addItems({"MFU", "step time", "tokens/s"});
  colour_ = new QComboBox(this);
  colour_->addItems({"PP", "TP"});
  tp_filter_ = new QComboBox(this);
  pp_filter_ = new QComboBox(this);
  space_ = new QLineEdit(this);
  space_->setPlaceholderText("search space as herd plan's flags: tp=4,8 pp=8,16 mb=1,2 (empty: the scenario's and the defaults)");
  auto* search = new QPushButton("Search", this);
  connect(search, &QPushButton::clicked, this, &PlanExplorerView::run_requested);
  connect(space_, &QLineEdit::returnPressed, this, &PlanExplorerView::run_requested);
  for (auto* box : {metric_, colour_, tp_filter_, pp_filter_})
    connect(box, &QComboBox::currentIndexChanged, this, [this] { rebuild(); });
  auto* top = new QHBoxLayout;
  top->addWidget(space_, 1);
  top->addWidget(search);
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel("show", this));
  controls->addWidget(metric_);
  controls->addWidget(new QLabel("colour by", this));
  controls->addWidget(colour_);
  controls->addWidget(new QLabel("TP", this));
  controls->addWidget(tp_filter_);
  controls->addWidget(new QLabel("PP", this));
  controls->addWidget(pp_filter_);
  controls->addStretch(1);
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  chart_ = new QChartView(this);
  chart_->setRenderHint(QPainter::Antialiasing);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addLayout(controls);
  layout->addWidget(summary_);
  layout->addWidget(chart_, 1);
  rebuild();
}

void PlanExplorerView::apply_space(model::SearchSpace& space) const {
  for (const auto& item : split_overrides(space_->text().toStdString())) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) throw model::InputError("--" + item, "", "needs KEY=VALUES, e.g. tp=4,8");
    app::set_space_list(space, item.substr(0, eq), item.substr(eq + 1));
  }
}

void PlanExplorerView::set_result(const app::PlanResult& result) {
  layouts_ = result.search.ranked;
  std::map<int, int> tps, pps;
  for (const auto& e : layouts_) {
    tps[e.candidate.plan.tp] = 1;
    pps[e.candidate.plan.pp] = 1;
  }
  for (auto [box, values] : {std::pair{tp_filter_, &tps}, std::pair{pp_filter_, &pps}}) {
    const QSignalBlocker block(box);
    box->clear();
    box->addItem("any");
    for (const auto& [v, one] : *values) box->addItem(QString::number(v));
  }
  const auto& c = result.search.counts;
  const QLocale digits(QLocale::English);  // 884,736
  auto n = [&](std::int64_t v) { return digits.toString(static_cast<qlonglong>(v)); };
  summary_->setText(QString("%1: %2 combinations, %3 valid, %4 out of memory, %5 pruned by their bound, %6 simulated. "
                            "Click a point to open its step timeline; Shift+click to compare it with the step shown.")
                        .arg(QString::fromStdString(result.scenario), n(c.combinations), n(c.valid), n(c.out_of_memory),
                             n(c.pruned), n(c.simulated)));
  rebuild();
}

double PlanExplorerView::metric(const sim::plan::Evaluation& e) const {
  switch (metric_->currentIndex()) {
    case kStepTime: return e.step_time_s;
    case kTokensPerS: return e.tokens_per_s;
    default: return 100 * e.mfu;
  }
}

std::vector<int> PlanExplorerView::shown() const { return shown_; }

QPoint PlanExplorerView::point_of(int i) const {
  const auto& e = layouts_.at(static_cast<std::size_t>(i));
  QChart* chart = chart_->chart();
  const QPointF scene = chart->mapToScene(chart->mapToPosition(QPointF(e.memory_peak_bytes / kGiB, metric(e))));
  return chart_->mapFromScene(scene);
}

void PlanExplorerView::rebuild() {
  auto* chart = new QChart;
  chart->setAnimationOptions(QChart::NoAnimation);
  chart->legend()->setAlignment(Qt::AlignRight);
  const bool by_pp = colour_->currentIndex() == 0;
  const bool lower_is_better = metric_->currentIndex() == kStepTime;
  chart->setTitle(QString("%1 against memory per GPU (largest stage), coloured by %2; line: the Pareto front")
                      .arg(metric_->currentText(), colour_->currentText()));
  shown_.clear();
  for (std::size_t i = 0; i < layouts_.size(); ++i) {
    const auto& p = layouts_[i].candidate.plan;
    if (tp_filter_->currentIndex() > 0 && tp_filter_->currentText().toInt() != p.tp) continue;
    if (pp_filter_->currentIndex() > 0 && pp_filter_->currentText().toInt() != p.pp) continue;
    shown_.push_back(static_cast<int>(i));
  }
  auto* x = new QValueAxis;
  auto* y = new QValueAxis;
  x->setTitleText("memory per GPU (GiB)");
  y->setTitleText(metric_->currentIndex() == kMfu ? "MFU (%)" : metric_->currentIndex() == kStepTime ? "step time (s)" : "tokens/s");
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  // One series per colour group, in increasing order of the degree.
  std::map<int, QScatterSeries*> groups;
  double xmax = 1, ymax = 0, ymin = 1e300;
  for (int i : shown_) {
    const auto& e = layouts_[static_cast<std::size_t>(i)];
    const int key = by_pp ? e.candidate.plan.pp : e.candidate.plan.tp;
    auto& series = groups[key];
    if (!series) {
      series = new QScatterSeries;
      series->setName(QString("%1 %2").arg(colour_->currentText()).arg(key));
      series->setMarkerSize(9);
      series->setColor(category_colour(static_cast<int>(groups.size()) - 1));
      series->setBorderColor(Qt::transparent);
    }
    series->append(e.memory_peak_bytes / kGiB, metric(e));
    xmax = std::max(xmax, e.memory_peak_bytes / kGiB);
    ymax = std::max(ymax, metric(e));
    ymin = std::min(ymin, metric(e));
  }
  // A click on a point (or on the front line through it) opens the shown layout nearest to it, in
  // the chart's units scaled to its axes; with Shift, it is step B beside the layout shown.
  const auto choose = [this](const QPointF& point) {
    int best = -1;
    double best_d = 1e300;
    for (int i : shown_) {
      const auto& e = layouts_[static_cast<std::size_t>(i)];
      const double dx = (e.memory_peak_bytes / kGiB - point.x()) / std::max(1.0, point.x());
      const double dy = (metric(e) - point.y()) / std::max(1e-9, std::abs(point.y()));
      if (dx * dx + dy * dy < best_d) {
        best_d = dx * dx + dy * dy;
        best = i;
      }
    }
    if (best < 0) return;
    if (QGuiApplication::keyboardModifiers() & Qt::ShiftModifier) Q_EMIT compare_chosen(best);
    else Q_EMIT layout_chosen(best);
  };
  for (auto& [key, series] : groups) {
    chart->addSeries(series);
    series->attachAxis(x);
    series->attachAxis(y);
    connect(series, &QScatterSeries::clicked, this, choose);
  }
  // Pareto front: no other layout has both less memory and a better metric.
  std::vector<int> order = shown_;
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return layouts_[static_cast<std::size_t>(a)].memory_peak_bytes < layouts_[static_cast<std::size_t>(b)].memory_peak_bytes;
  });
  auto* front = new QLineSeries;
  front->setName("Pareto front");
  front->setPen(QPen(QColor(0x333333), 1.5, Qt::DashLine));
  double best = lower_is_better ? 1e300 : -1e300;
  for (int i : order) {
    const auto& e = layouts_[static_cast<std::size_t>(i)];
    const double v = metric(e);
    if (lower_is_better ? v < best : v > best) {
      best = v;
      front->append(e.memory_peak_bytes / kGiB, v);
    }
  }
  chart->addSeries(front);
  connect(front, &QLineSeries::clicked, this, choose);
  front->attachAxis(x);
  front->attachAxis(y);
  x->setRange(0, xmax * 1.1);
  x->applyNiceNumbers();
  x->setLabelFormat("%.0f");
  if (ymin > ymax) ymin = 0, ymax = 1;
  const double pad = std::max((ymax - ymin) * 0.1, ymax * 0.02);
  y->setRange(std::max(0.0, ymin - pad), ymax + pad);
  y->applyNiceNumbers();
  y->setLabelFormat(metric_->currentIndex() == kStepTime ? "%.2f" : "%.0f");
  replace_chart(*chart_, chart);
}

}  // namespace herd::gui
