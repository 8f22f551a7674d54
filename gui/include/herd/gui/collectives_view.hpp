#pragma once
// Bus bandwidth against message size (log axis), as nccl-tests users plot it: the simulated sweep
// of `herd collective`, the published points of docs/validation.md (one DGX H100, all-reduce) and
// an imported nccl-tests log.
#include <QString>
#include <QWidget>

#include "herd/app/collective_use_case.hpp"

class QChartView;
class QComboBox;

namespace herd::gui {

class CollectivesView : public QWidget {
  Q_OBJECT
 public:
  explicit CollectivesView(QWidget* parent = nullptr);
  void set_report(const app::CollectiveReport& report);
  /// Reads nccl-tests output and overlays it; returns the error message ("" when it was read).
  QString import_log(const QString& file);
  bool has_data() const { return has_data_; }
  QString op() const;
  QString group() const;
  /// Points on the chart, all series together.
  int points() const;

 Q_SIGNALS:
  void run_requested();

 private:
  void rebuild();
  struct Point {
    double bytes, busbw_gbs;
  };
  QComboBox* op_ = nullptr;
  QComboBox* group_ = nullptr;
  QChartView* chart_ = nullptr;
  QString simulated_label_, imported_label_;
  std::vector<Point> simulated_, imported_;
  bool has_data_ = false;
};

}  // namespace herd::gui
