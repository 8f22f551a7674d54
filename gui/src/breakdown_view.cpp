#include "herd/gui/breakdown_view.hpp"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QGraphicsLayout>
#include <QHBoxLayout>
#include <QHorizontalStackedBarSeries>
#include <QLabel>
#include <QLineSeries>
#include <QStackedBarSeries>
#include <QValueAxis>
#include <QVBoxLayout>

#include "herd/gui/chart_util.hpp"
#include "herd/gui/palette.hpp"
#include "herd/gui/time_axis.hpp"

namespace herd::gui {

namespace {
constexpr double kGiB = 1024.0 * 1024 * 1024;

QBarSet* bar_set(const QString& name, QColor colour) {
  auto* set = new QBarSet(name);
  set->setColor(colour);
  set->setBorderColor(colour.darker(115));
  return set;
}

QChart* titled_chart(const QString& title) {
  auto* chart = new QChart;
  chart->setTitle(title);
  chart->legend()->setAlignment(Qt::AlignRight);
  chart->setAnimationOptions(QChart::NoAnimation);
  chart->layout()->setContentsMargins(0, 0, 0, 0);
  return chart;
}
}  // namespace

QString breakdown_html(const sim::StepReport& r) {
  const auto& b = r.breakdown;
  const std::pair<const char*, double> parts[] = {
      {"compute", b.compute_s},           {"optimizer", b.optimizer_s},        {"exposed TP comm", b.exposed_tp_s},
      {"exposed CP comm", b.exposed_cp_s}, {"exposed PP comm", b.exposed_pp_s}, {"exposed DP comm", b.exposed_dp_s},
      {"pipeline bubble", b.bubble_s},     {"other", b.other_s}};
  QString html = QString("<b>%1</b><br>step %2 · MFU %3 % · %4 TFLOP/s per GPU · bottleneck: %5<br>"
                         "<table cellspacing=0 cellpadding=1><tr><td colspan=3><i>stage %6, which finishes last:</i></td></tr>")
                     .arg(QString::fromStdString(r.scenario), QString::fromStdString(format_duration(r.step_time_s)))
                     .arg(100 * r.mfu, 0, 'f', 1)
                     .arg(r.tflops_per_gpu, 0, 'f', 0)
                     .arg(QString::fromStdString(r.bottleneck))
                     .arg(r.critical_stage);
  for (const auto& [name, t] : parts) {
    if (t < 1e-4 * r.step_time_s) continue;
    html += QString("<tr><td>%1</td><td align=right>&nbsp;%2</td><td align=right>&nbsp;%3 %</td></tr>")
                .arg(name, QString::fromStdString(format_duration(t)))
                .arg(100 * t / r.step_time_s, 0, 'f', 1);
  }
  return html + "</table>";
}

QString critical_path_html(const StepTimelineData& timeline) {
  const auto& c = timeline.critical_path();
  if (c.spans.empty()) return {};
  const double total = timeline.end_of(c.spans.back());
  QString html = QString("<table cellspacing=0 cellpadding=1><tr><td colspan=3><i>the critical path: %1 ops, %2 changes of "
                         "%3</i></td></tr>")
                     .arg(c.spans.size())
                     .arg(c.rank_changes)
                     .arg(timeline.per_rank() ? "GPU" : "stage");
  const std::pair<const char*, double> parts[] = {{"compute", c.compute_s},  {"TP comm", c.comm_s[0]}, {"CP comm", c.comm_s[1]},
                                                  {"PP comm", c.comm_s[2]},  {"DP comm", c.comm_s[3]}, {"waiting", c.waiting_s}};
  for (const auto& [name, t] : parts) {
    if (t < 1e-4 * total) continue;
    html += QString("<tr><td>%1</td><td align=right>&nbsp;%2</td><td align=right>&nbsp;%3 %</td></tr>")
                .arg(name, QString::fromStdString(format_duration(t)))
                .arg(100 * t / total, 0, 'f', 1);
  }
  return html + "</table>";
}

BreakdownView::BreakdownView(QWidget* parent) : QWidget(parent) {
  summary_ = new QLabel("No step simulated yet.", this);
  summary_->setTextFormat(Qt::RichText);
  summary_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  summary_->setWordWrap(true);
  summary_->setFixedWidth(330);
  time_ = new QChartView(this);
  memory_ = new QChartView(this);
  for (auto* v : {time_, memory_}) v->setRenderHint(QPainter::Antialiasing);
  auto* charts = new QVBoxLayout;
  charts->addWidget(time_, 1);
  charts->addWidget(memory_, 1);
  auto* layout = new QHBoxLayout(this);
  layout->addWidget(summary_);
  layout->addLayout(charts, 1);
}

void BreakdownView::set_data(const sim::StepReport& report, const StepTimelineData& timeline) {
  has_data_ = true;
  summary_->setText(report.memory.stages.empty()
                        ? QString("<b>%1</b><br>A saved trace: the time per stage comes from its ops; the breakdown "
                                  "and memory need the scenario simulated (File → Open scenario).")
                              .arg(QString::fromStdString(report.scenario).toHtmlEscaped()) +
                              critical_path_html(timeline)
                        : breakdown_html(report) + critical_path_html(timeline));
  QStringList stages;
  const auto per_stage = timeline.compute_by_pass_per_stage();
  for (std::size_t s = 0; s < per_stage.size(); ++s) stages << QString::number(s);

  // Time: compute by pass, then the rest of the step.
  {
    const char* names[] = {"forward", "backward", "recompute", "optimizer"};
    const QColor colours[] = {colour_of(OpStyle::gemm), colour_of(OpStyle::gemm).darker(130), colour_of(OpStyle::elementwise),
                              colour_of(OpStyle::optimizer)};
    auto* series = new QHorizontalStackedBarSeries;
    QBarSet* sets[4];
    for (int i = 0; i < 4; ++i) sets[i] = bar_set(names[i], colours[i]);
    QBarSet* waiting = bar_set("waiting (bubble, exposed comm)", QColor(0xbab0ac));
    for (const auto& s : per_stage) {
      double busy = 0;
      for (std::size_t i = 0; i < 4; ++i) {
        *sets[i] << s[i] * 1e3;
        busy += s[i];
      }
      *waiting << std::max(0.0, report.step_time_s - busy) * 1e3;
    }
    for (int i = 0; i < 4; ++i)
      if (sets[i]->sum() > 0) series->append(sets[i]);
      else delete sets[i];
    series->append(waiting);
    series->setBarWidth(0.8);
    auto* chart = titled_chart(timeline.per_rank() ? "Where the time goes per stage (mean over the stage's GPUs)"
                                                    : "Where the time goes per stage");
    chart->addSeries(series);
    auto* y = new QBarCategoryAxis;
    y->append(stages);
    y->setReverse(true);
    y->setTitleText("pipeline stage");
    y->setTruncateLabels(false);
    auto* x = new QValueAxis;
    x->setTitleText("ms of the step");
    x->setRange(0, report.step_time_s * 1e3);
    x->setLabelFormat("%.0f");
    x->applyNiceNumbers();
    chart->addAxis(y, Qt::AlignLeft);
    chart->addAxis(x, Qt::AlignBottom);
    series->attachAxis(x);
    series->attachAxis(y);
    replace_chart(*time_, chart);
  }
  // Memory: the parts per stage against the capacity.
  if (report.memory.stages.empty()) {
    replace_chart(*memory_, titled_chart("Memory per GPU: not in a saved trace"));
  } else {
    const char* names[] = {"weights", "gradients", "optimizer", "activations", "communication", "transient", "runtime"};
    auto* series = new QStackedBarSeries;
    QStringList memory_stages;
    std::vector<QBarSet*> sets;
    for (int i = 0; i < 7; ++i) sets.push_back(bar_set(names[i], category_colour(i)));
    double largest = 0;
    for (const auto& m : report.memory.stages) {
      const double parts[] = {m.weights, m.gradients, m.optimizer, m.activations, m.communication, m.transient, m.runtime};
      for (int i = 0; i < 7; ++i) *sets[static_cast<std::size_t>(i)] << parts[i] / kGiB;
      largest = std::max(largest, m.total() / kGiB);
      memory_stages << QString::number(m.stage);
    }
    for (auto* s : sets) series->append(s);
    series->setBarWidth(0.7);
    const double capacity = report.memory.capacity_bytes / kGiB;
    auto* chart = titled_chart(QString("Memory per GPU by stage: %1 (capacity %2 GiB)")
                                   .arg(report.fits ? "fits" : "DOES NOT FIT")
                                   .arg(capacity, 0, 'f', 0));
    chart->addSeries(series);
    auto* cap = new QLineSeries;
    cap->setName("capacity");
    cap->setPen(QPen(QColor(0xc0392b), 2, Qt::DashLine));
    *cap << QPointF(-0.5, capacity) << QPointF(static_cast<double>(report.memory.stages.size()) - 0.5, capacity);
    chart->addSeries(cap);
    auto* x = new QBarCategoryAxis;
    x->append(memory_stages);
    x->setTitleText("pipeline stage");
    auto* y = new QValueAxis;
    y->setRange(0, std::max(largest, capacity) * 1.1);
    y->setTitleText("GiB");
    y->setLabelFormat("%.0f");
    y->applyNiceNumbers();
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    series->attachAxis(x);
    series->attachAxis(y);
    auto* cap_x = new QValueAxis;
    cap_x->setRange(-0.5, static_cast<double>(report.memory.stages.size()) - 0.5);
    cap_x->setVisible(false);
    chart->addAxis(cap_x, Qt::AlignBottom);
    cap->attachAxis(cap_x);
    cap->attachAxis(y);
    replace_chart(*memory_, chart);
  }
}

}  // namespace herd::gui
