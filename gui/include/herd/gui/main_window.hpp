#pragma once
// herd-gui's window: the plan panel on the left; the step timeline, breakdown and memory, run
// timeline and collectives views as tabs; progress and Cancel in the status bar. The step timeline
// shows a second step under the first when the plan panel names a step B. Each view's
// result comes from a herd::app use case run on the worker; a result replaces the shown one only
// when its run finished, so a cancelled or failed run leaves the previous one on screen.
#include <memory>
#include <optional>

#include <QMainWindow>
#include <QStringList>

#include "herd/gui/command_line.hpp"
#include "herd/gui/run_view.hpp"
#include "herd/gui/step_compare.hpp"
#include "herd/gui/step_timeline_data.hpp"
#include "herd/model/scenario.hpp"
#include "herd/sim/step/step_simulator.hpp"

class QLabel;
class QLineEdit;
class QProgressBar;
class QSpinBox;
class QPushButton;
class QTabWidget;

namespace herd::gui {

class BreakdownView;
class CollectivesView;
class PlanExplorerView;
class PlanPanel;
class RunView;
class StepTimelineView;
class Worker;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  enum class View { timeline, breakdown, run, collectives, explorer };

  explicit MainWindow(CommandLine options, QWidget* parent = nullptr);
  ~MainWindow() override;

  /// Loads the scenario of the command line (or `file`), its plan into the plan panel; a trace
  /// written by `herd simulate --trace` opens as a saved step instead. Returns the error shown, ""
  /// when it loaded.
  QString open_scenario(const QString& file_or_name);
  /// Starts the use case behind `view` with the plan panel's layout and `extra` overrides after
  /// it. Returns the error shown inline (bad input: the CLI's message) or "" when the run started.
  QString run(View view, const QStringList& extra = {});
  /// Shows layout `i` of the plan explorer in the plan panel and simulates its step timeline.
  void open_layout(int i);
  /// Simulates layout `i` of the plan explorer as step B beside the step shown (A: the plan panel's
  /// layout, with the keys of the explorer's layout it was opened from).
  void compare_layout(int i);
  void run_current();
  void cancel();

  void show_view(View view);
  View current_view() const;
  /// The tab page of `view` (what a screenshot or an export renders).
  QWidget* page(View view) const;
  static std::optional<View> view_named(const QString& name);

  Worker& worker() const { return *worker_; }
  PlanPanel& plan_panel() const { return *plan_; }
  StepTimelineView& timeline_view() const { return *timeline_; }
  BreakdownView& breakdown_view() const { return *breakdown_; }
  RunView& run_view() const { return *run_; }
  CollectivesView& collectives_view() const { return *collectives_; }
  PlanExplorerView& explorer_view() const { return *explorer_; }
  /// The run view's controls: Monte Carlo trials, and run B's overrides over run A ("" no run B).
  QSpinBox& trials() const { return *trials_; }
  QLineEdit& compare() const { return *compare_; }
  /// The step shown now (null before the first run finished).
  std::shared_ptr<const sim::StepReport> step_report() const { return step_report_; }
  /// Step B's timeline, under A's on the same time axis (no data: no B shown).
  StepTimelineView& timeline_b_view() const { return *timeline_b_; }
  /// Step B shown now (null: one step).
  std::shared_ptr<const sim::StepReport> step_report_b() const { return step_report_b_; }
  /// The difference B vs A in one line ("" without B).
  QString compare_summary() const;
  /// Each step's title line over its timeline ("" without B).
  QString step_title_a() const;
  QString step_title_b() const;
  QString status() const;
  /// The line above the step timeline: scenario, step, MFU, bottleneck, the compute level used.
  QString timeline_title() const;

 private:
  /// A step as the step views show it: its report (without its trace), its timeline, what the line
  /// above says about it, and its figures for a comparison.
  struct ShownStep {
    std::shared_ptr<const sim::StepReport> report;
    std::shared_ptr<StepTimelineData> timeline;
    QString note;
    StepFigures figures;
  };
  model::Scenario scenario_with_panel(const QStringList& extra = {}) const;
  /// The scenario of a run or step B: the panel's, `extra`, then `b_sets` (none: `b` stays empty).
  /// Bad input is shown as `herd` says it, named by `what`, and returned ("" when it loaded).
  QString load_b(const std::vector<std::string>& b_sets, const QStringList& extra, const QString& what,
                 std::optional<model::Scenario>& b);
  /// Shows step A in the step views, and B under it on one time axis (none: A alone, as always).
  void show_steps(ShownStep a, std::optional<ShownStep> b = std::nullopt);
  /// Every open-group action, on both timelines.
  void expand_all(bool expanded);
  QString show_saved_step(View view);
  QString show_saved_runs(View view);
  /// Opens a saved result (a step's trace, runs, a plan); "" and false when `file` is none, the
  /// error shown and true when it is one that cannot be read.
  std::pair<QString, bool> open_saved_result(const QString& file);
  void export_current();
  void set_status(const QString& text);
  /// Bad input: the message under the plan's fields and in the status bar; returns it.
  QString show_input_error(const QString& message);

  CommandLine options_;
  QString saved_step_;  ///< a trace file from `herd simulate --trace` opened instead of a scenario
  /// Runs saved by `herd train --timeline FILE`, `--json` or `--compare --json`, opened instead of
  /// a scenario: the run view shows them (empty: none).
  QString saved_runs_file_;
  std::vector<RunData> saved_runs_;
  /// The scenario a `herd plan --json` result carries: it stands in for a scenario file in every
  /// view; the explorer shows the result's layouts until it is run again.
  std::optional<model::Scenario> saved_scenario_;
  bool explorer_from_file_ = false;
  std::shared_ptr<sim::StepSimulator> simulator_;
  std::shared_ptr<const sim::StepReport> step_report_, step_report_b_;
  PlanPanel* plan_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  QWidget* timeline_page_ = nullptr;
  StepTimelineView* timeline_ = nullptr;
  StepTimelineView* timeline_b_ = nullptr;
  QWidget* pane_b_ = nullptr;
  QLabel* header_a_ = nullptr;
  QLabel* header_b_ = nullptr;
  QLabel* summary_ = nullptr;
  bool syncing_ = false;  ///< one timeline follows the other's range
  QStringList step_extra_;  ///< the overrides after the panel's of the step shown (a layout of the explorer)
  QLabel* timeline_title_ = nullptr;
  QLabel* selection_ = nullptr;
  BreakdownView* breakdown_ = nullptr;
  RunView* run_ = nullptr;
  QWidget* run_page_ = nullptr;
  QSpinBox* trials_ = nullptr;
  QLineEdit* compare_ = nullptr;
  CollectivesView* collectives_ = nullptr;
  PlanExplorerView* explorer_ = nullptr;
  Worker* worker_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QPushButton* cancel_ = nullptr;
  QLabel* status_ = nullptr;
};

/// herd-gui's main(): the window, or a screenshot with --screenshot. Returns the exit code
/// (2 for bad input, as `herd`).
int gui_main(int argc, char** argv);

}  // namespace herd::gui
