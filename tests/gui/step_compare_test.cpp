#include "herd/gui/step_compare.hpp"

#include <catch2/catch.hpp>

#include <QKeyEvent>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTest>

#include "herd/gui/main_window.hpp"
#include "herd/gui/plan_panel.hpp"
#include "herd/gui/step_timeline_view.hpp"
#include "herd/gui/worker.hpp"
#include "qt_app.hpp"

using namespace herd;
using gui::MainWindow;
using gui::StepTimelineView;

namespace {

/// Step B of the screenshot: the default scenario (TP 8, PP 16, V 8, DP 128) with half the pipeline
/// stages, each holding 16 virtual stages, twice the data parallelism, and selective recomputation
/// so that it fits in memory.
const std::vector<std::string> kStepB = {"plan.pp=8", "plan.virtual_stages=16", "plan.dp=256", "plan.recompute=selective"};

gui::CommandLine options(std::vector<std::string> compare_step) {
  gui::CommandLine o;
  o.compare_step = std::move(compare_step);
  o.width = 1200;
  o.height = 900;
  return o;
}

bool run_timeline(MainWindow& window) {
  QSignalSpy finished(&window.worker(), &gui::Worker::finished);
  REQUIRE(window.run(MainWindow::View::timeline).isEmpty());
  window.worker().wait();
  REQUIRE(finished.count() == 1);
  return finished[0][0].toBool();
}

void require_one_scale(const StepTimelineView& a, const StepTimelineView& b) {
  CHECK(a.axis().width_px() == b.axis().width_px());
  CHECK(a.axis().seconds_per_px() == Approx(b.axis().seconds_per_px()).epsilon(1e-9));
  CHECK(a.axis().start_s() == Approx(b.axis().start_s()).margin(1e-12));
  CHECK(a.axis().end_s() == Approx(b.axis().end_s()).epsilon(1e-9));
}

}  // namespace

TEST_CASE("step comparison: the title lines and the difference in one line") {
  gui::StepFigures a, b;
  a.layout = "TP 8 · PP 16 · DP 128 · mb 1 · 1f1b";
  a.step_time_s = 8.0;
  a.mfu = 0.40;
  a.bubble_s = 0.5;
  a.exposed_comm_s = 0.2;
  a.energy_per_token_j = 5.0;
  b = a;
  b.step_time_s = 8.8;
  b.mfu = 0.3636;
  b.bubble_s = 0.25;
  b.energy_per_token_j = 5.5;
  CHECK(gui::step_title("A", a) == "A: TP 8 · PP 16 · DP 128 · mb 1 · 1f1b · step 8.00 s · MFU 40.0 % · bubble 6.2 % of the step");
  CHECK(gui::compare_summary_line(a, b) ==
        "B vs A: step 8.80 s vs 8.00 s (+10.0 %) · MFU 36.4 % vs 40.0 % (−9.1 %) · bubble 250 ms vs 500 ms (−50.0 %) · "
        "exposed comm 200 ms vs 200 ms (±0 %) · energy per token 5.5 J vs 5 J (+10.0 %)");
  b.energy_per_token_j.reset();  // a step without power: no energy figure
  CHECK(gui::compare_summary_line(a, b).find("energy") == std::string::npos);
  CHECK(gui::percent_change(0, 1) == "n/a");
  CHECK(gui::percent_change(2, 6) == "+200 %");
  model::PlanSpec plan;
  plan.tp = 8;
  plan.pp = 8;
  plan.virtual_stages = 16;
  plan.dp = 256;
  plan.schedule = model::Schedule::interleaved;
  CHECK(gui::describe_layout(plan) == "TP 8 · PP 8 · V 16 · DP 256 · mb 1 · interleaved");
}

TEST_CASE("step comparison: A above B on one time axis, zoom and keys acting on both") {
  gui::test::qt_app();
  MainWindow window(options(kStepB));
  window.show();
  REQUIRE(QTest::qWaitForWindowExposed(&window));
  CHECK(window.plan_panel().compare_overrides() == kStepB);
  const bool delivered = run_timeline(window);
  INFO(window.status().toStdString());
  REQUIRE(delivered);
  auto& a = window.timeline_view();
  auto& b = window.timeline_b_view();
  REQUIRE(a.data());
  REQUIRE(b.data());
  REQUIRE(window.step_report_b());
  CHECK(a.data()->ranks() == 16);  // one row per pipeline stage
  CHECK(b.data()->ranks() == 8);
  CHECK(a.isVisible());
  CHECK(b.isVisible());
  CHECK(b.mapTo(&window, QPoint(0, 0)).y() > a.mapTo(&window, QPoint(0, 0)).y());  // B under A
  // One axis to the end of the longer step: the same seconds per pixel for both.
  const double longer = std::max(window.step_report()->step_time_s, window.step_report_b()->step_time_s);
  CHECK(a.axis().limit_s() == Approx(longer * 1.02));
  require_one_scale(a, b);
  // Zoom on A, pan and zoom with the keys on B, zoom with the wheel: both follow.
  a.zoom(0.25, StepTimelineView::kLabelWidth + 300);
  require_one_scale(a, b);
  CHECK(b.axis().span_s() == Approx(longer * 1.02 * 0.25));
  QTest::keyClick(&b, Qt::Key_D);
  require_one_scale(a, b);
  QTest::keyClick(&b, Qt::Key_W);
  require_one_scale(a, b);
  CHECK(a.axis().span_s() < longer * 0.25);
  QTest::keyClick(&a, Qt::Key_0);
  require_one_scale(a, b);
  CHECK(b.axis().start_s() == 0);
  // Each step's title line, and the difference naming both step times.
  const QString time_a = QString::fromStdString(gui::format_duration(window.step_report()->step_time_s, 0, longer));
  const QString time_b = QString::fromStdString(gui::format_duration(window.step_report_b()->step_time_s, 0, longer));
  INFO(window.compare_summary().toStdString());
  CHECK(window.step_title_a().startsWith("A: TP 8 · PP 16 · V 8 · DP 128"));
  CHECK(window.step_title_b().startsWith("B: TP 8 · PP 8 · V 16 · DP 256"));
  CHECK(window.step_title_b().contains("recompute selective"));
  CHECK(window.step_title_b().contains("MFU"));
  CHECK(window.step_title_b().contains("bubble"));
  CHECK(window.compare_summary().startsWith("B vs A: step " + time_b + " vs " + time_a));
  CHECK(window.compare_summary().contains("exposed comm"));
  CHECK(window.compare_summary().contains("energy per token"));
  // Both timelines draw; B's power lane too.
  CHECK(b.power_plot());
  const QImage image = b.grab().toImage();
  CHECK(gui::test::colours(image) > 20);

  // B emptied: back to the one step, as it always was.
  window.plan_panel().compare_step->clear();
  REQUIRE(run_timeline(window));
  CHECK_FALSE(window.timeline_b_view().data());
  CHECK_FALSE(window.step_report_b());
  CHECK_FALSE(b.isVisible());
  CHECK(window.compare_summary().isEmpty());
  CHECK(window.step_title_a().isEmpty());
  CHECK(a.axis().limit_s() == Approx(window.step_report()->step_time_s * 1.02));
}

TEST_CASE("step comparison: without B nothing changes, a bad B names itself") {
  gui::test::qt_app();
  MainWindow window(options({}));
  window.show();
  REQUIRE(run_timeline(window));
  CHECK(window.timeline_view().data());
  CHECK_FALSE(window.timeline_b_view().data());
  CHECK_FALSE(window.timeline_b_view().isVisible());
  CHECK(window.compare_summary().isEmpty());
  CHECK(window.step_title_a().isEmpty());
  CHECK(window.timeline_view().axis().limit_s() == Approx(window.step_report()->step_time_s * 1.02));
  CHECK(window.status().startsWith("Step of "));
  // A B the loader refuses: the CLI's message, named as B's, and nothing runs.
  window.plan_panel().compare_step->setText("plan.tp=6");
  const QString error = window.run(MainWindow::View::timeline);
  CHECK(error.startsWith("herd: step B: "));
  CHECK(error.contains("/plan"));
  CHECK_FALSE(window.worker().busy());
}
