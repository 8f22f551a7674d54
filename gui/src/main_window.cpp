#include "herd/gui/main_window.hpp"

#include <algorithm>

#include <QApplication>
#include <QDockWidget>
#include <QFileInfo>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QVBoxLayout>

#include "herd/app/collective_inputs.hpp"
#include "herd/app/collective_use_case.hpp"
#include "herd/app/plan_use_case.hpp"
#include "herd/app/scenario_loading.hpp"
#include "herd/app/simulate_use_case.hpp"
#include "herd/app/train_use_case.hpp"
#include "herd/gui/breakdown_view.hpp"
#include "herd/gui/collectives_view.hpp"
#include "herd/gui/export.hpp"
#include "herd/gui/palette.hpp"
#include "herd/gui/plan_explorer_view.hpp"
#include "herd/gui/plan_panel.hpp"
#include "herd/gui/run_view.hpp"
#include "herd/gui/saved_step.hpp"
#include "herd/gui/step_timeline_view.hpp"
#include "herd/gui/worker.hpp"
#include "herd/model/error.hpp"
#include "herd/model/io.hpp"
#include "herd/sim/plan/search_space.hpp"

namespace herd::gui {

namespace {

constexpr const char* kSweep = "1KiB:16GiB";
constexpr int kComparePowerHeight = 110;  // each power lane of two steps stacked
constexpr const char* kSelectionHint =
    "Click an op for its details, hover for the same. Wheel or W/S zoom around the pointer, drag or A/D pan, 0 shows "
    "the whole step, C shows or hides the critical path, P each GPU's power; click a group's name to open or close it.";

/// The colours of the step timeline, in one line above it.
class TimelineLegend : public QWidget {
 public:
  using QWidget::QWidget;
  QSize sizeHint() const override { return {800, 22}; }

 protected:
  void paintEvent(QPaintEvent*) override {
    QPainter p(this);
    const QFontMetrics fm(font());
    int x = 8;
    auto item = [&](const QBrush& brush, const QString& text) {
      p.fillRect(QRect(x, 5, 12, 12), brush);
      p.setPen(palette().color(QPalette::Text));
      const int w = fm.horizontalAdvance(text);
      p.drawText(QRect(x + 16, 0, w + 2, height()), Qt::AlignVCenter, text);
      x += w + 20;
    };
    for (int s = 0; s < kOpStyles - 1; ++s) item(colour_of(static_cast<OpStyle>(s)), QString::fromUtf8(to_string(static_cast<OpStyle>(s)).data()));
    item(colour_of(OpStyle::gemm).darker(125), "backward darker");
    item(QBrush(colour_of(OpStyle::idle), Qt::BDiagPattern), "idle: bubble");
    item(QBrush(colour_of(OpStyle::dp), Qt::BDiagPattern), "idle: waiting on comm");
    item(QColor(0xc0392b), "finishes last");
    item(critical_path_colour(), "critical path");
  }
};

std::vector<std::string> to_std(const QStringList& list) {
  std::vector<std::string> out;
  for (const auto& s : list) out.push_back(s.toStdString());
  return out;
}

/// Every key of a layout of the plan explorer, those the panel has no field for included (layer
/// layout, N, order), as --set overrides.
QStringList layout_sets(const sim::plan::Evaluation& e) {
  QStringList sets;
  const nlohmann::json overrides = sim::plan::layout_overrides(e.candidate.plan, e.candidate.num_gpus);
  for (auto it = overrides.begin(); it != overrides.end(); ++it)
    sets << QString::fromStdString(it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump()));
  return sets;
}

/// A QLabel for a line of plain text, bold or not.
QLabel* text_line(QWidget* parent, bool bold) {
  auto* label = new QLabel(parent);
  label->setTextFormat(Qt::PlainText);
  label->setTextInteractionFlags(Qt::TextSelectableByMouse);
  if (bold) {
    QFont f = label->font();
    f.setBold(true);
    label->setFont(f);
  }
  return label;
}

/// What the run view draws of a training run: simulated here, or read from a file.
RunData run_data(QString label, app::TrainResult&& r) {
  RunData run;
  run.label = std::move(label);
  run.report = std::move(r.report);
  if (r.timeline) run.timeline = std::move(*r.timeline);
  run.power = std::move(r.power);
  run.energy = std::move(r.energy);
  return run;
}

}  // namespace

MainWindow::MainWindow(CommandLine options, QWidget* parent)
    : QMainWindow(parent), options_(std::move(options)), simulator_(std::make_shared<sim::StepSimulator>()) {
  setWindowTitle("herd-gui");
  worker_ = new Worker(this);

  plan_ = new PlanPanel(this);
  plan_->set_per_rank(options_.per_rank);
  auto* dock = new QDockWidget("Plan", this);
  dock->setObjectName("plan");
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
  dock->setWidget(plan_);
  addDockWidget(Qt::LeftDockWidgetArea, dock);
  connect(plan_, &PlanPanel::run_requested, this, &MainWindow::run_current);

  // Step timeline page: title, legend, the view (step B's under it, when there is one, with a
  // title line each and the difference above both), the selection.
  timeline_page_ = new QWidget(this);
  timeline_title_ = new QLabel("No step simulated yet.", timeline_page_);
  timeline_title_->setTextFormat(Qt::PlainText);
  summary_ = text_line(timeline_page_, false);
  summary_->setWordWrap(true);
  summary_->hide();
  auto* steps = new QSplitter(Qt::Vertical, timeline_page_);
  steps->setChildrenCollapsible(false);
  auto pane = [&](QLabel*& header, StepTimelineView*& view) {
    auto* w = new QWidget(steps);
    header = text_line(w, true);
    header->hide();
    view = new StepTimelineView(w);
    auto* l = new QVBoxLayout(w);
    l->setContentsMargins(0, 0, 0, 0);
    l->setSpacing(2);
    l->addWidget(header);
    l->addWidget(view, 1);
    steps->addWidget(w);
    return w;
  };
  pane(header_a_, timeline_);
  pane_b_ = pane(header_b_, timeline_b_);
  pane_b_->hide();
  // Zoom, pan and keys on either timeline act on both: one range, one scale.
  for (const auto& [from, other] : {std::pair{timeline_, timeline_b_}, std::pair{timeline_b_, timeline_}}) {
    StepTimelineView* to = other;
    connect(from, &StepTimelineView::range_changed, this, [this, to](double start_s, double end_s) {
      if (syncing_ || !timeline_b_->data()) return;
      syncing_ = true;
      to->show_range(start_s, end_s);
      syncing_ = false;
    });
  }
  selection_ = new QLabel(kSelectionHint, timeline_page_);
  selection_->setWordWrap(true);
  selection_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  selection_->setMinimumHeight(48);
  selection_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  auto* tl_layout = new QVBoxLayout(timeline_page_);
  tl_layout->setContentsMargins(4, 4, 4, 4);
  tl_layout->addWidget(timeline_title_);
  tl_layout->addWidget(new TimelineLegend(timeline_page_));
  tl_layout->addWidget(summary_);
  tl_layout->addWidget(steps, 1);
  tl_layout->addWidget(selection_);
  connect(timeline_, &StepTimelineView::span_selected, this, [this](const QString& d) {
    if (!d.isEmpty()) selection_->setText(timeline_b_->data() ? "A: " + d : d);
  });
  connect(timeline_b_, &StepTimelineView::span_selected, this, [this](const QString& d) {
    if (!d.isEmpty()) selection_->setText("B: " + d);
  });

  breakdown_ = new BreakdownView(this);
  // Run timeline page: trials and run B above the view.
  run_page_ = new QWidget(this);
  run_ = new RunView(run_page_);
  trials_ = new QSpinBox(run_page_);
  trials_->setRange(1, 100000);
  trials_->setToolTip("Monte Carlo trials (herd train --trials)");
  compare_ = new QLineEdit(QString::fromStdString(join_overrides(options_.compare)), run_page_);
  compare_->setPlaceholderText("run B: overrides over run A, e.g. reliability.checkpoint.mode=async (empty: no run B)");
  auto* simulate_runs = new QPushButton("Simulate runs", run_page_);
  connect(simulate_runs, &QPushButton::clicked, this, [this] { run(View::run); });
  connect(compare_, &QLineEdit::returnPressed, this, [this] { run(View::run); });
  auto* run_controls = new QHBoxLayout;
  run_controls->addWidget(new QLabel("trials", run_page_));
  run_controls->addWidget(trials_);
  run_controls->addWidget(new QLabel("compare with B:", run_page_));
  run_controls->addWidget(compare_, 1);
  run_controls->addWidget(simulate_runs);
  auto* run_layout = new QVBoxLayout(run_page_);
  run_layout->setContentsMargins(4, 4, 4, 4);
  run_layout->addLayout(run_controls);
  run_layout->addWidget(run_, 1);
  collectives_ = new CollectivesView(this);
  connect(collectives_, &CollectivesView::run_requested, this, [this] { run(View::collectives); });
  tabs_ = new QTabWidget(this);
  tabs_->addTab(timeline_page_, "Step timeline");
  tabs_->addTab(breakdown_, "Breakdown and memory");
  tabs_->addTab(run_page_, "Run timeline");
  tabs_->addTab(collectives_, "Collectives");
  explorer_ = new PlanExplorerView(this);
  explorer_->space().setText(QString::fromStdString(options_.search));
  connect(explorer_, &PlanExplorerView::run_requested, this, [this] { run(View::explorer); });
  connect(explorer_, &PlanExplorerView::layout_chosen, this, &MainWindow::open_layout);
  connect(explorer_, &PlanExplorerView::compare_chosen, this, &MainWindow::compare_layout);
  tabs_->addTab(explorer_, "Plan explorer");
  setCentralWidget(tabs_);
  connect(tabs_, &QTabWidget::currentChanged, this, [this] {
    // A view opened for the first time shows its result as soon as it can.
    const View v = current_view();
    const bool empty = (v == View::run && run_->runs().empty()) || (v == View::collectives && !collectives_->has_data()) ||
                       (v == View::explorer && !explorer_->has_data());
    if (empty && !worker_->busy() && isVisible()) run(v);
  });

  progress_ = new QProgressBar(this);
  progress_->setMaximumWidth(240);
  progress_->hide();
  cancel_ = new QPushButton("Cancel", this);
  cancel_->hide();
  status_ = new QLabel(this);
  statusBar()->addWidget(status_, 1);
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(cancel_);
  connect(cancel_, &QPushButton::clicked, this, &MainWindow::cancel);
  connect(worker_, &Worker::started, this, [this](const QString& what) {
    set_status(what + "…");
    progress_->setRange(0, 0);
    progress_->show();
    cancel_->show();
  });
  connect(worker_, &Worker::progress, this, [this](const QString& what, int done, int total) {
    progress_->setRange(0, std::max(1, total));
    progress_->setValue(done);
    progress_->setFormat(what + " %v/%m");
  });
  connect(worker_, &Worker::finished, this, [this](bool ok, const QString& message) {
    progress_->hide();
    cancel_->hide();
    if (!ok) {
      set_status(message.isEmpty() ? "Stopped: the results shown are those of the previous run." : message);
      if (!message.isEmpty()) plan_->show_error(message);
    }
  });

  auto* file = menuBar()->addMenu("&File");
  file->addAction("&Open scenario…", QKeySequence::Open, this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, "Scenario", {}, "Scenarios (*.json);;All files (*)");
    if (!f.isEmpty() && open_scenario(f).isEmpty()) run_current();
  });
  file->addAction(QString("&Export view (PNG%1)…").arg(svg_export_available() ? ", SVG" : ""), QKeySequence("Ctrl+E"), this,
                  &MainWindow::export_current);
  file->addSeparator();
  file->addAction("&Quit", QKeySequence::Quit, this, &QWidget::close);
  auto* run_menu = menuBar()->addMenu("&Run");
  run_menu->addAction("&Run this view", QKeySequence("Ctrl+R"), this, &MainWindow::run_current);
  run_menu->addAction("&Cancel", QKeySequence(Qt::Key_Escape), this, &MainWindow::cancel);
  auto* view = menuBar()->addMenu("&View");
  view->addAction("&Open every group", this, [this] { expand_all(true); });
  view->addAction("&Close every group", this, [this] { expand_all(false); });
  resize(options_.width, options_.height);
  plan_->set_compare_overrides(options_.compare_step);
  open_scenario(QString::fromStdString(options_.scenario));
  if (!options_.nccl_log.empty()) {
    const QString error = collectives_->import_log(QString::fromStdString(options_.nccl_log));
    if (!error.isEmpty()) set_status(error);
  }
}

MainWindow::~MainWindow() = default;

QString MainWindow::status() const { return status_->text(); }

QString MainWindow::show_input_error(const QString& message) {
  plan_->show_error(message);
  set_status(message);
  return message;
}
void MainWindow::set_status(const QString& text) { status_->setText(text); }

std::pair<QString, bool> MainWindow::open_saved_result(const QString& file) {
  if (!file.endsWith(".json", Qt::CaseInsensitive) || !QFileInfo(file).isFile()) return {{}, false};
  nlohmann::json doc;
  try {
    doc = model::parse_json(model::read_text_file(file.toStdString(), "file"), file.toStdString());
  } catch (const std::exception&) {
    return {{}, false};  // left to the scenario loader's messages
  }
  const std::string source = file.toStdString();
  try {
    if (app::is_saved_run(doc)) {
      // Runs saved by `herd train`: the run view shows them; nothing is simulated.
      std::vector<RunData> runs;
      for (auto& saved : app::read_saved_runs(doc, source))
        runs.push_back(run_data(QString::fromStdString(saved.label), std::move(saved.result)));
      if (!runs.empty()) trials_->setValue(runs.front().report.trials);
      saved_runs_ = std::move(runs);
      saved_runs_file_ = file;
      setWindowTitle(QString("herd-gui — %1").arg(file));
      set_status("Saved runs: " + file);
      show_view(View::run);
      return {{}, true};
    }
    if (is_chrome_trace(doc)) {
      // A step saved by `herd simulate --trace`: the step views show it (read again on the worker
      // when they are shown), nothing is simulated.
      saved_step_ = file;
      plan_->show_error({});
      setWindowTitle(QString("herd-gui — %1").arg(file));
      set_status("A saved step: " + file);
      return {{}, true};
    }
    if (app::is_saved_plan(doc)) {
      // A plan result: its layouts in the explorer, its scenario for every other view.
      app::SavedPlan saved = app::read_saved_plan(doc, source);
      saved_scenario_ = std::move(saved.scenario);
      plan_->set_plan(saved_scenario_->plan);
      trials_->setValue(options_.trials.value_or(saved_scenario_->run.trials));
      explorer_->set_result(saved.result);
      explorer_from_file_ = true;
      setWindowTitle(QString("herd-gui — %1").arg(file));
      set_status(QString("A saved plan of %1: %2").arg(QString::fromStdString(saved_scenario_->name), file));
      show_view(View::explorer);
      return {{}, true};
    }
  } catch (const model::InputError& e) {
    return {show_input_error(QString("herd: ") + e.what()), true};
  }
  return {{}, false};
}

QString MainWindow::open_scenario(const QString& file_or_name) {
  options_.scenario = file_or_name.toStdString();
  saved_step_.clear();
  saved_runs_file_.clear();
  saved_runs_.clear();
  saved_scenario_.reset();
  explorer_from_file_ = false;
  try {
    // A saved result (a step's trace, runs, a plan), read once to tell which; else a scenario.
    if (const auto [error, saved] = open_saved_result(file_or_name); saved) return error;
    const model::Scenario s = app::load_scenario(options_.scenario, options_.sets);
    plan_->set_plan(s.plan);
    plan_->show_error({});
    trials_->setValue(options_.trials.value_or(s.run.trials));
    setWindowTitle(QString("herd-gui — %1").arg(QString::fromStdString(s.name)));
    set_status(QString::fromStdString(s.name + ", from " + app::scenario_origin(s)));
    return {};
  } catch (const model::InputError& e) {
    return show_input_error(QString("herd: ") + e.what());
  }
}

model::Scenario MainWindow::scenario_with_panel(const QStringList& extra) const {
  std::vector<std::string> sets = options_.sets;
  for (const auto& s : to_std(plan_->overrides() + extra)) sets.push_back(s);
  if (saved_scenario_) return app::load_resolved_scenario(saved_scenario_->resolved, saved_scenario_->source, sets);
  return app::load_scenario(options_.scenario, sets);
}

QString MainWindow::load_b(const std::vector<std::string>& b_sets, const QStringList& extra, const QString& what,
                           std::optional<model::Scenario>& b) {
  if (b_sets.empty()) return {};
  QStringList with_b = extra;
  for (const auto& set : b_sets) with_b << QString::fromStdString(set);
  try {
    b = scenario_with_panel(with_b);
  } catch (const model::InputError& e) {
    return show_input_error("herd: " + what + ": " + e.what());
  }
  return {};
}

QString MainWindow::run(View view, const QStringList& extra) {
  if (worker_->busy()) return "busy";
  if (!saved_step_.isEmpty()) return show_saved_step(view);
  if (!saved_runs_file_.isEmpty()) return show_saved_runs(view);
  if (view == View::explorer && explorer_from_file_) {
    // The saved plan's layouts stay until the explorer is run again.
    explorer_from_file_ = false;
    set_status(QString("%1 layouts from the saved plan; Run searches again.").arg(explorer_->layouts().size()));
    return {};
  }
  model::Scenario scenario;
  try {
    scenario = scenario_with_panel(extra);
  } catch (const model::InputError& e) {
    return show_input_error(QString("herd: ") + e.what());
  }
  plan_->show_error({});
  auto simulator = simulator_;
  switch (view) {
    case View::timeline:
    case View::breakdown: {
      const bool per_rank = plan_->per_rank();
      std::optional<model::Scenario> b;
      if (const QString error = load_b(plan_->compare_overrides(), extra, "step B", b); !error.isEmpty()) return error;
      step_extra_ = extra;
      const QString what = b ? (per_rank ? "Simulating every GPU of steps A and B" : "Simulating steps A and B")
                             : (per_rank ? "Simulating every GPU of the step" : "Simulating the step");
      worker_->start(what, [this, scenario, b, per_rank, simulator](const sim::Control& control) -> std::function<void()> {
        auto simulate = [&](const model::Scenario& s) {
          app::SimulateRequest request;
          request.scenario = s;
          request.per_rank = per_rank;
          request.baseline = false;  // the view shows no what-if baseline: not simulated
          request.simulator = simulator.get();
          // The spans stream into the store's compact form; the report keeps no trace.
          StepTimelineSpans spans;
          request.trace_sink = &spans;
          app::SimulateResult result = app::simulate(request, control);
          auto timeline = std::make_shared<StepTimelineData>(std::move(spans), result.report, s);
          std::optional<double> energy_per_token;
          if (result.power) {
            energy_per_token = result.power->energy_per_token_j;
            timeline->set_power(std::move(*result.power));
          }
          if (per_rank && !timeline->roots().empty()) {
            // Open the first stage and its first node, so the ranks' own lanes are in view.
            const int first = timeline->roots().front();
            timeline->set_expanded(first, true);
            const auto& children = timeline->nodes()[static_cast<std::size_t>(first)].children;
            if (!children.empty()) timeline->set_expanded(children.front(), true);
          }
          sim::check_stop(control);
          ShownStep step;
          step.figures = step_figures(result.report, &s.plan, energy_per_token);
          step.report = std::make_shared<const sim::StepReport>(std::move(result.report));
          step.timeline = std::move(timeline);
          // The compute level the step used, and where it came from; then any profile warning.
          step.note = QString("compute level %1 (%2)").arg(result.level.sustained, 0, 'f', 3).arg(QString::fromStdString(result.level.origin));
          if (!result.calibration_warning.empty()) step.note += " · " + QString::fromStdString(result.calibration_warning);
          return step;
        };
        ShownStep a = simulate(scenario);
        std::optional<ShownStep> shown_b;
        if (b) shown_b = simulate(*b);
        return [this, a = std::move(a), shown_b = std::move(shown_b)]() mutable { show_steps(std::move(a), std::move(shown_b)); };
      });
      return {};
    }
    case View::run: {
      std::optional<model::Scenario> b;
      const auto compare_sets = split_overrides(compare_->text().toStdString());
      if (const QString error = load_b(compare_sets, extra, "--compare", b); !error.isEmpty()) return error;
      const std::optional<int> trials = trials_->value();
      const QString compare = QString::fromStdString(join_overrides(compare_sets));
      worker_->start(b ? "Simulating two training runs" : "Simulating the training run",
                     [this, scenario, b, trials, compare, simulator](const sim::Control& control) -> std::function<void()> {
        auto request = [&](const model::Scenario& s) {
          app::TrainRequest r;
          r.scenario = s;
          r.trials = trials;
          r.timeline = true;
          r.simulator = simulator.get();
          return r;
        };
        std::vector<RunData> runs;
        auto add = [&](QString label, app::TrainResult& r) { runs.push_back(run_data(std::move(label), std::move(r))); };
        if (b) {
          app::TrainComparison c = app::compare(request(scenario), request(*b), control);
          add("A: " + QString::fromStdString(scenario.name), c.a);
          add("B: + " + compare, c.b);
        } else {
          app::TrainResult r = app::train(request(scenario), control);
          add(QString::fromStdString(scenario.name), r);
        }
        return [this, runs = std::move(runs)]() mutable {
          run_->set_runs(std::move(runs));
          set_status("Training run simulated.");
        };
      });
      return {};
    }
    case View::explorer: {
      app::PlanRequest request;
      request.scenario = scenario;
      try {
        explorer_->apply_space(request.space);
      } catch (const model::InputError& e) {
        return show_input_error(QString("herd: ") + e.what());
      }
      request.robustness = false;
      request.space.top = 200;  // a scatter wants many layouts simulated, not only the best ten
      request.simulator = simulator.get();
      worker_->start("Searching the layouts", [this, request, simulator](const sim::Control& control) -> std::function<void()> {
        auto result = std::make_shared<app::PlanResult>(app::plan(request, control));
        return [this, result] {
          explorer_->set_result(*result);
          set_status(QString("%1 layouts simulated.").arg(result->search.ranked.size()));
        };
      });
      return {};
    }
    case View::collectives: {
      app::CollectiveRequest request;
      request.scenario = scenario;
      request.op = collectives_->op().toStdString();
      request.group = collectives_->group().toStdString();
      request.sizes = app::parse_sweep(kSweep);
      request.simulator = simulator.get();
      worker_->start("Simulating the collective sweep", [this, request, simulator](const sim::Control& control) -> std::function<void()> {
        auto report = std::make_shared<app::CollectiveReport>(app::collective(request, control));
        return [this, report] {
          collectives_->set_report(*report);
          set_status("Collective sweep simulated.");
        };
      });
      return {};
    }
  }
  return {};
}

QString MainWindow::timeline_title() const { return timeline_title_->text(); }

QString MainWindow::compare_summary() const { return summary_->isHidden() ? QString() : summary_->text(); }
QString MainWindow::step_title_a() const { return header_a_->isHidden() ? QString() : header_a_->text(); }
QString MainWindow::step_title_b() const { return header_b_->isHidden() ? QString() : header_b_->text(); }

void MainWindow::expand_all(bool expanded) {
  for (StepTimelineView* view : {timeline_, timeline_b_}) {
    if (!view->data()) continue;
    view->data()->expand_all(expanded);
    view->set_data(view->data(), view->axis().limit_s());
  }
}

void MainWindow::show_steps(ShownStep a, std::optional<ShownStep> b) {
  step_report_ = std::move(a.report);
  const auto& timeline = a.timeline;
  // Two steps share one time axis, to the end of the longer: the same seconds per pixel, so the
  // longer step is visibly longer. The scroll bars stay, so both plots are equally wide.
  const double limit = b ? std::max(a.figures.step_time_s, b->figures.step_time_s) * 1.02 : 0;
  // Each half gets a lower power lane than one step alone, so that more of its rows show.
  const auto scroll_bar = b ? Qt::ScrollBarAlwaysOn : Qt::ScrollBarAsNeeded;
  for (StepTimelineView* view : {timeline_, timeline_b_}) {
    view->setVerticalScrollBarPolicy(scroll_bar);
    view->set_power_height(b ? kComparePowerHeight : StepTimelineView::kPowerHeight);
  }
  step_report_b_ = b ? b->report : nullptr;
  timeline_b_->set_data(b ? b->timeline : nullptr, limit);
  timeline_->set_data(timeline, limit);
  pane_b_->setVisible(b.has_value());
  header_a_->setVisible(b.has_value());
  header_b_->setVisible(b.has_value());
  summary_->setVisible(b.has_value());
  if (b) {
    header_a_->setText(QString::fromStdString(step_title("A", a.figures)));
    header_b_->setText(QString::fromStdString(step_title("B", b->figures)));
    summary_->setText(QString::fromStdString(compare_summary_line(a.figures, b->figures)));
  }
  breakdown_->set_data(*step_report_, *timeline);
  const QString& note = a.note;
  const auto& r = *step_report_;
  QString title = QString(b ? "A: " : "") + QString::fromStdString(r.scenario) + " · step " + QString::fromStdString(format_duration(r.step_time_s));
  if (r.mfu > 0) title += QString(" · MFU %1 % · %2").arg(100 * r.mfu, 0, 'f', 1).arg(QString::fromStdString(r.bottleneck));
  const QLocale digits(QLocale::English);  // 78,987,264
  title += QString(" · %1 simulated %2 · %3 spans")
               .arg(digits.toString(timeline->ranks()), r.per_rank ? "GPUs" : "stages", digits.toString(static_cast<qulonglong>(timeline->spans())));
  if (!note.isEmpty()) title += " · " + note;
  timeline_title_->setText(title);
  selection_->setText(kSelectionHint);
  set_status(b ? QString("Steps A and B of %1 shown.").arg(QString::fromStdString(r.scenario))
               : QString("Step of %1 shown.").arg(QString::fromStdString(r.scenario)));
}

void MainWindow::open_layout(int i) {
  const auto& e = explorer_->layouts().at(static_cast<std::size_t>(i));
  plan_->show_plan(e.candidate.plan);
  show_view(View::timeline);
  run(View::timeline, layout_sets(e));
}

void MainWindow::compare_layout(int i) {
  std::vector<std::string> sets;
  for (const auto& set : layout_sets(explorer_->layouts().at(static_cast<std::size_t>(i)))) sets.push_back(set.toStdString());
  plan_->set_compare_overrides(sets);
  show_view(View::timeline);
  run(View::timeline, step_extra_);  // A: the step shown, with the keys it was opened with
}

QString MainWindow::show_saved_step(View view) {
  if (view != View::timeline && view != View::breakdown) {
    const QString message = QString("herd-gui: %1 is a saved step; open a scenario (File → Open scenario) for this view").arg(saved_step_);
    set_status(message);
    return message;
  }
  const std::string file = saved_step_.toStdString();
  worker_->start("Reading the saved step", [this, file](const sim::Control& control) -> std::function<void()> {
    SavedStep saved = read_saved_step_file(file);
    sim::check_stop(control);
    auto timeline = std::make_shared<StepTimelineData>(saved.report, model::Scenario{}, saved.names);
    if (saved.power) timeline->set_power(std::move(*saved.power));
    saved.report.trace = {};
    auto report = std::make_shared<const sim::StepReport>(std::move(saved.report));
    return [this, report, timeline, file] { show_steps({report, timeline, QString::fromStdString("from " + file), {}}); };
  });
  return {};
}

QString MainWindow::show_saved_runs(View view) {
  if (view != View::run) {
    const QString message =
        QString("herd-gui: %1 holds saved training runs; open a scenario (File → Open scenario) for this view").arg(saved_runs_file_);
    set_status(message);
    return message;
  }
  run_->set_runs(saved_runs_);
  const bool timeline = std::all_of(saved_runs_.begin(), saved_runs_.end(), [](const RunData& r) { return !r.timeline.spans.empty(); });
  set_status(timeline ? "Saved runs from " + saved_runs_file_
                      : "Saved runs from " + saved_runs_file_ + ": no trial timeline in the file (`herd train --timeline FILE` saves it)");
  return {};
}

void MainWindow::run_current() { run(current_view()); }
void MainWindow::cancel() { worker_->cancel(); }

void MainWindow::show_view(View view) { tabs_->setCurrentIndex(static_cast<int>(view)); }
MainWindow::View MainWindow::current_view() const { return static_cast<View>(tabs_->currentIndex()); }
QWidget* MainWindow::page(View view) const { return tabs_->widget(static_cast<int>(view)); }

std::optional<MainWindow::View> MainWindow::view_named(const QString& name) {
  for (int i = 0; i < 5; ++i)
    if (name == kViews[i]) return static_cast<View>(i);
  return std::nullopt;
}

void MainWindow::export_current() {
  const QString filter = svg_export_available() ? "PNG image (*.png);;SVG drawing (*.svg)" : "PNG image (*.png)";
  const QString file = QFileDialog::getSaveFileName(this, "Export view", "herd-view.png", filter);
  if (file.isEmpty()) return;
  const QString error = export_view(*page(current_view()), file);
  if (!error.isEmpty()) QMessageBox::warning(this, "herd-gui", error);
  else set_status("Exported " + file);
}

}  // namespace herd::gui
