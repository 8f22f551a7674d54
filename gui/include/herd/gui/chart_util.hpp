#pragma once
// Qt Charts helpers shared by the chart views.
#include <QChart>
#include <QChartView>

namespace herd::gui {

/// Shows `chart` in `view` and deletes the chart it showed before (setChart releases it).
inline void replace_chart(QChartView& view, QChart* chart) {
  QChart* old = view.chart();
  view.setChart(chart);
  delete old;
}

}  // namespace herd::gui
