#pragma once
// The step timeline: one row per pipeline stage (symmetric mode) or per rank grouped by stage and
// node (per-rank mode, groups collapsible), one lane per stream, ops coloured by kind. Wheel and
// W/S zoom around the pointer, drag and A/D pan, a click selects an op or opens a group; the
// compute lanes' idle gaps (bubble, exposed communication) are hatched and the rank that finished
// last is marked red, and so is the critical path, the chain of ops the step's length follows (C). A step with its power gets a lane pinned under the rows: the cluster's IT
// power on the same time axis, its peak and min windows marked; and, where the step kept them, a
// lane of each simulated rank's GPU power in its row (P). Painting cost is bounded by
// pixels: StepTimelineData::marks, power_columns.
#include <memory>
#include <optional>

#include <QAbstractScrollArea>

#include "herd/gui/step_timeline_data.hpp"
#include "herd/gui/time_axis.hpp"

namespace herd::gui {

class StepTimelineView : public QAbstractScrollArea {
  Q_OBJECT
 public:
  static constexpr int kRulerHeight = 30;
  static constexpr int kLabelWidth = 210;
  static constexpr int kLaneHeight = 16;
  static constexpr int kTitleHeight = 20;
  static constexpr int kRowGap = 6;
  static constexpr int kPowerHeight = 150;  ///< the power lane's height unless set otherwise

  explicit StepTimelineView(QWidget* parent = nullptr);

  /// Shows `data` (may be null: nothing to show), the whole step in view. `limit_s` > 0: the time
  /// axis runs to it instead of just past the step's end (two steps compared share one axis).
  void set_data(std::shared_ptr<StepTimelineData> data, double limit_s = 0);
  const std::shared_ptr<StepTimelineData>& data() const { return data_; }
  const TimeAxis& axis() const { return axis_; }
  /// Zoom by `factor` (< 1: in) around viewport x; pan by pixels; both as the mouse and keys do.
  void zoom(double factor, double viewport_x);
  void pan(double dx_px);
  void reset_zoom();
  /// Shows [start, end] of the step.
  void show_range(double start_s, double end_s);
  void toggle(int node);
  /// Draws the critical path (StepTimelineData::critical_path) over the lanes: a red bar under
  /// each of its ops and a line where it passes from one lane to another. On by default; C toggles.
  void set_show_critical_path(bool on);
  bool show_critical_path() const { return show_critical_; }
  /// Draws, in each row of a simulated rank whose GPU's power the step kept (at most
  /// sim::StepPower::kMaxRankSeries simulated ranks), a lane of that GPU's power under its
  /// streams, every such lane on one scale. On by default; P toggles.
  void set_show_rank_power(bool on);
  bool show_rank_power() const { return show_rank_power_; }
  /// The power lane's height in pixels (two steps stacked give it less, for the rows' sake).
  void set_power_height(int px);
  int power_height() const { return power_height_; }

  /// The span drawn at viewport point `p`, if any.
  std::optional<std::int64_t> span_at(QPoint p) const;
  /// What the tooltip and the selection panel say about viewport point `p` ("" for nothing).
  QString describe_at(QPoint p) const;
  /// Where in the viewport the lane of (`rank`, `stream`) shows time `t_s` (null when the lane is
  /// not on screen).
  std::optional<QPoint> point_of(int rank, model::Stream stream, double t_s) const;
  std::optional<std::int64_t> selected() const { return selected_; }
  /// The power lane's plot in the viewport (null: the step has no power).
  std::optional<QRect> power_plot() const;
  /// What the power lane's y axis spans, watts (from 0; null without power).
  std::optional<PowerScale> power_scale() const;

 Q_SIGNALS:
  void span_selected(const QString& details);
  void range_changed(double start_s, double end_s);

 protected:
  void paintEvent(QPaintEvent*) override;
  void resizeEvent(QResizeEvent*) override;
  void wheelEvent(QWheelEvent*) override;
  void mousePressEvent(QMouseEvent*) override;
  void mouseMoveEvent(QMouseEvent*) override;
  void mouseReleaseEvent(QMouseEvent*) override;
  void keyPressEvent(QKeyEvent*) override;
  bool viewportEvent(QEvent*) override;
  void scrollContentsBy(int, int) override;

 private:
  struct Hit {
    int row = -1;
    int lane = -1;  ///< -1: the row's title or label area
  };
  void relayout();
  Hit hit(QPoint p) const;
  int content_y(int row) const;
  /// Bottom of the rows' area: the power lane lies below it.
  int rows_bottom() const;
  void paint_ruler(class QPainter& p) const;
  void paint_power(class QPainter& p) const;
  /// The GPU power lane of `row` (null: it has none, or they are hidden).
  const PowerPoints* rank_power_lane(const StepTimelineData::Row& row) const;
  QString describe_rank_power(const StepTimelineData::Row& row, QPoint p) const;
  QString describe_power(QPoint p) const;

  std::shared_ptr<StepTimelineData> data_;
  std::vector<StepTimelineData::Row> rows_;
  std::vector<int> row_y_;  ///< top of each row in content coordinates, plus the end
  TimeAxis axis_;
  std::optional<std::int64_t> selected_;
  QPoint press_, last_;
  bool dragging_ = false;
  int power_height_ = kPowerHeight;
  bool show_critical_ = true;
  bool show_rank_power_ = true;
};

}  // namespace herd::gui
