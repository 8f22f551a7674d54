#include "herd/gui/step_timeline_data.hpp"

#include <catch2/catch.hpp>

#include "herd/app/scenario_loading.hpp"
#include "herd/app/simulate_use_case.hpp"

using namespace herd;
using gui::Mark;
using gui::StepTimelineData;
using gui::TimeAxis;

namespace {

// Stage 0 computes fc1 on [0, 1 ms], [1, 1.5 ms], [2, 3 ms], then 1,000 spans of 0.5 µs every
// 1 µs from 3 ms; stage 1 has one TP all-gather. Spans are given in completion order, not sorted.
sim::StepReport synthetic_report() {
  sim::StepReport r;
  r.scenario = "synthetic";
  r.step_time_s = 4e-3;
  r.simulated_ranks = 2;
  r.critical_rank = 1;
  sim::TraceOp fc1;
  fc1.name = "fc1";
  fc1.kind = model::OpKind::gemm;
  fc1.flops = 1e12;
  sim::TraceOp gather;
  gather.name = "tp_all_gather";
  gather.kind = model::OpKind::collective;
  r.trace_ops = {fc1, gather};
  auto span = [](int rank, model::Stream stream, int op, double a, double b) {
    sim::TraceSpan s;
    s.rank = rank;
    s.stream = stream;
    s.op = op;
    s.start_s = a;
    s.end_s = b;
    s.microbatch = 3;
    return s;
  };
  for (int i = 999; i >= 0; --i) r.trace.push_back(span(0, model::Stream::compute, 0, 3e-3 + i * 1e-6, 3e-3 + i * 1e-6 + 0.5e-6));
  r.trace.push_back(span(0, model::Stream::compute, 0, 2e-3, 3e-3));
  r.trace.push_back(span(0, model::Stream::compute, 0, 1e-3, 1.5e-3));
  auto fc1_span = span(0, model::Stream::compute, 0, 0, 1e-3);
  fc1_span.layer = 5;
  r.trace.push_back(fc1_span);
  auto g = span(1, model::Stream::tp_comm, 1, 1e-3, 2e-3);
  g.bytes = 64.0 * (1 << 20);
  r.trace.push_back(g);
  return r;
}

// Llama 3 8B on 32 GPUs: TP 8, PP 2, DP 2.
model::Scenario small_scenario() {
  return app::load_scenario("llama3-8b", {"cluster.num_gpus=32", "plan.tp=8", "plan.pp=2", "plan.dp=2", "plan.global_batch=16"});
}

app::SimulateResult simulated(const model::Scenario& scenario, bool per_rank) {
  app::SimulateRequest request;
  request.scenario = scenario;
  request.per_rank = per_rank;
  request.trace = true;
  return app::simulate(request);
}

}  // namespace

TEST_CASE("step timeline data: lanes sorted by start, one row per stage in symmetric mode") {
  const StepTimelineData data(synthetic_report(), model::Scenario{});
  CHECK(data.spans() == 1004);
  CHECK(data.ranks() == 2);
  const auto rows = data.rows();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].lanes == std::vector<model::Stream>{model::Stream::compute});
  CHECK(rows[1].lanes == std::vector<model::Stream>{model::Stream::tp_comm});
  CHECK(data.nodes()[1].critical);
  CHECK(data.busy_s(0, model::Stream::compute) == Approx(2.5e-3 + 1000 * 0.5e-6));
  CHECK(data.memory_bytes() > 1004 * 24);
}

TEST_CASE("step timeline data: wide spans drawn one each, narrow ones merged per pixel column") {
  const StepTimelineData data(synthetic_report(), model::Scenario{});
  const TimeAxis axis(4e-3, 400);  // 10 µs per pixel
  std::vector<Mark> marks, idle;
  data.marks(0, model::Stream::compute, axis, marks, &idle);
  // Three wide spans, then the 1,000 spans under 100 columns as one merged run.
  REQUIRE(marks.size() == 4);
  CHECK(marks[0].x0 == Approx(0));
  CHECK(marks[0].x1 == Approx(100));
  CHECK(marks[2].x1 == Approx(300));
  CHECK(marks[3].merged);
  CHECK(marks[3].x0 == Approx(300));
  CHECK(marks[3].x1 == Approx(400).margin(1));
  // The gap 1.5-2 ms is idle compute, while stage 0 has no communication: the pipeline.
  REQUIRE(idle.size() == 1);
  CHECK(idle[0].x0 == Approx(150));
  CHECK(idle[0].x1 == Approx(200));
  CHECK(idle[0].style == gui::OpStyle::idle);
}

TEST_CASE("step timeline data: never more than two marks per pixel column, however many spans") {
  const StepTimelineData data(synthetic_report(), model::Scenario{});
  for (int width : {7, 50, 400, 3000}) {
    TimeAxis axis(4e-3, width);
    std::vector<Mark> marks;
    data.marks(0, model::Stream::compute, axis, marks);
    CHECK(marks.size() <= static_cast<std::size_t>(2 * width));
  }
  TimeAxis axis(4e-3, 1000);
  axis.show(3.0002e-3, 3.0092e-3);  // 9 ns per pixel: each 0.5 µs span is 55 px wide, 10 of them in view
  std::vector<Mark> marks;
  data.marks(0, model::Stream::compute, axis, marks);
  CHECK(marks.size() == 10);
  for (const Mark& m : marks) CHECK_FALSE(m.merged);
}

TEST_CASE("step timeline data: picking returns the span drawn at the pixel") {
  const StepTimelineData data(synthetic_report(), model::Scenario{});
  const TimeAxis axis(4e-3, 400);
  const auto first = data.pick(0, model::Stream::compute, axis, 50);
  REQUIRE(first);
  CHECK(data.info(*first).start_s == Approx(0));
  const auto second = data.pick(0, model::Stream::compute, axis, 120);
  REQUIRE(second);
  CHECK(data.info(*second).start_s == Approx(1e-3));
  CHECK_FALSE(data.pick(0, model::Stream::compute, axis, 175));  // the gap
  TimeAxis fine(4e-3, 1000);
  fine.show(3.0002e-3, 3.0092e-3);
  const auto tiny = data.pick(0, model::Stream::compute, fine, 325);  // 3.003125 ms: the 4th small span
  REQUIRE(tiny);
  CHECK(data.info(*tiny).start_s == Approx(3.003e-3));
  const auto comm = data.pick(1, model::Stream::tp_comm, axis, 150);
  REQUIRE(comm);
  const auto info = data.info(*comm);
  CHECK(info.op == "tp_all_gather");
  CHECK(info.rank == 1);
  CHECK(info.bytes == Approx(64.0 * (1 << 20)));
  CHECK(info.describe() == "tp_all_gather\ntp_comm stream, tp, forward, micro-batch 3\nstart 1.00 ms, duration 1.00 ms\n64 MiB, 67.1 GB/s");
  CHECK(data.info(*first).describe() ==
        "fc1\ncompute stream, forward, micro-batch 3, layer 5\nstart 0 s, duration 1.00 ms\n1000 GFLOP, 1000 TFLOP/s achieved");
}

TEST_CASE("step timeline data: per-rank mode groups ranks by stage and node, groups drawn as aggregates") {
  const auto scenario = small_scenario();
  StepTimelineData data(simulated(scenario, true).report, scenario);
  CHECK(data.ranks() == 32);
  REQUIRE(data.roots().size() == 2);  // two stages
  auto rows = data.rows();
  REQUIRE(rows.size() == 2);           // both collapsed
  const auto& stage0 = data.nodes()[static_cast<std::size_t>(rows[0].node)];
  CHECK(stage0.ranks.size() == 16);
  CHECK(stage0.children.size() == 2);  // two nodes of 8 GPUs
  TimeAxis axis(data.step_time_s(), 500);
  std::vector<Mark> marks;
  data.aggregate_marks(rows[0].node, model::Stream::compute, axis, marks);
  CHECK_FALSE(marks.empty());
  CHECK(marks.size() <= 500);
  data.set_expanded(rows[0].node, true);
  data.set_expanded(stage0.children[0], true);
  rows = data.rows();
  // stage 0 title, node title, 8 GPUs, the second node collapsed, stage 1 collapsed.
  CHECK(rows.size() == 12);
  CHECK(rows[0].lanes.empty());
  CHECK(data.nodes()[static_cast<std::size_t>(rows[2].node)].rank >= 0);
}

TEST_CASE("step timeline data: a compute gap under a communication span is waiting for it") {
  auto report = synthetic_report();
  sim::TraceSpan dp;
  dp.rank = 0;
  dp.stream = model::Stream::dp_comm;
  dp.op = 1;
  dp.start_s = 1.4e-3;  // covers the whole 1.5-2 ms gap
  dp.end_s = 2.1e-3;
  dp.group = sim::CommGroup::dp;
  report.trace.push_back(dp);
  sim::TraceSpan tp = dp;
  tp.stream = model::Stream::tp_comm;
  tp.start_s = 1.9e-3;  // a fifth of it
  tp.end_s = 2.0e-3;
  report.trace.push_back(tp);
  const StepTimelineData data(report, model::Scenario{});
  std::vector<Mark> marks, idle;
  data.marks(0, model::Stream::compute, TimeAxis(4e-3, 400), marks, &idle);
  REQUIRE(idle.size() == 1);
  CHECK(idle[0].style == gui::OpStyle::dp);
}

namespace {

sim::TraceSpan at(int rank, model::Stream stream, int op, double a_ms, double b_ms, sim::CommGroup group = sim::CommGroup::tp) {
  sim::TraceSpan s;
  s.rank = rank;
  s.stream = stream;
  s.op = op;
  s.start_s = a_ms * 1e-3;
  s.end_s = b_ms * 1e-3;
  s.group = group;
  return s;
}

std::vector<sim::TraceOp> ops(std::initializer_list<std::pair<const char*, model::OpKind>> list) {
  std::vector<sim::TraceOp> out;
  for (const auto& [name, kind] : list) {
    sim::TraceOp op;
    op.name = name;
    op.kind = kind;
    out.push_back(op);
  }
  return out;
}

}  // namespace

TEST_CASE("step timeline data: the critical path of a hand-made two-stage step", "[critical]") {
  // Stage 0: compute A [0, 1] ms, sends S [1, 1.2] to stage 1, computes B [1, 2] (off the path).
  // Stage 1: computes C [1.2, 2.2] once S arrives, all-reduces D on TP [2.2, 2.5], computes E
  // [2.5, 3.5] after D, then F [3.8, 4.0] after a gap nothing explains. Walking back from F: E
  // (the gap is waiting), D (E waited for it), C, S (C waited for its arrival on stage 0's
  // stream), A. On the path: compute A + C + E + F = 3.2 ms, TP 0.3, PP 0.2, waiting 0.3; the
  // sum is the 4 ms step, and the path changes rank once (S to C).
  sim::StepReport r;
  r.step_time_s = 4e-3;
  r.simulated_ranks = 2;
  r.critical_rank = 1;
  r.trace_ops = ops({{"gemm", model::OpKind::gemm}, {"send", model::OpKind::collective}, {"all_reduce", model::OpKind::collective}});
  r.trace = {at(0, model::Stream::compute, 0, 0, 1),     at(0, model::Stream::pp_comm, 1, 1, 1.2, sim::CommGroup::pp),
             at(0, model::Stream::compute, 0, 1, 2),     at(1, model::Stream::compute, 0, 1.2, 2.2),
             at(1, model::Stream::tp_comm, 2, 2.2, 2.5), at(1, model::Stream::compute, 0, 2.5, 3.5),
             at(1, model::Stream::compute, 0, 3.8, 4.0)};
  const StepTimelineData data(r, model::Scenario{});
  const auto& path = data.critical_path();
  std::vector<std::pair<int, double>> steps;  // (rank, start in ms)
  for (std::int64_t k : path.spans) steps.emplace_back(data.rank_of(k), std::round(data.start_of(k) * 1e4) / 10);
  CHECK(steps == std::vector<std::pair<int, double>>{{0, 0.0}, {0, 1.0}, {1, 1.2}, {1, 2.2}, {1, 2.5}, {1, 3.8}});
  CHECK(path.compute_s == Approx(3.2e-3));
  CHECK(path.comm_s[0] == Approx(0.3e-3));  // TP
  CHECK(path.comm_s[2] == Approx(0.2e-3));  // PP
  CHECK(path.waiting_s == Approx(0.3e-3));
  CHECK(path.compute_s + path.comm_s[0] + path.comm_s[2] + path.waiting_s == Approx(4e-3));
  CHECK(path.rank_changes == 1);
  // B ran beside the path, not on it; the path's marks on stage 1's compute lane: C, E and F as
  // three marks at 100 px a millisecond (C ends where the TP lane takes over).
  for (std::int64_t k = 0; k < static_cast<std::int64_t>(data.spans()); ++k) {
    const bool b = data.rank_of(k) == 0 && data.stream_of(k) == model::Stream::compute && data.start_of(k) == Approx(1e-3);
    CHECK(data.on_critical_path(k) == !b);
  }
  std::vector<Mark> marks;
  data.critical_marks(data.roots()[1], model::Stream::compute, TimeAxis(4e-3, 400), marks);
  REQUIRE(marks.size() == 3);
  CHECK(marks[0].x0 == Approx(120));
  CHECK(marks[1].x1 == Approx(350));
  CHECK(marks[2].x0 == Approx(380));
}

TEST_CASE("step timeline data: per rank, the critical path joins a collective at its last member", "[critical]") {
  // TP 2 on 2 GPUs. GPU 0 computes X [0, 1] ms and joins the all-reduce R at 1 ms; GPU 1 computes
  // Y [0, 1.5] and joins at 1.5; R ends at 2 for both; GPU 0 then computes Z [2, 3]. R ran once
  // GPU 1 joined: the path is Y, R (GPU 1's), Z: compute 2.5 ms, TP 0.5 ms, no waiting.
  const auto scenario = app::load_scenario("llama3-8b", {"cluster.num_gpus=2", "cluster.gpus_per_node=2", "cluster.nic.per_node=2", "plan.tp=2", "plan.pp=1", "plan.dp=1", "plan.global_batch=1"});
  sim::StepReport r;
  r.step_time_s = 3e-3;
  r.per_rank = true;
  r.simulated_ranks = 2;
  r.critical_rank = 0;
  r.trace_ops = ops({{"gemm", model::OpKind::gemm}, {"all_reduce", model::OpKind::collective}});
  r.trace = {at(0, model::Stream::compute, 0, 0, 1), at(0, model::Stream::tp_comm, 1, 1, 2), at(1, model::Stream::compute, 0, 0, 1.5),
             at(1, model::Stream::tp_comm, 1, 1.5, 2), at(0, model::Stream::compute, 0, 2, 3)};
  const StepTimelineData data(r, scenario);
  const auto& path = data.critical_path();
  std::vector<std::pair<int, double>> steps;
  for (std::int64_t k : path.spans) steps.emplace_back(data.rank_of(k), std::round(data.start_of(k) * 1e4) / 10);
  CHECK(steps == std::vector<std::pair<int, double>>{{1, 0.0}, {1, 1.5}, {0, 2.0}});
  CHECK(path.compute_s == Approx(2.5e-3));
  CHECK(path.comm_s[0] == Approx(0.5e-3));
  CHECK(path.waiting_s == Approx(0).margin(1e-12));
}

TEST_CASE("step timeline data: a simulated step's critical path runs back to its start without overlaps", "[critical]") {
  // Whatever the chain, its ops follow one another in time and, with the gaps between them,
  // cover the step from 0 to the last op's end.
  for (const bool per_rank : {false, true}) {
    INFO((per_rank ? "per rank" : "symmetric"));
    const auto scenario = small_scenario();
    const auto result = simulated(scenario, per_rank);
    const StepTimelineData data(result.report, scenario);
    const auto& path = data.critical_path();
    REQUIRE(path.spans.size() > 10);
    CHECK(data.start_of(path.spans.front()) == Approx(0).margin(1e-9));
    CHECK(data.end_of(path.spans.back()) == Approx(result.report.step_time_s).epsilon(1e-6));
    bool ordered = true;
    for (std::size_t i = 1; i < path.spans.size(); ++i)
      ordered = ordered && data.start_of(path.spans[i]) >= data.end_of(path.spans[i - 1]) - 1e-6;
    CHECK(ordered);
    const double total = path.compute_s + path.comm_s[0] + path.comm_s[1] + path.comm_s[2] + path.comm_s[3] + path.waiting_s;
    CHECK(total == Approx(data.end_of(path.spans.back())).epsilon(1e-6));
    CHECK(path.compute_s > 0.5 * total);  // a compute-bound 8B step
  }
}

TEST_CASE("step timeline data: spans streamed from the simulation give the store the report's trace gives") {
  // Per rank (spans arrive as they end, rank after rank) and symmetric (handed over at the end):
  // the same spans in the same lanes and order, the same critical path, the same power.
  const bool per_rank = GENERATE(true, false);
  {
    CAPTURE(per_rank);
    const model::Scenario scenario = small_scenario();
    const app::SimulateResult kept = simulated(scenario, per_rank);
    const StepTimelineData from_report(kept.report, scenario);

    // Kept in memory, spilled to temporary files from the first span, and from the middle on.
    const std::size_t spill_above = GENERATE(gui::StepTimelineSpans::kSpillAbove, std::size_t{0}, std::size_t{5000});
    CAPTURE(spill_above);
    app::SimulateRequest request;
    request.scenario = scenario;
    request.per_rank = per_rank;
    gui::StepTimelineSpans spans(spill_above);
    request.trace_sink = &spans;
    const app::SimulateResult streamed = app::simulate(request);
    CHECK(streamed.report.trace.empty());
    CHECK(spans.size() == kept.report.trace.size());
    const bool spilled = spill_above < kept.report.trace.size();
    CHECK(spans.spilled() == spilled);
    const StepTimelineData data(std::move(spans), streamed.report, scenario);
    // Spilled, the spans are mapped from files (26 bytes each) and not held in memory.
    CHECK(data.mapped_bytes() == (spilled ? data.spans() * 26 : 0));
    if (spilled) CHECK(data.memory_bytes() + data.spans() * 20 < from_report.memory_bytes());

    CHECK(streamed.report.step_time_s == kept.report.step_time_s);
    REQUIRE(data.spans() == from_report.spans());
    REQUIRE(data.ranks() == from_report.ranks());
    CHECK(data.nodes().size() == from_report.nodes().size());
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(data.spans()); ++i) {
      const gui::SpanInfo a = data.info(i), b = from_report.info(i);
      REQUIRE(a.rank == b.rank);
      REQUIRE(a.stream == b.stream);
      REQUIRE(a.op == b.op);
      REQUIRE(a.start_s == b.start_s);
      REQUIRE(a.end_s == b.end_s);
      REQUIRE(a.microbatch == b.microbatch);
      REQUIRE(a.layer == b.layer);
    }
    CHECK(data.critical_path().spans == from_report.critical_path().spans);
    REQUIRE(streamed.power);
    REQUIRE(kept.power);
    CHECK(streamed.power->cluster_w == kept.power->cluster_w);
  }
}
