#pragma once
// A training run from `herd train`: one band per run on a days axis (training, checkpoints,
// detection, restarts, loads, maintenance), the failures below it coloured by category, the
// cumulative training time above it; and the spread of time-to-train over the trials (p10-p90,
// median, mean, failure-free); under each run's band, the cluster's IT power through it, and the
// energy to train and its cost in the summary. Two runs (A and B) are drawn on the same axis to
// compare them.
// Wheel zooms around the pointer, drag pans.
#include <optional>
#include <vector>

#include <QString>
#include <QWidget>

#include "herd/gui/power_curve.hpp"
#include "herd/gui/time_axis.hpp"
#include "herd/sim/power/run_power.hpp"
#include "herd/sim/run/run_simulation.hpp"
#include "herd/sim/run/timeline.hpp"

namespace herd::gui {

struct RunData {
  QString label;  ///< "A: llama3-405b-16k", "B: ... + reliability.checkpoint.mode=async"
  sim::run::RunReport report;
  sim::run::RunTimeline timeline;  ///< trial 0
  std::optional<sim::RunPowerLevels> power;  ///< the cluster's power in each part of the run
  std::optional<sim::RunEnergy> energy;      ///< mean over the trials
  /// The power through trial 0's timeline (sim::run_power_series); set_runs fills it.
  PowerPoints power_series;
};

class RunView : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kLabelWidth = 170;
  explicit RunView(QWidget* parent = nullptr);
  void set_runs(std::vector<RunData> runs);
  const std::vector<RunData>& runs() const { return runs_; }
  const TimeAxis& axis() const { return axis_; }
  void zoom(double factor, double x);
  void pan(double dx_px);

 protected:
  void paintEvent(QPaintEvent*) override;
  void resizeEvent(QResizeEvent*) override;
  void wheelEvent(QWheelEvent*) override;
  void mousePressEvent(QMouseEvent*) override;
  void mouseMoveEvent(QMouseEvent*) override;
  QSize sizeHint() const override { return {1200, 700}; }

 private:
  std::vector<QString> categories() const;  ///< failure categories, most frequent first
  std::vector<RunData> runs_;
  TimeAxis axis_;
  QPoint last_;
};

}  // namespace herd::gui
