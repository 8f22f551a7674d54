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
  const auto scenario = app::load_scenario("llama3-8b", {"cluster.num_gpus=32", "plan.tp=8", "plan.pp=2", "plan.dp=2", "plan.global_batch=16"});
  app::SimulateRequest request;
  request.scenario = scenario;
  request.per_rank = true;
  request.trace = true;
  const auto result = app::simulate(request);
  StepTimelineData data(result.report, scenario);
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
