#pragma once
// Where the step's time goes, stage by stage (compute by pass, and the rest of the step spent
// waiting: bubble and exposed communication), the report's breakdown of the stage that finished
// last, and memory per stage against the GPU's capacity.
#include <QWidget>

#include "herd/gui/step_timeline_data.hpp"
#include "herd/sim/step/step_report.hpp"

class QLabel;
class QChartView;

namespace herd::gui {

class BreakdownView : public QWidget {
  Q_OBJECT
 public:
  explicit BreakdownView(QWidget* parent = nullptr);
  /// `report` without its trace; `timeline` gives the per-stage compute.
  void set_data(const sim::StepReport& report, const StepTimelineData& timeline);
  bool has_data() const { return has_data_; }

 private:
  QLabel* summary_ = nullptr;
  QChartView* time_ = nullptr;
  QChartView* memory_ = nullptr;
  bool has_data_ = false;
};

/// The breakdown of the report's critical stage as an HTML table (also the selection panel's
/// summary).
QString breakdown_html(const sim::StepReport& report);
/// What the critical path (StepTimelineData::critical_path) spends its time on, as an HTML table.
QString critical_path_html(const StepTimelineData& timeline);

}  // namespace herd::gui
