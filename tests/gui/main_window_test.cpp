#include "herd/gui/main_window.hpp"

#include <catch2/catch.hpp>

#include <QFile>
#include <QSignalSpy>
#include <QChartView>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>

#include "herd/gui/breakdown_view.hpp"
#include "herd/gui/collectives_view.hpp"
#include "herd/gui/export.hpp"
#include "herd/gui/plan_explorer_view.hpp"
#include "herd/gui/plan_panel.hpp"
#include "herd/gui/run_view.hpp"
#include "herd/gui/step_timeline_view.hpp"
#include "herd/gui/worker.hpp"
#include "herd/app/scenario_loading.hpp"
#include "herd/app/plan_use_case.hpp"
#include "herd/app/simulate_use_case.hpp"
#include "herd/app/train_use_case.hpp"
#include "herd/sim/step/trace_export.hpp"
#include "qt_app.hpp"

using namespace herd;
using gui::MainWindow;

namespace {

gui::CommandLine default_options() {
  gui::CommandLine options;
  options.trials = 20;  // the run view's Monte Carlo, kept short
  options.compare = {"reliability.checkpoint.mode=async"};
  options.width = 1200;
  options.height = 800;
  return options;
}

/// Runs `view` to completion; true when it delivered a result.
bool run_and_wait(MainWindow& window, MainWindow::View view) {
  QSignalSpy finished(&window.worker(), &gui::Worker::finished);
  REQUIRE(window.run(view).isEmpty());
  window.worker().wait();
  REQUIRE(finished.count() == 1);
  return finished[0][0].toBool();
}

}  // namespace

TEST_CASE("main window: every view opens on the default scenario and renders something") {
  gui::test::qt_app();
  MainWindow window(default_options());
  window.show();
  for (auto view : {MainWindow::View::timeline, MainWindow::View::run, MainWindow::View::collectives}) {
    const bool delivered = run_and_wait(window, view);
    REQUIRE(delivered);
  }
  window.show_view(MainWindow::View::breakdown);  // filled by the step's run
  CHECK(window.breakdown_view().has_data());
  // The step names the compute level it used: the H100 preset's fitted default here.
  CHECK(window.timeline_title().contains("compute level "));
  CHECK(window.timeline_title().contains("(preset h100-sxm-80gb)"));
  CHECK(window.run_view().runs().size() == 2);
  // The step's power under its timeline, the run's power and energy in the run view.
  CHECK(window.timeline_view().power_plot());
  for (const auto& run : window.run_view().runs()) {
    CHECK(run.energy);
    CHECK(run.power_series.size() >= 2);
  }
  CHECK(window.collectives_view().points() > 20);
  for (auto view : {MainWindow::View::timeline, MainWindow::View::breakdown, MainWindow::View::run, MainWindow::View::collectives}) {
    window.show_view(view);
    const QImage image = window.page(view)->grab().toImage();
    INFO("view " << static_cast<int>(view));
    CHECK(gui::test::drawn_pixels(image) > image.width() * image.height() / 50);
    CHECK(gui::test::colours(image) > 8);
  }
}

TEST_CASE("main window: a cancelled run leaves the previous result intact") {
  gui::test::qt_app();
  MainWindow window(default_options());
  const bool delivered = run_and_wait(window, MainWindow::View::timeline);
  REQUIRE(delivered);
  const auto report = window.step_report();
  const auto timeline = window.timeline_view().data();
  REQUIRE(report);
  // A per-rank step of 16,384 GPUs takes far longer than the cancel that follows it.
  window.plan_panel().set_per_rank(true);
  QSignalSpy finished(&window.worker(), &gui::Worker::finished);
  REQUIRE(window.run(MainWindow::View::timeline).isEmpty());
  CHECK(window.worker().busy());
  window.cancel();
  window.worker().wait();
  REQUIRE(finished.count() == 1);
  CHECK_FALSE(finished[0][0].toBool());
  CHECK(finished[0][1].toString().isEmpty());
  CHECK(window.step_report() == report);
  CHECK(window.timeline_view().data() == timeline);
  CHECK_FALSE(window.step_report()->per_rank);
  CHECK(window.status().startsWith("Stopped"));
}

TEST_CASE("main window: a bad plan shows the CLI's message inline and runs nothing") {
  gui::test::qt_app();
  MainWindow window(default_options());
  window.plan_panel().tp->setValue(6);
  const QString error = window.run(MainWindow::View::timeline);
  CHECK(error.startsWith("herd: "));
  CHECK(error.contains("/plan"));
  CHECK(window.plan_panel().error() == error);
  CHECK_FALSE(window.worker().busy());
  CHECK(window.plan_panel().overrides() == QStringList{"plan.tp=6"});
}

TEST_CASE("main window: a view exports to PNG and SVG") {
  gui::test::qt_app();
  MainWindow window(default_options());
  window.show();
  const bool delivered = run_and_wait(window, MainWindow::View::timeline);
  REQUIRE(delivered);
  QTemporaryDir dir;
  const QString png = dir.filePath("timeline.png");
  CHECK(gui::export_view(*window.page(MainWindow::View::timeline), png).isEmpty());
  QImage image(png);
  const QWidget& page = *window.page(MainWindow::View::timeline);
  CHECK(image.width() == qRound(page.width() * page.devicePixelRatioF()));  // device pixels
  if (gui::svg_export_available()) {
    const QString svg = dir.filePath("breakdown.svg");
    CHECK(gui::export_view(*window.page(MainWindow::View::breakdown), svg).isEmpty());
    QFile file(svg);
    REQUIRE(file.open(QIODevice::ReadOnly));
    CHECK(file.readAll().contains("<svg"));
  }
  CHECK(gui::export_view(*window.page(MainWindow::View::timeline), "/nonexistent-dir/x.png").startsWith("herd-gui: /nonexistent-dir/x.png"));
}

TEST_CASE("main window: a step saved by herd simulate --trace opens in the step views") {
  gui::test::qt_app();
  QTemporaryDir dir;
  const QString file = dir.filePath("step.json");
  {
    app::SimulateRequest request;
    request.scenario = app::load_scenario("llama3-8b");
    request.trace = true;
    const auto result = app::simulate(request);
    REQUIRE(result.power);
    QFile out(file);
    REQUIRE(out.open(QIODevice::WriteOnly));
    out.write(QByteArray::fromStdString(sim::chrome_trace_json(result.report, &*result.power)));
  }
  gui::CommandLine options = default_options();
  options.scenario = file.toStdString();
  MainWindow window(options);
  CHECK(window.plan_panel().error().isEmpty());
  const bool delivered = run_and_wait(window, MainWindow::View::timeline);
  REQUIRE(delivered);
  REQUIRE(window.timeline_view().data());
  CHECK(window.timeline_view().data()->spans() > 1000);
  CHECK(window.timeline_view().power_plot());  // from the trace's power counters
  CHECK(window.breakdown_view().has_data());
  CHECK(window.run(MainWindow::View::run).contains("is a saved step"));
}

TEST_CASE("main window: runs saved by herd train open in the run view without simulating") {
  gui::test::qt_app();
  QTemporaryDir dir;
  app::TrainRequest request;
  request.scenario = app::load_scenario("llama3-8b", {"run.tokens=1T"});
  request.trials = 5;
  request.timeline = true;
  const app::TrainResult result = app::train(request);
  auto write = [&](const QString& name, const std::string& text) {
    QFile out(dir.filePath(name));
    REQUIRE(out.open(QIODevice::WriteOnly));
    out.write(QByteArray::fromStdString(text));
    return dir.filePath(name).toStdString();
  };
  {
    // --timeline FILE: trial 0's timeline with the report.
    gui::CommandLine options = default_options();
    options.scenario = write("run.json", app::run_timeline_file(result, "8B"));
    MainWindow window(options);
    INFO(window.status().toStdString());
    CHECK(window.plan_panel().error().isEmpty());
    CHECK(window.current_view() == MainWindow::View::run);
    REQUIRE(window.run(MainWindow::View::run).isEmpty());
    CHECK_FALSE(window.worker().busy());  // read, not simulated
    REQUIRE(window.run_view().runs().size() == 1);
    CHECK(window.run_view().runs()[0].timeline.spans.size() == result.timeline->spans.size());
    CHECK(window.run_view().runs()[0].report.trials == 5);
    CHECK_FALSE(window.run_view().runs()[0].power_series.empty());
    window.run_view().resize(1200, 700);
    CHECK(gui::test::colours(window.run_view().grab().toImage()) > 8);
    CHECK(window.run(MainWindow::View::timeline).contains("saved training runs"));
  }
  {
    // --compare --json: two runs, no timeline.
    gui::CommandLine options = default_options();
    options.scenario = write("compare.json", app::to_json(app::TrainComparison{result, result}).dump());
    MainWindow window(options);
    REQUIRE(window.run(MainWindow::View::run).isEmpty());
    REQUIRE(window.run_view().runs().size() == 2);
    CHECK(window.run_view().runs()[1].label.startsWith("B: "));
    CHECK(window.run_view().runs()[0].timeline.spans.empty());
    CHECK(window.status().contains("--timeline"));
  }
  {
    // A damaged file: the reader's message, naming the file and the pointer.
    nlohmann::json bad = app::to_json(result);
    bad["checkpoint"]["mode"] = "later";
    gui::CommandLine options = default_options();
    options.scenario = write("bad.json", bad.dump());
    MainWindow window(options);
    CHECK(window.plan_panel().error().contains("bad.json"));
    CHECK(window.plan_panel().error().contains("/checkpoint/mode"));
  }
}

TEST_CASE("main window: a plan saved by herd plan --json opens in the explorer, its layouts on its scenario") {
  gui::test::qt_app();
  QTemporaryDir dir;
  app::PlanRequest request;
  request.scenario = app::load_scenario("llama3-8b", {"cluster.num_gpus=64", "plan.dp=64", "plan.global_batch=128"});
  for (auto [key, text] : {std::pair{"tp", "2,8"}, {"cp", "1"}, {"pp", "1,2,4"}, {"v", "1"}, {"mb", "1"}, {"recompute", "none"}, {"overlap", "0"}})
    app::set_space_list(request.space, key, text);
  request.robustness = false;
  const app::PlanResult plan = app::plan(request);
  const QString file = dir.filePath("plan.json");
  {
    QFile out(file);
    REQUIRE(out.open(QIODevice::WriteOnly));
    out.write(QByteArray::fromStdString(app::to_json(plan).dump()));
  }
  gui::CommandLine options = default_options();
  options.scenario = file.toStdString();
  MainWindow window(options);
  window.show();
  REQUIRE(QTest::qWaitForWindowExposed(&window));
  INFO(window.status().toStdString());
  CHECK(window.current_view() == MainWindow::View::explorer);
  auto& explorer = window.explorer_view();
  REQUIRE(explorer.layouts().size() == plan.search.ranked.size());
  REQUIRE(window.run(MainWindow::View::explorer).isEmpty());  // the saved layouts stay: no search
  CHECK_FALSE(window.worker().busy());
  CHECK(explorer.layouts().size() == plan.search.ranked.size());
  // A click opens the layout on the saved scenario (64 GPUs), not on the default one.
  int pick = -1;
  for (int i : explorer.shown())
    if (explorer.layouts()[static_cast<std::size_t>(i)].simulated && explorer.layouts()[static_cast<std::size_t>(i)].candidate.plan.pp == 2) pick = i;
  REQUIRE(pick >= 0);
  const auto& chosen = explorer.layouts()[static_cast<std::size_t>(pick)];
  QSignalSpy finished(&window.worker(), &gui::Worker::finished);
  QTest::mouseClick(explorer.chart_view().viewport(), Qt::LeftButton, {}, explorer.point_of(pick));
  REQUIRE(window.worker().busy());
  window.worker().wait();
  REQUIRE(finished.count() == 1);
  CHECK(finished[0][0].toBool());
  CHECK(window.current_view() == MainWindow::View::timeline);
  REQUIRE(window.timeline_view().data());
  CHECK(window.timeline_view().data()->ranks() == 2);
  // The step shown is the saved ranking's own (traced, which moves a step by at most ~0.1 %).
  REQUIRE(window.step_report());
  CHECK(window.step_report()->step_time_s == Approx(chosen.step_time_s).epsilon(2e-3));
}

TEST_CASE("main window: the plan explorer shows the searched layouts, and a click opens one") {
  gui::test::qt_app();
  gui::CommandLine options = default_options();
  // Four layouts of the default scenario: TP 4 or 8, PP 8 or 16, the rest fixed.
  options.search = "tp=4,8 pp=8,16 cp=1 v=1 mb=1 schedule=1f1b layout=llama3 dp-mode=fsdp recompute=none overlap=0";
  MainWindow window(options);
  window.show();
  window.show_view(MainWindow::View::explorer);
  REQUIRE(QTest::qWaitForWindowExposed(&window));
  window.worker().wait();  // opening the tab searched
  auto& explorer = window.explorer_view();
  INFO(window.status().toStdString());
  REQUIRE(explorer.has_data());
  CHECK(explorer.layouts().size() >= 2);
  CHECK(explorer.shown().size() == explorer.layouts().size());
  const QImage image = window.page(MainWindow::View::explorer)->grab().toImage();
  CHECK(gui::test::colours(image) > 8);

  // Click the simulated layout with the fewest pipeline stages: the timeline opens with one row per stage.
  const auto& all = explorer.layouts();
  int pick = -1;
  for (int i : explorer.shown()) {
    const auto& e = all[static_cast<std::size_t>(i)];
    if (e.simulated && (pick < 0 || e.candidate.plan.pp < all[static_cast<std::size_t>(pick)].candidate.plan.pp)) pick = i;
  }
  REQUIRE(pick >= 0);
  const auto& chosen = explorer.layouts()[static_cast<std::size_t>(pick)].candidate.plan;
  QSignalSpy finished(&window.worker(), &gui::Worker::finished);
  QTest::mouseClick(explorer.chart_view().viewport(), Qt::LeftButton, {}, explorer.point_of(pick));
  INFO("after the click: " << window.status().toStdString());
  REQUIRE(window.worker().busy());
  window.worker().wait();
  REQUIRE(finished.count() == 1);
  CHECK(finished[0][0].toBool());
  CHECK(window.current_view() == MainWindow::View::timeline);
  CHECK(window.plan_panel().tp->value() == chosen.tp);
  CHECK(window.plan_panel().pp->value() == chosen.pp);
  REQUIRE(window.timeline_view().data());
  CHECK(window.timeline_view().data()->ranks() == chosen.pp);
  CHECK_FALSE(window.timeline_b_view().data());

  // Shift+click another layout: step B beside the one shown (A stays the layout just opened).
  int other = -1;
  for (int i : explorer.shown())
    if (all[static_cast<std::size_t>(i)].simulated && all[static_cast<std::size_t>(i)].candidate.plan.pp != chosen.pp) other = i;
  REQUIRE(other >= 0);
  window.show_view(MainWindow::View::explorer);
  QTest::mouseClick(explorer.chart_view().viewport(), Qt::LeftButton, Qt::ShiftModifier, explorer.point_of(other));
  REQUIRE(window.worker().busy());
  window.worker().wait();
  REQUIRE(finished.count() == 2);
  CHECK(finished[1][0].toBool());
  CHECK(window.current_view() == MainWindow::View::timeline);
  REQUIRE(window.timeline_b_view().data());
  CHECK(window.timeline_view().data()->ranks() == chosen.pp);
  CHECK(window.timeline_b_view().data()->ranks() == all[static_cast<std::size_t>(other)].candidate.plan.pp);
  CHECK(window.compare_summary().startsWith("B vs A: step "));
}

TEST_CASE("main window: a bad search space names the flag") {
  gui::test::qt_app();
  gui::CommandLine options = default_options();
  options.search = "tp=three";
  MainWindow window(options);
  const QString error = window.run(MainWindow::View::explorer);
  CHECK(error.startsWith("herd: --tp"));
  CHECK_FALSE(window.worker().busy());
}
