// The step timeline on a per-rank step of Llama 3 405B (TP 8, PP 16, 16 micro-batches per DP
// rank) at 1,024 and 16,384 GPUs: building the compact store from the trace, and repainting a
// 1,600 x 1,000 view zoomed out, zoomed in, and with every group open. Counters: spans, bytes of
// the trace and of the timeline, and the process's peak RSS.
#include <cstdlib>
#include <map>
#include <memory>

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <QApplication>
#include <QImage>
#include <QPainter>
#include <QScrollBar>

#include "herd/app/scenario_loading.hpp"
#include "herd/app/simulate_use_case.hpp"
#include "herd/gui/step_timeline_data.hpp"
#include "herd/gui/step_timeline_view.hpp"

namespace {

using herd::gui::StepTimelineData;
using herd::gui::StepTimelineView;

struct Step {
  herd::model::Scenario scenario;
  std::shared_ptr<const herd::sim::StepReport> report;  // with its trace
};

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024;
}

const Step& step(int gpus) {
  static std::map<int, Step> cache;
  auto it = cache.find(gpus);
  if (it != cache.end()) return it->second;
  const int dp = gpus / 128;
  Step s;
  s.scenario = herd::app::load_scenario("", {"cluster.num_gpus=" + std::to_string(gpus), "plan.dp=" + std::to_string(dp),
                                            "plan.global_batch=" + std::to_string(16 * dp)});
  herd::app::SimulateRequest request;
  request.scenario = s.scenario;
  request.per_rank = true;
  request.trace = true;
  s.report = std::make_shared<const herd::sim::StepReport>(herd::app::simulate(request).report);
  return cache.emplace(gpus, std::move(s)).first->second;
}

void counters(benchmark::State& state, const Step& s, const StepTimelineData& data) {
  state.counters["spans"] = static_cast<double>(data.spans());
  state.counters["trace_MB"] = static_cast<double>(s.report->trace.capacity() * sizeof(herd::sim::TraceSpan)) / 1e6;
  state.counters["timeline_MB"] = static_cast<double>(data.memory_bytes()) / 1e6;
  state.counters["peak_RSS_MB"] = peak_rss_mb();
}

void BM_BuildTimeline(benchmark::State& state) {
  const Step& s = step(static_cast<int>(state.range(0)));
  std::unique_ptr<StepTimelineData> data;
  for (auto _ : state) {
    data = std::make_unique<StepTimelineData>(*s.report, s.scenario);
    benchmark::DoNotOptimize(data->spans());
  }
  counters(state, s, *data);
}

enum class Zoom { whole, one_ms, all_open };

void repaint(benchmark::State& state, Zoom zoom) {
  const Step& s = step(static_cast<int>(state.range(0)));
  auto data = std::make_shared<StepTimelineData>(*s.report, s.scenario);
  data->set_expanded(data->roots().front(), true);
  data->set_expanded(data->nodes()[static_cast<std::size_t>(data->roots().front())].children.front(), true);
  if (zoom == Zoom::all_open) data->expand_all(true);
  StepTimelineView view;
  view.resize(1600, 1000);
  view.set_data(data);
  if (zoom == Zoom::one_ms) view.show_range(data->step_time_s() / 2, data->step_time_s() / 2 + 1e-3);
  if (zoom == Zoom::all_open) view.verticalScrollBar()->setValue(view.verticalScrollBar()->maximum() / 2);
  QImage image(view.viewport()->size(), QImage::Format_ARGB32_Premultiplied);
  for (auto _ : state) {
    QPainter painter(&image);
    view.viewport()->render(&painter);
  }
  counters(state, s, *data);
}

void BM_RepaintWholeStep(benchmark::State& state) { repaint(state, Zoom::whole); }
void BM_RepaintOneMillisecond(benchmark::State& state) { repaint(state, Zoom::one_ms); }
void BM_RepaintEveryGroupOpen(benchmark::State& state) { repaint(state, Zoom::all_open); }

// 16,384 GPUs: the per-rank step itself takes about 40 s and its trace several GB; opt in with
// HERD_BENCH_16K=1.
void ranks(benchmark::internal::Benchmark* b) {
  b->Arg(1024);
  if (const char* e = std::getenv("HERD_BENCH_16K"); e && *e == '1') b->Arg(16384);
}

BENCHMARK(BM_BuildTimeline)->Apply(ranks)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RepaintWholeStep)->Apply(ranks)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RepaintOneMillisecond)->Apply(ranks)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RepaintEveryGroupOpen)->Apply(ranks)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
  QApplication app(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
