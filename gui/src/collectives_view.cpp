#include "herd/gui/collectives_view.hpp"

#include <cmath>

#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QMessageBox>
#include <QPushButton>
#include <QScatterSeries>
#include <QValueAxis>
#include <QVBoxLayout>

#include "herd/calibrate/import.hpp"
#include "herd/gui/chart_util.hpp"
#include "herd/gui/palette.hpp"
#include "herd/gui/time_axis.hpp"
#include "herd/model/error.hpp"

namespace herd::gui {

namespace {
/// docs/validation.md, "One DGX H100 (8 GPUs, NVSwitch with NVLS), all-reduce busbw": NVIDIA
/// dgxc-benchmarking, nccl README (bytes, GB/s).
constexpr struct {
  double bytes, busbw;
} kPublishedDgxH100AllReduce[] = {{1 << 20, 67},        {4 << 20, 135},        {16 << 20, 237},       {64 << 20, 362},
                                  {128 << 20, 401},     {512 << 20, 437},      {1024.0 * (1 << 20), 466}, {4096.0 * (1 << 20), 477},
                                  {8192.0 * (1 << 20), 480}, {16384.0 * (1 << 20), 480}};
}  // namespace

CollectivesView::CollectivesView(QWidget* parent) : QWidget(parent) {
  op_ = new QComboBox(this);
  op_->addItems({"all_reduce", "all_gather", "reduce_scatter", "broadcast", "all_to_all"});
  group_ = new QComboBox(this);
  group_->addItems({"tp", "dp", "pp", "cp", "all"});
  auto* run = new QPushButton("Simulate sweep", this);
  auto* import = new QPushButton("Import nccl-tests log…", this);
  connect(run, &QPushButton::clicked, this, &CollectivesView::run_requested);
  connect(import, &QPushButton::clicked, this, [this] {
    const QString file = QFileDialog::getOpenFileName(this, "nccl-tests output");
    if (file.isEmpty()) return;
    if (const QString error = import_log(file); !error.isEmpty()) QMessageBox::warning(this, "herd-gui", error);
  });
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel("collective", this));
  controls->addWidget(op_);
  controls->addWidget(new QLabel("over the plan's groups", this));
  controls->addWidget(group_);
  controls->addWidget(run);
  controls->addStretch(1);
  controls->addWidget(import);
  chart_ = new QChartView(this);
  chart_->setRenderHint(QPainter::Antialiasing);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(chart_, 1);
  rebuild();
}

QString CollectivesView::op() const { return op_->currentText(); }
QString CollectivesView::group() const { return group_->currentText(); }

void CollectivesView::set_report(const app::CollectiveReport& report) {
  has_data_ = true;
  simulated_.clear();
  const auto& g = report.groups.front();
  for (const auto& row : report.rows)
    simulated_.push_back({row.bytes, row.result.busbw() / 1e9});
  simulated_label_ = QString("simulated: %1 over %2 (%3 GPUs%4), %5")
                         .arg(QString::fromStdString(report.op), QString::fromStdString(report.group))
                         .arg(g.size())
                         .arg(report.concurrent ? QString(", %1 groups at once").arg(report.groups.size()) : QString())
                         .arg(QString::fromStdString(report.scenario));
  rebuild();
}

QString CollectivesView::import_log(const QString& file) {
  try {
    const auto set = calibrate::import_nccl_tests_file(file.toStdString());
    imported_.clear();
    QString collective;
    for (const auto& r : set.records) {
      if (r.kind != calibrate::RecordKind::collective || r.median_s <= 0) continue;
      const double factor = calibrate::bus_bandwidth_factor(r.op, r.collective.ranks);
      imported_.push_back({r.collective.bytes, r.collective.bytes / r.median_s * factor / 1e9});
      collective = QString::fromStdString(r.op);
    }
    imported_label_ = QString("imported: %1 (%2)").arg(QFileInfo(file).fileName(), collective);
  } catch (const model::InputError& e) {
    return QString("herd: ") + e.what();
  } catch (const std::exception& e) {
    return QString("herd: %1: %2").arg(file, e.what());
  }
  rebuild();
  return {};
}

int CollectivesView::points() const {
  int n = 0;
  for (auto* s : chart_->chart()->series())
    if (auto* xy = qobject_cast<QXYSeries*>(s)) n += static_cast<int>(xy->count());
  return n;
}

void CollectivesView::rebuild() {
  auto* chart = new QChart;
  chart->setTitle("Bus bandwidth against message size (nccl-tests' busbw)");
  chart->setAnimationOptions(QChart::NoAnimation);
  chart->legend()->setAlignment(Qt::AlignBottom);
  double lo = 20, hi = 34, top = 100;  // log2 of bytes: 1 MiB to 16 GiB until there is data
  auto extend = [&](const std::vector<Point>& points) {
    for (const auto& pt : points) {
      lo = std::min(lo, std::floor(std::log2(pt.bytes)));
      hi = std::max(hi, std::ceil(std::log2(pt.bytes)));
      top = std::max(top, pt.busbw_gbs);
    }
  };
  auto* x = new QCategoryAxis;
  auto* y = new QValueAxis;
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  auto attach = [&](QXYSeries* s) {
    chart->addSeries(s);
    s->attachAxis(x);
    s->attachAxis(y);
  };
  if (!simulated_.empty()) {
    auto* line = new QLineSeries;
    line->setName(simulated_label_);
    line->setPen(QPen(category_colour(0), 2));
    line->setPointsVisible(true);
    for (const auto& pt : simulated_) line->append(std::log2(pt.bytes), pt.busbw_gbs);
    attach(line);
    extend(simulated_);
  }
  if (op_->currentText() == "all_reduce") {
    auto* published = new QScatterSeries;
    published->setName("published: one DGX H100, all-reduce (docs/validation.md)");
    // Rings, so an imported point on the same spot still shows.
    published->setColor(Qt::transparent);
    published->setBorderColor(category_colour(2));
    published->setPen(QPen(category_colour(2), 2));
    published->setMarkerSize(14);
    std::vector<Point> points;
    for (const auto& pt : kPublishedDgxH100AllReduce) {
      published->append(std::log2(pt.bytes), pt.busbw);
      points.push_back({pt.bytes, pt.busbw});
    }
    attach(published);
    extend(points);
  }
  if (!imported_.empty()) {
    auto* imported = new QScatterSeries;
    imported->setName(imported_label_);
    imported->setColor(category_colour(4));
    imported->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
    imported->setMarkerSize(7);
    for (const auto& pt : imported_) imported->append(std::log2(pt.bytes), pt.busbw_gbs);
    attach(imported);
    extend(imported_);
  }
  // Labels at powers of two, every other one when the range is wide.
  const int stride = hi - lo > 20 ? 4 : 2;
  for (int e = static_cast<int>(lo); e <= static_cast<int>(hi); ++e)
    if (e % stride == 0) x->append(QString::fromStdString(format_bytes(std::ldexp(1.0, e))), e);
  x->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
  x->setRange(lo - 0.3, hi + 0.3);
  x->setTitleText("message size per rank (log scale)");
  const double step = top > 800 ? 200 : top > 400 ? 100 : 50;
  const double ymax = std::ceil(top * 1.05 / step) * step;
  y->setRange(0, ymax);
  y->setTickCount(static_cast<int>(ymax / step) + 1);
  y->setTitleText("bus bandwidth (GB/s)");
  y->setLabelFormat("%.0f");
  replace_chart(*chart_, chart);
}

}  // namespace herd::gui
