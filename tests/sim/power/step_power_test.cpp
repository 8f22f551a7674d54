// The power of a step from its timeline, checked against closed forms on a hand-made two-stage
// step: energy = sum over intervals of draw x duration; window means, swing and ramp by hand.
#include <catch2/catch.hpp>

#include <cmath>

#include "herd/model/scenario.hpp"
#include "herd/sim/power/run_power.hpp"
#include "herd/sim/power/step_power.hpp"
#include "herd/sim/step/step_simulator.hpp"

using namespace herd;
using sim::PowerState;

namespace {

// Two simulated ranks (stages) of 2 GPUs each, over a 10 s step:
//   rank 0: compute-bound GEMM [0, 4), an all-gather [3, 5), then nothing;
//   rank 1: nothing, a memory-bound element-wise op [2, 6), nothing.
sim::StepReport toy_step() {
  sim::StepReport r;
  r.step_time_s = 10;
  r.simulated_ranks = 2;
  r.tokens_per_step = 1000;
  sim::TraceOp gemm{.name = "gemm", .kind = model::OpKind::gemm, .flops = 1e15, .hbm_bytes = 1e9};
  sim::TraceOp add{.name = "add", .kind = model::OpKind::elementwise, .flops = 1e9, .hbm_bytes = 1e12};
  sim::TraceOp gather{.name = "gather", .kind = model::OpKind::collective};
  r.trace_ops = {gemm, add, gather};
  r.trace = {{.rank = 0, .stream = model::Stream::compute, .op = 0, .start_s = 0, .end_s = 4},
             {.rank = 0, .stream = model::Stream::tp_comm, .op = 2, .start_s = 3, .end_s = 5},
             {.rank = 1, .stream = model::Stream::compute, .op = 1, .start_s = 2, .end_s = 6}};
  return r;
}

sim::PowerSetup toy_setup() {
  sim::PowerSetup p;
  p.draws = {.idle = 10, .compute = 100, .memory = 60, .communication = 30, .wait = 20};
  p.limit_w = 100;
  p.peak_flops = 1e15;     // the GEMM: 1 s of FLOPs vs 1 ms of bytes: compute-bound
  p.hbm_bandwidth = 1e12;  // the add: 1 us of FLOPs vs 1 s of bytes: memory-bound
  p.gpus = 4;
  p.servers = 1;
  p.switches = 2;
  p.server_other_w = 50;
  p.switch_w = 5;
  p.pue = 1.5;
  p.window_s = 1;
  return p;
}

}  // namespace

TEST_CASE("step power of a two-stage toy timeline", "[power]") {
  const auto p = sim::step_power(toy_step(), toy_setup());
  // Per GPU of rank 0: 100 W x 3 s + min(100 + (30 - 20), limit 100) x 1 s + 30 W x 1 s + 20 W x 5 s = 530 J.
  // Per GPU of rank 1: 20 W x 2 s + 60 W x 4 s + 20 W x 4 s = 360 J.
  CHECK(p.gpu_energy_j == Approx(2 * 530.0 + 2 * 360.0));
  CHECK(p.gpu_energy_by_state_j[0] == Approx(2 * 400.0));               // compute-bound
  CHECK(p.gpu_energy_by_state_j[1] == Approx(2 * 240.0));               // memory-bound
  CHECK(p.gpu_energy_by_state_j[2] == Approx(2 * 30.0));                // communication alone
  CHECK(p.gpu_energy_by_state_j[3] == Approx(2 * (100.0 + 40 + 80)));  // waiting
  CHECK(p.static_w == Approx(60));
  CHECK(p.it_energy_j == Approx(1780 + 60 * 10.0));
  CHECK(p.facility_energy_j == Approx(1.5 * 2380));
  CHECK(p.energy_per_token_j == Approx(1.5 * 2380 / 1000));
  CHECK(p.mean_w == Approx(238));
  // Cluster power: [0,2) 300 W, [2,4) 380, [4,5) 240, [5,6) 220, [6,10) 140. One-second windows:
  // peak 380 (first at the window ending at 3 s), low 140 (first ending at 7 s), and the fastest
  // change over one window is the rise across the step boundary: 140 -> 300 W, ending at 1 s.
  REQUIRE(p.cluster_w.size() == 100);
  CHECK(p.cluster_w.front() == Approx(300));
  CHECK(p.cluster_w[25] == Approx(380));
  CHECK(p.cluster_w.back() == Approx(140));
  CHECK(p.peak_w == Approx(380));
  CHECK(p.peak_at_s >= 3.0 - 1e-9);  // windows ending in [3, 4] s all hold 380 W
  CHECK(p.peak_at_s <= 4.0 + 1e-9);
  CHECK(p.min_w == Approx(140));
  CHECK(p.min_at_s >= 7.0 - 1e-9);  // windows ending in [7, 10] s all hold 140 W
  CHECK(p.min_at_s <= 10.0 + 1e-9);
  CHECK(p.swing_w == Approx(240));
  CHECK(p.ramp_w == Approx(160));
  CHECK(p.ramp_at_s == Approx(1.0));
  CHECK(p.ramp_w_per_s() == Approx(160));
  REQUIRE(p.rank_w.size() == 2);
  CHECK(p.rank_w[0][5] == Approx(100));
  CHECK(p.rank_w[1][30] == Approx(60));
}

TEST_CASE("streamed starts and ends give the spans' power, keeping nothing per span", "[power]") {
  // The toy step as the executor streams it: each op's start as it starts, its span as it ends,
  // in the order of time.
  const sim::StepReport step = toy_step();
  sim::PowerRecorder recorder(toy_setup(), step.simulated_ranks);
  const auto& ops = step.trace_ops;
  const auto& spans = step.trace;
  recorder.started(0, model::Stream::compute, ops[0], 0);
  recorder.started(1, model::Stream::compute, ops[1], 2);
  recorder.started(0, model::Stream::tp_comm, ops[2], 3);
  recorder.span(spans[0], ops[0]);  // ends at 4
  recorder.span(spans[1], ops[2]);  // 5
  recorder.span(spans[2], ops[1]);  // 6
  CHECK(recorder.held_changes() == 0);
  const sim::StepPower streamed = recorder.finish(step), kept = sim::step_power(step, toy_setup());
  CHECK(streamed.gpu_energy_j == Approx(2 * 530.0 + 2 * 360.0));
  // The same to the bit: energies add up in integer nanojoules, whatever their order.
  CHECK(sim::step_power_json(streamed) == sim::step_power_json(kept));

  // Spans handed over without starts are kept until finish(): two changes a span.
  sim::PowerRecorder held(toy_setup(), step.simulated_ranks);
  for (const auto& span : spans) held.span(span, ops[static_cast<std::size_t>(span.op)]);
  CHECK(held.held_changes() == 2 * spans.size());
}

TEST_CASE("a long step's bins double until the series fits", "[power]") {
  // Bins start at a tenth of the window: 10 us for a 100 us window, a million over the 10 s toy
  // step. Doubled until at most 20,000 cover it: 10 us x 2^6 = 640 us (15,625 bins; 2^5 would
  // leave 31,250).
  auto setup = toy_setup();
  setup.window_s = 1e-4;
  const auto p = sim::step_power(toy_step(), setup);
  CHECK(p.bin_s == Approx(1e-5 * 64));
  REQUIRE(p.cluster_w.size() == 15625);
  // Energy is kept: the series integrates to the step's IT energy (the last bin ends at 10 s).
  double energy = 0;
  for (std::size_t i = 0; i < p.cluster_w.size(); ++i)
    energy += p.cluster_w[i] * (i + 1 == p.cluster_w.size() ? 10 - double(i) * p.bin_s : p.bin_s);
  CHECK(energy == Approx(p.it_energy_j));
  CHECK(p.it_energy_j == Approx(1780 + 60 * 10.0));
  // [0,2) 300 W, [2,4) 380 W: the bins inside each interval hold its power.
  CHECK(p.cluster_w[1000] == Approx(300));
  CHECK(p.cluster_w[5000] == Approx(380));
  REQUIRE(p.rank_w.size() == 2);
  CHECK(p.rank_w[0].size() == 15625);

  // Streamed, the bins double while the step runs (five times by 6 s, the sixth at its end), and
  // the series is the same to the bit: each energy is split at the first bins' edges.
  const sim::StepReport step = toy_step();
  sim::PowerRecorder recorder(setup, step.simulated_ranks);
  recorder.started(0, model::Stream::compute, step.trace_ops[0], 0);
  recorder.started(1, model::Stream::compute, step.trace_ops[1], 2);
  recorder.started(0, model::Stream::tp_comm, step.trace_ops[2], 3);
  recorder.span(step.trace[0], step.trace_ops[0]);
  recorder.span(step.trace[1], step.trace_ops[2]);
  recorder.span(step.trace[2], step.trace_ops[1]);
  CHECK(sim::step_power_json(recorder.finish(step)) == sim::step_power_json(p));
}

TEST_CASE("a power floor lifts waiting and communicating GPUs, a cap holds every draw", "[power]") {
  auto setup = toy_setup();
  setup.floor_w = 50;
  const auto floor = sim::step_power(toy_step(), setup);
  // Rank 0: 300 + 100 + max(30, 50) + 50 x 5 = 700 J; rank 1: 50 x 2 + 60 x 4 + 50 x 4 = 540 J.
  CHECK(floor.gpu_energy_j == Approx(2 * 700.0 + 2 * 540.0));
  setup.floor_w = 0;
  setup.limit_w = 55;
  const auto cap = sim::step_power(toy_step(), setup);
  // Rank 0: 55 x 4 + 30 + 20 x 5 = 350 J; rank 1: 40 + 55 x 4 + 80 = 340 J.
  CHECK(cap.gpu_energy_j == Approx(2 * 350.0 + 2 * 340.0));
}

TEST_CASE("run energy: each part of the run at its power", "[power]") {
  sim::run::RunReport r;
  r.elapsed_s.mean = 1000;
  r.lost.checkpoint_stalls = 100;
  r.lost.detection = 50;
  r.lost.restart = 200;
  r.gpu_hours = 4 * 1000 / 3600.0;
  sim::run::Phase phase;
  phase.seq_len = 10;
  phase.global_batch = 100;
  phase.step_time_s = 10;
  r.phases = {phase};
  r.token_budget = 65'000;
  sim::RunPowerLevels l;
  l.train_mean_w = {1000};
  l.train_peak_w = {1200};
  l.train_min_w = {400};
  l.train_gpu_w = {800};
  l.stalled_w = 300;
  l.stalled_gpu_w = 200;
  l.down_w = 100;
  l.down_gpu_w = 40;
  l.pue = 1.2;
  l.price_per_mwh = 100;
  const auto e = sim::run_energy(r, l);
  // Training 1000 - 150 - 200 = 650 s at 1 kW, stalled 150 s at 300 W, down 200 s at 100 W.
  CHECK(e.it_energy_j == Approx(650 * 1000.0 + 150 * 300.0 + 200 * 100.0));
  CHECK(e.gpu_energy_j == Approx(650 * 800.0 + 150 * 200.0 + 200 * 40.0));
  CHECK(e.facility_energy_j == Approx(1.2 * 715000));
  CHECK(e.cost == Approx(1.2 * 715000 / 3.6e9 * 100));
  CHECK(e.mean_it_w == Approx(715.0));
  CHECK(e.mean_gpu_w == Approx((650 * 800.0 + 150 * 200.0 + 200 * 40.0) / 4000));
  CHECK(e.checkpoint_drop_w == Approx(900));
  CHECK(e.restart_drop_w == Approx(1100));
  CHECK(e.step_swing_w == Approx(800));
  sim::run::RunTimeline timeline;
  timeline.spans = {{sim::run::SpanKind::train, 0, 600, 0}, {sim::run::SpanKind::checkpoint, 600, 610, 0},
                    {sim::run::SpanKind::restart, 610, 700, 0}, {sim::run::SpanKind::train, 700, 900, 0}};
  const auto series = sim::run_power_series(timeline, l);
  REQUIRE(series.size() == 5);
  CHECK(series[1].t_s == 600);
  CHECK(series[1].w == 300);
  CHECK(series[2].w == 100);
  CHECK(series[3].w == 1000);
  CHECK(series.back().t_s == 900);
}

TEST_CASE("a power cap slows compute-bound kernels by the cubic clock-power relation", "[power]") {
  const auto base = model::default_scenario();
  const model::Override cap = model::parse_override("whatif.power_cap=500 W");
  const auto capped = model::default_scenario({&cap, 1});
  const auto& d = base.cluster.gpu.power;
  CHECK(d.compute == Approx(700));
  CHECK(d.idle == Approx(70));
  // f / f0 = ((500 - 70) / (700 - 70))^(1/3) = 0.8805
  CHECK(capped.cluster.gpu.clock_factor == Approx(std::cbrt(430.0 / 630.0)));
  CHECK(base.cluster.gpu.clock_factor == 1);
  const auto a = sim::simulate_step(base), b = sim::simulate_step(capped);
  CHECK(b.step_time_s > a.step_time_s);
  CHECK(b.step_time_s < a.step_time_s / std::cbrt(430.0 / 630.0));  // memory-bound and communication time keep their speed
}

TEST_CASE("a board power limit is the cap's physics without the what-if", "[power]") {
  // cluster.gpu.power_limit = 500 W: the same clock as whatif.power_cap = 500 W,
  // f / f0 = ((500 - 70) / (700 - 70))^(1/3), and the same step and draws; the tighter of a limit
  // and a cap holds.
  const model::Override limit = model::parse_override("cluster.gpu.power_limit=500 W");
  const model::Override cap = model::parse_override("whatif.power_cap=500 W");
  const auto limited = model::default_scenario({&limit, 1}), capped = model::default_scenario({&cap, 1});
  CHECK(limited.cluster.gpu.clock_factor == Approx(std::cbrt(430.0 / 630.0)));
  CHECK(limited.whatif.power_cap_w == 0);
  CHECK(model::default_scenario().cluster.gpu.power_limit_w == Approx(700));  // derived: the TDP
  const auto a = sim::simulate_step(limited), b = sim::simulate_step(capped);
  CHECK(a.step_time_s == b.step_time_s);
  CHECK(sim::power_setup(limited, 8, 0).limit_w == Approx(500));
  const std::vector<model::Override> both{limit, model::parse_override("whatif.power_cap=400 W")};
  const auto tighter = model::default_scenario(both);
  CHECK(tighter.cluster.gpu.clock_factor == Approx(std::cbrt(330.0 / 630.0)));
  CHECK(sim::power_setup(tighter, 8, 0).limit_w == Approx(400));
  const std::vector<model::Override> loose{limit, model::parse_override("whatif.power_cap=600 W")};
  CHECK(model::default_scenario(loose).cluster.gpu.clock_factor == Approx(std::cbrt(430.0 / 630.0)));
}

TEST_CASE("power keys refuse draws above the TDP and a cap at or below idle", "[power]") {
  const model::Override over = model::parse_override("cluster.gpu.power.memory=800 W");
  CHECK_THROWS_WITH(model::default_scenario({&over, 1}), Catch::Contains("/cluster/gpu/power/memory"));
  const model::Override low = model::parse_override("whatif.power_cap=50 W");
  CHECK_THROWS_WITH(model::default_scenario({&low, 1}), Catch::Contains("/whatif/power_cap"));
  const model::Override floor = model::parse_override("whatif.power_floor=900 W");
  CHECK_THROWS_WITH(model::default_scenario({&floor, 1}), Catch::Contains("/whatif/power_floor"));
  const model::Override high = model::parse_override("cluster.gpu.power_limit=800 W");
  CHECK_THROWS_WITH(model::default_scenario({&high, 1}), Catch::Contains("/cluster/gpu/power_limit"));
  const model::Override idle = model::parse_override("cluster.gpu.power_limit=60 W");
  CHECK_THROWS_WITH(model::default_scenario({&idle, 1}), Catch::Contains("/cluster/gpu/power_limit"));
}
