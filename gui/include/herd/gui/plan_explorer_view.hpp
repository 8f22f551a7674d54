#pragma once
// The plan explorer: the layouts `herd plan` simulated, as a scatter of MFU, step time or tokens/s
// against memory per GPU, coloured by PP or TP, with the Pareto front (more of the metric for less
// memory) and filters on TP and PP. A click on a point opens that layout's step timeline.
#include <vector>

#include <QString>
#include <QWidget>

#include "herd/app/plan_use_case.hpp"

class QChartView;
class QComboBox;
class QLabel;
class QLineEdit;

namespace herd::gui {

class PlanExplorerView : public QWidget {
  Q_OBJECT
 public:
  explicit PlanExplorerView(QWidget* parent = nullptr);
  void set_result(const app::PlanResult& result);
  bool has_data() const { return !layouts_.empty(); }
  const std::vector<sim::plan::Evaluation>& layouts() const { return layouts_; }
  /// The search space typed above the chart ("tp=1,2,4,8 pp=8,16", `herd plan`'s flags without
  /// their dashes), applied to `space`. Throws model::InputError naming the flag.
  void apply_space(model::SearchSpace& space) const;
  /// The layouts on the chart now (after the filters), in the order of `layouts()`.
  std::vector<int> shown() const;
  /// Where layout `i` is drawn, in the chart view's viewport coordinates.
  QPoint point_of(int i) const;
  QChartView& chart_view() const { return *chart_; }
  QLineEdit& space() const { return *space_; }

 Q_SIGNALS:
  void run_requested();
  /// A point was clicked: open layout `i` of `layouts()`.
  void layout_chosen(int i);
  /// A point was clicked with Shift: compare layout `i` (step B) with the layout shown (A).
  void compare_chosen(int i);

 private:
  void rebuild();
  double metric(const sim::plan::Evaluation& e) const;
  QComboBox* metric_ = nullptr;
  QComboBox* colour_ = nullptr;
  QComboBox* tp_filter_ = nullptr;
  QComboBox* pp_filter_ = nullptr;
  QLineEdit* space_ = nullptr;
  QLabel* summary_ = nullptr;
  QChartView* chart_ = nullptr;
  std::vector<sim::plan::Evaluation> layouts_;
  std::vector<int> shown_;
};

}  // namespace herd::gui
