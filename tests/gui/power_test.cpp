// The cluster's power in the GUI: the step timeline's power lane, a saved trace's power counters,
// the run view's power curve.
#include <catch2/catch.hpp>

#include <algorithm>

#include <QApplication>
#include <QImage>
#include <QKeyEvent>
#include <QTest>

#include "herd/app/scenario_loading.hpp"
#include "herd/app/simulate_use_case.hpp"
#include "herd/gui/power_curve.hpp"
#include "herd/gui/run_view.hpp"
#include "herd/gui/saved_step.hpp"
#include "herd/gui/step_timeline_view.hpp"
#include "herd/model/units.hpp"
#include "herd/sim/step/trace_export.hpp"
#include "qt_app.hpp"

using namespace herd;
using gui::StepTimelineView;

namespace {

/// Llama 3 8B on 32 GPUs (TP 8, PP 2, DP 2), symmetric, with its trace and its power.
const app::SimulateResult& small_step() {
  static const app::SimulateResult result = [] {
    app::SimulateRequest request;
    request.scenario = app::load_scenario("llama3-8b", {"cluster.num_gpus=32", "plan.tp=8", "plan.pp=2", "plan.dp=2", "plan.global_batch=16"});
    request.trace = true;
    return app::simulate(request);
  }();
  return result;
}

std::shared_ptr<gui::StepTimelineData> timeline_of(const app::SimulateResult& r) {
  return std::make_shared<gui::StepTimelineData>(r.report, model::Scenario{});
}

/// Share of the pixels of `image` inside `r` (logical pixels of a grab at any scale) that are not white.
double painted(const QImage& image, const QRect& r) {
  const double scale = image.devicePixelRatio();
  const QRect device(static_cast<int>(r.left() * scale), static_cast<int>(r.top() * scale), static_cast<int>(r.width() * scale),
                     static_cast<int>(r.height() * scale));
  int n = 0;
  for (int y = device.top(); y <= device.bottom(); ++y)
    for (int x = device.left(); x <= device.right(); ++x)
      if (image.pixel(x, y) != qRgb(255, 255, 255)) ++n;
  return double(n) / std::max(1, device.width() * device.height());
}

}  // namespace

TEST_CASE("power curve: one range per pixel column, however many points") {
  gui::PowerPoints points;
  for (int i = 0; i < 20000; ++i) points.push_back({i * 1e-3, i % 2 ? 20e6 : 12e6});
  points.push_back({20.0, 12e6});
  gui::TimeAxis axis(20, 1000);  // 20 points per column
  std::vector<gui::PowerColumn> columns;
  gui::power_columns(points, axis, columns);
  REQUIRE(columns.size() == 1000);
  for (const auto& c : columns) {
    CHECK(c.set);
    CHECK(c.lo_w == 12e6);
    CHECK(c.hi_w == 20e6);
    CHECK(c.mean_w == Approx(16e6));
  }
  axis.show(0.0101, 0.0129);  // 3 points over 1,000 px: each column one level, but where it steps
  gui::power_columns(points, axis, columns);
  CHECK(columns.front().lo_w == 12e6);
  CHECK(columns.front().hi_w == 12e6);
  CHECK(columns[500].lo_w == 20e6);  // t = 0.0115
  CHECK(columns[500].mean_w == 20e6);
  CHECK(columns[321].lo_w == 12e6);  // t = 0.011 inside: both levels
  CHECK(columns[321].hi_w == 20e6);
  CHECK(columns.back().hi_w == 12e6);
  CHECK(gui::power_at(points, 0.0115) == 20e6);
  CHECK_FALSE(gui::power_at(points, 21.0));

  const gui::PowerScale s = gui::power_scale(23.4e6, 5);
  CHECK(s.top_w >= 23.4e6);
  CHECK(s.top_w / s.step_w <= 5.0 + 1e-9);
  CHECK(s.unit == "MW");
  CHECK(s.label(10e6) == "10 MW");
  CHECK(gui::power_scale(3.1e3, 8).label(2.5e3) == "2.5 kW");
}

TEST_CASE("step timeline view: a step with power gets the power lane, its axis covering the series") {
  gui::test::qt_app();
  const auto& result = small_step();
  REQUIRE(result.power);
  const auto& cw = result.power->cluster_w;
  const auto [lo, hi] = std::minmax_element(cw.begin(), cw.end());
  auto data = timeline_of(result);
  data->set_power(*result.power);
  REQUIRE(data->power());
  CHECK(data->power()->lo_w == *lo);
  CHECK(data->power()->hi_w == *hi);
  CHECK(data->power()->extremes.window_means);
  CHECK(data->power()->extremes.swing_w() == Approx(result.power->swing_w));

  StepTimelineView view;
  view.resize(1210, 700);
  view.set_data(data);
  view.show();
  REQUIRE(QTest::qWaitForWindowExposed(&view));  // the viewport has its size
  const auto plot = view.power_plot();
  REQUIRE(plot);
  const auto scale = view.power_scale();
  REQUIRE(scale);
  CHECK(*lo >= 0);
  CHECK(scale->top_w >= *hi);
  CHECK(scale->top_w < *hi * 1.6);  // the curve uses most of the lane's height
  CHECK(plot->left() == StepTimelineView::kLabelWidth);
  CHECK(plot->width() == view.axis().width_px());  // the timeline's time axis
  CHECK(plot->bottom() < view.viewport()->height());
  CHECK(plot->top() > StepTimelineView::kRulerHeight);
  const QImage image = view.viewport()->grab().toImage();
  CHECK(painted(image, *plot) > 0.25);
  // Hover: the time and the power there.
  const QPoint at(plot->left() + 300, plot->center().y());
  const double t = view.axis().t_of(300.5);
  const auto w = gui::power_at(data->power()->points, t);
  REQUIRE(w);
  const QString text = view.describe_at(at);
  CHECK(text.contains(QString::fromStdString(model::format_power(*w))));
  CHECK(text.contains(QString::fromStdString(gui::format_duration(t, view.axis().seconds_per_px(), view.axis().end_s()))));
  CHECK_FALSE(view.span_at(at));
  // Zoom keeps the lane on the timeline's axis.
  view.zoom(0.25, plot->left() + 100);
  CHECK(view.power_plot()->width() == view.axis().width_px());
}

TEST_CASE("step timeline view: each simulated rank's GPU power gets a lane in its row, P hides them") {
  gui::test::qt_app();
  const auto& result = small_step();
  REQUIRE(result.power);
  const auto& rank_w = result.power->rank_w;
  REQUIRE(rank_w.size() == 2);  // two stages, each one GPU's series
  auto data = timeline_of(result);
  data->set_power(*result.power);
  double hi = 0;
  for (int r = 0; r < 2; ++r) {
    const gui::PowerPoints* points = data->rank_power(r);
    REQUIRE(points);
    // One point per bin at bin x bin_s and one closing the step.
    REQUIRE(points->size() == rank_w[static_cast<std::size_t>(r)].size() + 1);
    CHECK((*points)[1].t_s == Approx(result.power->bin_s));
    CHECK((*points)[1].w == rank_w[static_cast<std::size_t>(r)][1]);
    hi = std::max(hi, *std::max_element(rank_w[static_cast<std::size_t>(r)].begin(), rank_w[static_cast<std::size_t>(r)].end()));
  }
  CHECK_FALSE(data->rank_power(2));
  CHECK(data->power()->rank_hi_w == hi);

  StepTimelineView view;
  view.resize(1210, 700);
  view.set_data(data);
  view.show();
  REQUIRE(QTest::qWaitForWindowExposed(&view));
  REQUIRE(view.show_rank_power());
  // The power lane lies under stage 0's last stream lane.
  const model::Stream last = data->rows().front().lanes.back();
  const double t = data->step_time_s() * 0.37;
  const auto above = view.point_of(0, last, t);
  REQUIRE(above);
  const QPoint at(above->x(), above->y() + StepTimelineView::kLaneHeight);
  const auto w = gui::power_at(*data->rank_power(0), view.axis().t_of(at.x() - StepTimelineView::kLabelWidth));
  REQUIRE(w);
  const QString text = view.describe_at(at);
  CHECK(text.contains("GPU's power"));
  CHECK(text.contains(QString::fromStdString(model::format_power(*w))));
  CHECK_FALSE(view.span_at(at));
  const QImage image = view.viewport()->grab().toImage();
  CHECK(painted(image, QRect(StepTimelineView::kLabelWidth, at.y() - 6, view.axis().width_px(), 12)) > 0.25);
  // P: no power lanes, so the next stage's row moves up by one lane.
  const auto stage1 = view.point_of(1, model::Stream::compute, t);
  REQUIRE(stage1);
  QKeyEvent p(QEvent::KeyPress, Qt::Key_P, Qt::NoModifier);
  QApplication::sendEvent(&view, &p);
  CHECK_FALSE(view.show_rank_power());
  CHECK_FALSE(view.describe_at(at).contains("GPU's power"));
  const auto stage1_after = view.point_of(1, model::Stream::compute, t);
  REQUIRE(stage1_after);
  CHECK(stage1_after->y() == stage1->y() - StepTimelineView::kLaneHeight);
}

TEST_CASE("step timeline view: a step without power has no power lane") {
  gui::test::qt_app();
  StepTimelineView view;
  view.resize(1210, 700);
  view.set_data(timeline_of(small_step()));
  CHECK_FALSE(view.power_plot());
  CHECK_FALSE(view.power_scale());
  const QString text = view.describe_at(QPoint(StepTimelineView::kLabelWidth + 300, 690));
  CHECK_FALSE(text.contains("power"));
}

TEST_CASE("saved step: the power counters read back into the step's power series") {
  const auto& result = small_step();
  REQUIRE(result.power);
  const auto& original = *result.power;
  const auto doc = nlohmann::json::parse(sim::chrome_trace_json(result.report, &original));
  const gui::SavedStep saved = gui::read_saved_step(doc, "step.json");
  REQUIRE(saved.power);
  const auto& p = *saved.power;
  CHECK(p.step_time_s == Approx(original.step_time_s));
  CHECK(p.bin_s == Approx(original.bin_s));
  CHECK(p.window_s == 0);  // not in the trace
  REQUIRE(p.cluster_w.size() == original.cluster_w.size());
  for (std::size_t i = 0; i < p.cluster_w.size(); ++i) {
    INFO("bin " << i);
    CHECK(p.cluster_w[i] == Approx(original.cluster_w[i]));
  }
  REQUIRE(p.rank_w.size() == original.rank_w.size());
  for (std::size_t r = 0; r < p.rank_w.size(); ++r) {
    REQUIRE(p.rank_w[r].size() == original.rank_w[r].size());
    CHECK(p.rank_w[r].back() == Approx(original.rank_w[r].back()));
  }
  // Drawn without window figures: the highest and the lowest bin are marked.
  gui::StepTimelineData data(saved.report, model::Scenario{}, saved.names);
  data.set_power(p);
  REQUIRE(data.power());
  CHECK_FALSE(data.power()->extremes.window_means);
  CHECK(data.power()->extremes.peak_w == Approx(*std::max_element(original.cluster_w.begin(), original.cluster_w.end())));
  CHECK(data.power()->extremes.min_w == Approx(*std::min_element(original.cluster_w.begin(), original.cluster_w.end())));
  // A trace without them has no power.
  const gui::SavedStep bare = gui::read_saved_step(nlohmann::json::parse(sim::chrome_trace_json(result.report)), "step.json");
  CHECK_FALSE(bare.power);
}

TEST_CASE("run view: the power series has one point per change of level, and one at the end") {
  gui::test::qt_app();
  using K = sim::run::SpanKind;
  gui::RunData run;
  run.label = "run";
  run.report.trials = 1;
  run.timeline.spans = {{K::train, 0, 100, 0},        {K::train, 100, 200, 0},   {K::checkpoint, 200, 210, 0},
                        {K::train, 210, 300, 1},      {K::restart, 300, 400, 0}, {K::checkpoint_load, 400, 450, 0},
                        {K::detection, 450, 460, 0},  {K::train, 460, 600, 1}};
  sim::RunPowerLevels levels;
  levels.train_mean_w = {20e6, 22e6};
  levels.stalled_w = 12e6;
  levels.down_w = 8e6;
  run.power = levels;
  gui::RunView view;
  view.resize(1200, 700);
  view.set_runs({run});
  const auto& series = view.runs().front().power_series;
  // Expected: a point wherever the level changes from the span before, and one closing the last.
  std::vector<sim::PowerPoint> expected;
  for (const auto& s : run.timeline.spans) {
    const double w = levels.level_w(s.kind, s.phase);
    if (expected.empty() || expected.back().w != w) expected.push_back({s.start_s, w});
  }
  expected.push_back({600, 22e6});
  REQUIRE(series.size() == expected.size());
  CHECK(series.size() == 7);
  for (std::size_t i = 0; i < series.size(); ++i) {
    INFO("point " << i);
    CHECK(series[i].t_s == expected[i].t_s);
    CHECK(series[i].w == expected[i].w);
  }
  const QImage image = view.grab().toImage();
  CHECK(gui::test::drawn_pixels(image) > 0);
  // Without levels, no curve.
  run.power.reset();
  view.set_runs({run});
  CHECK(view.runs().front().power_series.empty());
}
