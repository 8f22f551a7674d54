#include "herd/gui/step_timeline_view.hpp"

#include <catch2/catch.hpp>

#include <QKeyEvent>
#include <QSignalSpy>
#include <QTest>
#include <QScrollBar>
#include <QWheelEvent>

#include "herd/app/scenario_loading.hpp"
#include "herd/app/simulate_use_case.hpp"
#include "herd/gui/palette.hpp"
#include "qt_app.hpp"

using namespace herd;
using gui::StepTimelineView;

namespace {

/// The default scenario's step (Llama 3 405B on 16,384 H100), symmetric, with its trace.
std::shared_ptr<gui::StepTimelineData> default_step() {
  static const auto data = [] {
    app::SimulateRequest request;
    request.scenario = app::load_scenario("");
    request.trace = true;
    const auto result = app::simulate(request);
    return std::make_shared<gui::StepTimelineData>(result.report, request.scenario);
  }();
  return std::make_shared<gui::StepTimelineData>(*data);
}

/// `view` at 1210 x 700 on the default step, shown; false when the window was never exposed.
bool show_default_step(StepTimelineView& view) {
  view.resize(1210, 700);
  view.set_data(default_step());
  view.show();
  return QTest::qWaitForWindowExposed(&view);  // a real display maps and sizes the window later
}

void wheel(QWidget* target, QPoint at, int delta) {
  QWheelEvent e(at, target->mapToGlobal(at), QPoint(), QPoint(0, delta), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
  QApplication::sendEvent(target, &e);
}

void mouse(QWidget* target, QEvent::Type type, QPoint at, Qt::MouseButtons buttons) {
  QMouseEvent e(type, at, target->mapToGlobal(at), Qt::LeftButton, buttons, Qt::NoModifier);
  QApplication::sendEvent(target, &e);
}

}  // namespace

TEST_CASE("step timeline view: renders the default scenario's step") {
  gui::test::qt_app();
  StepTimelineView view;
  view.resize(1200, 700);
  view.set_data(default_step());
  const QImage image = view.grab().toImage();
  CHECK(gui::test::drawn_pixels(image) > image.width() * image.height() / 5);
  CHECK(gui::test::colours(image) > 20);
  StepTimelineView empty;
  empty.resize(400, 300);
  const QImage blank = empty.grab().toImage();
  CHECK(gui::test::drawn_pixels(blank) < blank.width() * blank.height() / 20);  // a line of text only
}

TEST_CASE("step timeline view: wheel and W/S zoom around the pointer, drag and A/D pan") {
  gui::test::qt_app();
  StepTimelineView view;
  view.resize(1210, 700);  // 1,000 px of time after the labels
  view.set_data(default_step());
  view.show();
  REQUIRE(QTest::qWaitForWindowExposed(&view));  // a real display maps and sizes the window later
  const double whole = view.axis().span_s();
  QSignalSpy changed(&view, &StepTimelineView::range_changed);
  const int x = StepTimelineView::kLabelWidth + 250;
  const double t_under = view.axis().t_of(250);
  wheel(view.viewport(), QPoint(x, 200), 120);  // one notch in
  CHECK(view.axis().span_s() == Approx(whole * 0.8));
  CHECK(view.axis().t_of(250) == Approx(t_under));
  CHECK(changed.count() == 1);
  wheel(view.viewport(), QPoint(x, 200), -120);
  CHECK(view.axis().span_s() == Approx(whole));

  QTest::keyClick(&view, Qt::Key_W);
  QTest::keyClick(&view, Qt::Key_W);
  const double zoomed = view.axis().span_s();
  CHECK(zoomed == Approx(whole * 0.64));
  const double start = view.axis().start_s();
  QTest::keyClick(&view, Qt::Key_D);  // a tenth of the width later
  CHECK(view.axis().start_s() == Approx(start + zoomed / 10));
  QTest::keyClick(&view, Qt::Key_A);
  CHECK(view.axis().start_s() == Approx(start));
  QTest::keyClick(&view, Qt::Key_S);
  CHECK(view.axis().span_s() == Approx(zoomed / 0.8));

  // Dragging 100 px to the left shows 100 px later (from a range away from the ends: W/S zoom
  // around the pointer, which a real display may have put anywhere).
  view.show_range(1.0, 2.0);
  const double before = view.axis().start_s();
  const double per_px = view.axis().seconds_per_px();
  // Events sent directly: QTest::mouseMove moves the real pointer on a real display, asynchronously.
  mouse(view.viewport(), QEvent::MouseButtonPress, QPoint(x + 200, 300), Qt::LeftButton);
  mouse(view.viewport(), QEvent::MouseMove, QPoint(x + 150, 300), Qt::LeftButton);
  mouse(view.viewport(), QEvent::MouseMove, QPoint(x + 100, 300), Qt::LeftButton);
  mouse(view.viewport(), QEvent::MouseButtonRelease, QPoint(x + 100, 300), Qt::NoButton);
  CHECK(view.axis().start_s() == Approx(before + 100 * per_px));
  QTest::keyClick(&view, Qt::Key_0);
  CHECK(view.axis().span_s() == Approx(whole));
}

TEST_CASE("step timeline view: the op under a pixel is the one drawn there, and a click selects it") {
  gui::test::qt_app();
  StepTimelineView view;
  view.resize(1210, 700);
  view.set_data(default_step());
  view.show();
  REQUIRE(QTest::qWaitForWindowExposed(&view));  // a real display maps and sizes the window later
  const auto& data = *view.data();
  // Zoom on stage 0's first compute op until it is wide, then pick its middle.
  std::vector<gui::Mark> marks;
  data.marks(0, model::Stream::compute, view.axis(), marks);
  REQUIRE_FALSE(marks.empty());
  const double first_op = data.info(marks.front().span).start_s;
  view.show_range(first_op, first_op + 5e-3);
  data.marks(0, model::Stream::compute, view.axis(), marks);
  REQUIRE_FALSE(marks.empty());
  const gui::Mark* wide = nullptr;
  for (const auto& m : marks)
    if (!m.merged && m.x1 - m.x0 > 6) {
      wide = &m;
      break;
    }
  REQUIRE(wide);
  const auto info = data.info(wide->span);
  const auto point = view.point_of(0, model::Stream::compute, (info.start_s + info.end_s) / 2);
  REQUIRE(point);
  const auto picked = view.span_at(*point);
  REQUIRE(picked);
  CHECK(*picked == wide->span);
  // The pixel shows the op's colour.
  const QImage image = view.viewport()->grab().toImage();
  CHECK(image.pixelColor(*point) != view.palette().color(QPalette::Base));

  QSignalSpy selected(&view, &StepTimelineView::span_selected);
  QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, *point);
  REQUIRE(selected.count() == 1);
  CHECK(selected[0][0].toString().startsWith(QString::fromStdString(info.op)));
  CHECK(view.selected() == wide->span);
  // Above the ruler nothing is picked.
  CHECK_FALSE(view.span_at(QPoint(point->x(), 5)));
}

TEST_CASE("step timeline view: resizing keeps the range in view over the new width") {
  gui::test::qt_app();
  StepTimelineView view;
  REQUIRE(show_default_step(view));
  view.show_range(1.0, 2.0);
  view.resize(810, 500);
  QApplication::processEvents();
  CHECK(view.axis().width_px() == view.viewport()->width() - StepTimelineView::kLabelWidth);
  CHECK(view.axis().start_s() == Approx(1.0));
  CHECK(view.axis().end_s() == Approx(2.0));
  // Fewer rows fit: the scroll range grows.
  CHECK(view.verticalScrollBar()->maximum() > 0);
}

TEST_CASE("step timeline view: the critical path is drawn under its ops, C hides and shows it") {
  gui::test::qt_app();
  StepTimelineView view;
  REQUIRE(show_default_step(view));
  const auto& data = *view.data();
  const auto& path = data.critical_path();
  REQUIRE_FALSE(path.spans.empty());
  // The path's first op on stage 0's compute lane, zoomed until it is wide: the bar under it is the
  // critical path's colour, 2 pixels above the lane's bottom edge.
  std::int64_t first = -1;
  for (std::int64_t k : path.spans)
    if (data.rank_of(k) == 0 && data.stream_of(k) == model::Stream::compute) {
      first = k;
      break;
    }
  REQUIRE(first >= 0);
  view.show_range(data.start_of(first), data.start_of(first) + 4 * (data.end_of(first) - data.start_of(first)));
  const auto middle = view.point_of(0, model::Stream::compute, (data.start_of(first) + data.end_of(first)) / 2);
  REQUIRE(middle);
  const QPoint bar(middle->x(), middle->y() - StepTimelineView::kLaneHeight / 2 + StepTimelineView::kLaneHeight - 3);
  // The colour drawn at a point of the viewport (in device pixels: a 2x screen doubles them).
  const auto colour_at = [&view](QPoint at) {
    const QImage image = view.viewport()->grab().toImage();
    const double scale = image.devicePixelRatio();
    return image.pixelColor(static_cast<int>(at.x() * scale), static_cast<int>(at.y() * scale));
  };
  CHECK(colour_at(bar) == gui::critical_path_colour());
  CHECK(view.describe_at(*middle).endsWith("on the critical path"));
  QTest::keyClick(&view, Qt::Key_C);
  CHECK_FALSE(view.show_critical_path());
  CHECK(colour_at(bar) != gui::critical_path_colour());
  QTest::keyClick(&view, Qt::Key_C);
  CHECK(view.show_critical_path());
}
