#pragma once
// The plan panel: the layout (TP, CP, PP, V, DP, micro-batch, schedule, DP mode, recompute, TP
// overlap) as fields, turned into `--set plan.*` overrides for what differs from the scenario, and
// the error the CLI would print for them shown inline; below them step B, the overrides over this
// plan that the step timeline simulates beside it (empty: one step).
#include <string>
#include <vector>

#include <QStringList>
#include <QWidget>

#include "herd/model/plan.hpp"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace herd::gui {

class PlanPanel : public QWidget {
  Q_OBJECT
 public:
  explicit PlanPanel(QWidget* parent = nullptr);

  /// Shows `plan` and takes it as the reference the overrides are relative to.
  void set_plan(const model::PlanSpec& plan);
  /// Shows `plan` in the fields; the reference stays (so its differences become overrides).
  void show_plan(const model::PlanSpec& plan);
  /// "plan.tp=4", ... for each field that differs from the reference plan.
  QStringList overrides() const;
  /// Step B's overrides over this plan, as typed ("plan.pp=8 plan.virtual_stages=16"; none: no B).
  std::vector<std::string> compare_overrides() const;
  void set_compare_overrides(const std::vector<std::string>& overrides);
  bool per_rank() const;
  void set_per_rank(bool on);
  /// The message under the fields: an error (red) or nothing.
  void show_error(const QString& message);
  QString error() const;

  QSpinBox* tp = nullptr;
  QSpinBox* cp = nullptr;
  QSpinBox* pp = nullptr;
  QSpinBox* virtual_stages = nullptr;
  QSpinBox* dp = nullptr;
  QSpinBox* micro_batch = nullptr;
  QComboBox* schedule = nullptr;
  QComboBox* dp_sharding = nullptr;
  QComboBox* recompute = nullptr;
  QCheckBox* tp_overlap = nullptr;
  QCheckBox* per_rank_box = nullptr;
  QLineEdit* compare_step = nullptr;  ///< step B: overrides over this plan, "k=v k2=v2"

 Q_SIGNALS:
  void run_requested();

 private:
  model::PlanSpec reference_;
  QLabel* error_ = nullptr;
};

}  // namespace herd::gui
