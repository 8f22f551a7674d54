// One training step, simulated: closed forms for compute-only pipelines, the breakdown adds up,
// symmetric and per-rank modes agree, and a straggler slows the step.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "../../engine/child_process.hpp"
#include "herd/sim/step/closed_form_comm.hpp"
#include "herd/sim/step/step_simulator.hpp"
#include "herd/sim/step/trace_export.hpp"

using namespace herd;
using model::Override;
using model::parse_override;

namespace {
model::Scenario scenario(std::initializer_list<const char*> texts, const char* base = "llama3-8b") {
  std::vector<Override> o;
  for (const char* t : texts) o.push_back(parse_override(t));
  return model::load_scenario(base, o);
}

sim::StepOptions over(sim::CommModel& comm, bool per_rank = false) {
  sim::StepOptions o;
  o.comm = &comm;
  o.per_rank = per_rank;
  return o;
}

// Compute seconds of one program on one GPU, from the lowering itself.
double compute_seconds(const sim::WorkProgram& w) {
  double t = 0;
  for (const auto& op : w.ops) t += op.seconds;
  return t;
}
}  // namespace

TEST_CASE("free communication and no pipeline: MFU equals the compute efficiency", "[step]") {
  // MFU = model FLOPs per GPU / (sum of compute op times x peak) when nothing else takes time.
  const auto s = scenario({"cluster.num_gpus=8", "plan.dp=8", "plan.global_batch=16"});
  sim::ClosedFormComm free_network(s, 0.0);
  const auto r = sim::simulate_step(s, over(free_network));
  const auto& st = r.plan->stages.front();
  double busy = compute_seconds(st.step_end);
  for (const auto& w : st.order)
    busy += compute_seconds(w.work == model::Work::forward ? st.forward[0] : st.backward_sync[0]);
  const double efficiency = r.model_flops_per_step / 8 / busy / s.cluster.gpu.peak_bf16_flops;
  CHECK(r.step_time_s == Approx(busy).epsilon(1e-6));
  CHECK(r.mfu == Approx(efficiency).epsilon(1e-6));
  CHECK(r.breakdown.bubble_s == Approx(0).margin(1e-9));
}

TEST_CASE("compute-only pipeline: the bubble is (p - 1)/(V M) of the work", "[step]") {
  // With a tiny vocabulary every stage does the same work t per micro-batch and chunk, and the
  // step takes (M V + p - 1) t / V (Narayanan et al. SC'21; arXiv:2407.21783 section 3.3.2).
  for (auto [v, m] : std::vector<std::pair<int, int>>{{1, 8}, {1, 16}, {2, 8}, {4, 8}}) {
    INFO("V " << v << ", M " << m);
    const std::string vs = "plan.virtual_stages=" + std::to_string(v);
    const std::string batch = "plan.global_batch=" + std::to_string(m);
    const auto s = scenario({"cluster.num_gpus=4", "plan.pp=4", "plan.dp=1", "model.vocab=128", vs.c_str(),
                             batch.c_str(), v > 1 ? "plan.schedule=interleaved" : "plan.schedule=1f1b"});
    sim::ClosedFormComm free_network(s, 0.0);
    const auto r = sim::simulate_step(s, over(free_network));
    const auto& mid = r.plan->stages[1];
    const double per_chunk = compute_seconds(mid.forward[0]) + compute_seconds(mid.backward_sync[0]);
    const double expected = (m * v + 4 - 1) * per_chunk;
    CHECK(r.step_time_s == Approx(expected).epsilon(0.02));
    CHECK(r.breakdown.bubble_s / r.step_time_s == Approx(3.0 / (m * v + 3)).epsilon(0.05));
  }
}

TEST_CASE("more micro-batches and more virtual stages shrink the bubble", "[step]") {
  double previous = 1;
  for (const char* batch : {"plan.global_batch=4", "plan.global_batch=8", "plan.global_batch=32"}) {
    const auto s = scenario({"cluster.num_gpus=4", "plan.pp=4", "plan.dp=1", batch});
    const auto r = sim::simulate_step(s);
    const double fraction = r.breakdown.bubble_s / r.step_time_s;
    CHECK(fraction < previous);
    previous = fraction;
  }
}

TEST_CASE("the breakdown adds up to the step time and names a bottleneck", "[step]") {
  const auto r = sim::simulate_step(model::default_scenario());
  CHECK(r.breakdown.total() == Approx(r.step_time_s).epsilon(1e-9));
  CHECK(r.mfu > 0.1);
  CHECK(r.mfu < 0.9);
  CHECK(r.hfu >= r.mfu);
  CHECK(r.tokens_per_s == Approx(r.tokens_per_step / r.step_time_s));
  CHECK(r.tflops_per_gpu == Approx(r.mfu * 989).epsilon(1e-9));
  CHECK_FALSE(r.bottleneck.empty());
  CHECK(r.fits);
}

TEST_CASE("recomputation costs time and raises HFU above MFU", "[step]") {
  const auto base = scenario({"cluster.num_gpus=16", "plan.tp=2", "plan.pp=2", "plan.dp=4", "plan.global_batch=32", "plan.dp_sharding=zero1"});
  const auto full = scenario({"cluster.num_gpus=16", "plan.tp=2", "plan.pp=2", "plan.dp=4", "plan.global_batch=32",
                              "plan.recompute=full", "plan.dp_sharding=zero1"});
  const auto a = sim::simulate_step(base), b = sim::simulate_step(full);
  CHECK(b.step_time_s > 1.2 * a.step_time_s);
  CHECK(b.hfu > 1.25 * b.mfu);
}

TEST_CASE("symmetric and per-rank modes agree on symmetric scenarios", "[step][modes]") {
  // Without a what-if every copy of a stage behaves alike, so simulating one GPU per stage and
  // counting every copy's traffic (symmetric) must give what simulating every GPU with its own
  // traffic gives (per-rank). Max-min sharing of separate activities and of their sum agree when
  // the copies load their links alike; the tolerance leaves room for copies whose rings cross a
  // different mix of links (ECMP, pod boundaries).
  const std::vector<std::vector<const char*>> layouts{
      {"cluster.num_gpus=32", "plan.tp=2", "plan.pp=4", "plan.dp=4", "plan.global_batch=32", "plan.dp_sharding=zero1"},
      {"cluster.num_gpus=64", "plan.tp=8", "plan.pp=2", "plan.dp=4", "plan.global_batch=32", "plan.dp_sharding=fsdp",
       "plan.schedule=llama3", "plan.virtual_stages=2"},
      {"cluster.num_gpus=64", "plan.tp=8", "plan.cp=2", "plan.pp=2", "plan.dp=2", "plan.global_batch=16"},
      {"cluster.num_gpus=128", "plan.tp=4", "plan.pp=4", "plan.dp=8", "plan.global_batch=64",
       R"(plan.rank_order=["tp","dp","cp","pp"])"},
      {"cluster.num_gpus=64", "plan.tp=2", "plan.pp=4", "plan.dp=8", "plan.global_batch=64", "plan.schedule=zero_bubble",
       "plan.dp_sharding=zero1"},
      {"cluster=dgx-h100-superpod", "cluster.num_gpus=256", "plan.tp=8", "plan.pp=4", "plan.dp=8", "plan.global_batch=64",
       "plan.schedule=interleaved", "plan.virtual_stages=2"},
  };
  for (const auto& layout : layouts) {
    std::vector<Override> o;
    std::string name;
    for (const char* t : layout) o.push_back(parse_override(t)), name += std::string(t) + " ";
    INFO(name);
    const auto s = model::load_scenario("llama3-8b", o);
    sim::StepOptions per_rank;
    per_rank.per_rank = true;
    const auto sym = sim::simulate_step(s);
    const auto all = sim::simulate_step(s, per_rank);
    CHECK(all.simulated_ranks == s.plan.gpus());
    CHECK(all.step_time_s == Approx(sym.step_time_s).epsilon(1e-4));
    CHECK(all.breakdown.exposed_dp_s == Approx(sym.breakdown.exposed_dp_s).epsilon(1e-3).margin(1e-6));
    CHECK(all.breakdown.bubble_s == Approx(sym.breakdown.bubble_s).epsilon(1e-3).margin(1e-6));
  }
}

TEST_CASE("a straggler slows everyone, most where the pipeline has no slack", "[step]") {
  const auto s = scenario({"cluster.num_gpus=32", "plan.tp=2", "plan.pp=4", "plan.dp=4", "plan.global_batch=32", "plan.dp_sharding=zero1"});
  const auto sym = sim::simulate_step(s);
  sim::ClosedFormComm closed(s);
  sim::ClosedFormComm closed_per_rank(s);
  CHECK(sim::simulate_step(s, over(closed_per_rank, true)).step_time_s ==
        Approx(sim::simulate_step(s, over(closed)).step_time_s).epsilon(1e-12));
  // Rank 6 (tp 0, pp 3, dp 0) sits on the last stage, which carries the output layer and sets the
  // pipeline's pace; 20% slower there slows the step. Rank 5 (stage 2) has slack: a little.
  auto straggler = [&](int rank) {
    const std::string set = "whatif.stragglers=[{\"rank\": " + std::to_string(rank) + ", \"slowdown\": 0.2}]";
    return sim::simulate_step(scenario({"cluster.num_gpus=32", "plan.tp=2", "plan.pp=4", "plan.dp=4",
                                     "plan.global_batch=32", "plan.dp_sharding=zero1", set.c_str()}));
  };
  const auto slow = straggler(6);
  CHECK(slow.step_time_s > 1.1 * sym.step_time_s);
  CHECK(slow.critical_stage == 0);
  const auto slack = straggler(5);
  CHECK(slack.step_time_s > sym.step_time_s);
  CHECK(slack.step_time_s < slow.step_time_s);
}

TEST_CASE("same scenario, same result", "[step]") {
  const auto s = model::default_scenario();
  const auto a = sim::simulate_step(s), b = sim::simulate_step(s);
  CHECK(a.step_time_s == b.step_time_s);
  CHECK(a.events == b.events);
  CHECK(a.breakdown.bubble_s == b.breakdown.bubble_s);
}

TEST_CASE("the trace loads as Chrome trace JSON and agrees with the report", "[step][trace]") {
  const auto s = scenario({"cluster.num_gpus=16", "plan.tp=2", "plan.pp=2", "plan.dp=4", "plan.global_batch=16"});
  sim::StepOptions opt;
  opt.trace = true;
  const auto r = sim::simulate_step(s, opt);
  const auto doc = nlohmann::json::parse(sim::chrome_trace_json(r));
  REQUIRE(doc.contains("traceEvents"));
  double last_end = 0, compute = 0;
  int spans = 0;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] != "X") continue;
    ++spans;
    const double end = (e["ts"].get<double>() + e["dur"].get<double>()) * 1e-6;
    last_end = std::max(last_end, end);
    if (e["pid"] == r.critical_rank && e["tid"] == 0 && e["args"]["pass"] != "optimizer") compute += e["dur"].get<double>() * 1e-6;
    CHECK(e["args"].contains("kind"));
  }
  CHECK(spans > 100);
  CHECK(last_end == Approx(r.step_time_s).epsilon(1e-6));
  CHECK(compute == Approx(r.breakdown.compute_s).epsilon(1e-6));
}

TEST_CASE("a trace changes nothing: the traced step is the untraced one", "[step][trace]") {
  // A run of compute ops is one activity with or without a trace; its ops' spans are placed inside
  // it from its pace (SM sharing with overlapped TP communication slows it mid-run here), one after
  // another: op k ends where the run's uncontended seconds reach the sum of its ops' up to k.
  for (const bool per_rank : {false, true}) {
    INFO("per rank " << per_rank);
    const auto s = scenario({"cluster.num_gpus=16", "plan.tp=4", "plan.pp=2", "plan.dp=2", "plan.global_batch=16",
                             "plan.tp_comm_overlap=true", "plan.dp_sharding=fsdp"});
    sim::StepOptions plain, traced;
    plain.per_rank = traced.per_rank = per_rank;
    traced.trace = true;
    const auto a = sim::simulate_step(s, plain), b = sim::simulate_step(s, traced);
    CHECK(b.step_time_s == a.step_time_s);
    CHECK(b.events == a.events);
    CHECK(b.stage_finish_s == a.stage_finish_s);
    CHECK(b.breakdown.compute_s == a.breakdown.compute_s);
    CHECK(b.breakdown.exposed_tp_s == a.breakdown.exposed_tp_s);
    CHECK(b.breakdown.bubble_s == a.breakdown.bubble_s);
    // Each rank's compute spans follow one another without overlapping and add up to its compute.
    std::vector<std::vector<std::pair<double, double>>> compute(static_cast<std::size_t>(b.simulated_ranks));
    for (const auto& span : b.trace)
      if (span.stream == model::Stream::compute) compute[static_cast<std::size_t>(span.rank)].emplace_back(span.start_s, span.end_s);
    for (auto& spans : compute) {
      REQUIRE(!spans.empty());
      std::sort(spans.begin(), spans.end());
      for (std::size_t i = 0; i < spans.size(); ++i) {
        CHECK(spans[i].second >= spans[i].first);
        if (i > 0) CHECK(spans[i].first >= spans[i - 1].second - 1e-12);
      }
    }
    double busy = 0;
    for (const auto& [start, end] : compute[static_cast<std::size_t>(b.critical_rank)]) busy += end - start;
    CHECK(busy == Approx(b.breakdown.compute_s + b.breakdown.optimizer_s).epsilon(1e-9));
  }
}

TEST_CASE("a degraded NIC slows the step its data-parallel group shares", "[step]") {
  // ZeRO-3 on 64 GPUs gathers and reduces over all of them every layer; one NIC at a quarter of its
  // bandwidth makes every such ring four times slower on that hop.
  const auto healthy = scenario({"cluster.num_gpus=64", "plan.dp=64", "plan.global_batch=128"});
  const auto degraded = scenario({"cluster.num_gpus=64", "plan.dp=64", "plan.global_batch=128",
                                  "whatif.degraded_nics=[{\"nic\": 9, \"bandwidth\": 0.25}]"});
  CHECK(sim::needs_per_rank(degraded));
  const auto a = sim::simulate_step(healthy), b = sim::simulate_step(degraded);
  CHECK(b.per_rank);
  CHECK(b.step_time_s > 1.1 * a.step_time_s);
}

TEST_CASE("TP overlap hides the tensor-parallel collectives behind their GEMMs", "[step]") {
  // Llama 3 70B on one node at TP 8: GEMM pieces of 1,024 tokens are long enough to cover the
  // shard transfers.
  auto run = [](const char* overlap) {
    return sim::simulate_step(scenario({"cluster.num_gpus=8", "plan.tp=8", "plan.pp=1", "plan.virtual_stages=1",
                                        "plan.schedule=1f1b", "plan.dp=1", "plan.global_batch=4", "plan.dp_sharding=zero1",
                                        overlap},
                                       "llama3-70b"));
  };
  const auto a = run("plan.tp_comm_overlap=false"), b = run("plan.tp_comm_overlap=true");
  REQUIRE(a.breakdown.exposed_tp_s > 0.1 * a.step_time_s);
  // What stays exposed: the last reduce-scatter transfer after each out-projection and fc2, and the
  // bulk-overlapped backward reductions where the weight gradient is shorter than them.
  CHECK(b.breakdown.exposed_tp_s < 0.3 * a.breakdown.exposed_tp_s);
  CHECK(b.step_time_s < a.step_time_s);
  CHECK(b.model_flops_per_step == Approx(a.model_flops_per_step).epsilon(1e-12));
  CHECK(b.breakdown.total() == Approx(b.step_time_s).epsilon(1e-9));
  // The GEMMs cut into pieces of T / tp rows run below the whole GEMM's efficiency.
  CHECK(b.breakdown.compute_s > a.breakdown.compute_s);
}

TEST_CASE("blocking pipeline sends stall the sending stage", "[step]") {
  // 1F1B over 4 stages across nodes: with async sends a stage computes on while its activation
  // travels; with blocking sends (DeepSpeed) it waits for every send, so the wait shows as exposed
  // pipeline communication and the step cannot be shorter.
  const auto base = std::initializer_list<const char*>{"cluster.num_gpus=32", "plan.pp=4", "plan.dp=8", "plan.global_batch=64",
                                                       "model.layers=8", "plan.dp_sharding=zero1"};
  std::vector<Override> a, b;
  for (const char* t : base) a.push_back(parse_override(t)), b.push_back(parse_override(t));
  b.push_back(parse_override("plan.pp_send=blocking"));
  const auto async = sim::simulate_step(model::load_scenario("llama3-8b", a));
  const auto blocking = sim::simulate_step(model::load_scenario("llama3-8b", b));
  CHECK(blocking.breakdown.exposed_pp_s > async.breakdown.exposed_pp_s);
  CHECK(blocking.step_time_s >= async.step_time_s);
  CHECK(blocking.breakdown.total() == Approx(blocking.step_time_s).epsilon(1e-9));
}

TEST_CASE("gradient reductions per micro-batch, per round and per step", "[step]") {
  // llama3 schedule, pp 4, V 2, rounds of N = 4, M = 8 micro-batches, 8 one-layer chunks, FSDP:
  // each chunk reduces its layer's gradients after every backward (M = 8 per chunk), after the
  // last backward of each round (M / N = 2) or once per step (1).
  auto reductions = [](const char* sync) {
    std::vector<Override> o;
    for (const char* t : {"cluster.num_gpus=32", "plan.pp=4", "plan.dp=8", "plan.virtual_stages=2", "plan.schedule=llama3",
                          "plan.round_size=4", "plan.global_batch=64", "model.layers=8", "plan.dp_sharding=fsdp"})
      o.push_back(parse_override(t));
    o.push_back(parse_override(sync));
    sim::StepOptions opt;
    opt.trace = true;
    const auto r = sim::simulate_step(model::load_scenario("llama3-8b", o), opt);
    int n = 0;
    for (const auto& span : r.trace)
      if (span.rank == 1 && r.trace_ops[static_cast<std::size_t>(span.op)].name == std::string_view("dp_reduce_scatter_grads")) ++n;
    return n;
  };
  CHECK(reductions("plan.grad_sync=per_microbatch") == 2 * 8);
  CHECK(reductions("plan.grad_sync=per_round") == 2 * 2);
  CHECK(reductions("plan.grad_sync=per_step") == 2 * 1);
}

TEST_CASE("a scenario's stragglers are simulated per rank", "[step]") {
  CHECK_FALSE(sim::needs_per_rank(scenario({})));
  const auto s = scenario({"cluster.num_gpus=32", "plan.tp=2", "plan.pp=4", "plan.dp=4", "plan.global_batch=32",
                           "plan.dp_sharding=zero1", R"(whatif.stragglers=[{"rank": 3, "slowdown": 0.5}])"});
  CHECK(sim::needs_per_rank(s));
  const auto r = sim::simulate_step(s);
  CHECK(r.per_rank);
  CHECK(r.simulated_ranks == 32);
}

namespace {
// A network that never delivers: every rank ends up waiting for a collective that never finishes.
class LostNetwork final : public sim::CommModel {
 public:
  void start(engine::Simulation&, const sim::CollectiveCall&, engine::EventCallback) override {}
  void transfer(engine::Simulation&, const sim::TransferCall&, engine::EventCallback) override {}
  double sm_fraction(const sim::CollectiveCall&) const override { return 0; }
};
}  // namespace

TEST_CASE("a step that cannot finish is an invariant failure, not a number", "[step][invariant]") {
  const auto s = scenario({"cluster.num_gpus=16", "plan.tp=2", "plan.pp=2", "plan.dp=4", "plan.global_batch=16"});
  const auto outcome = engine::testing::run_in_child([&] {
    LostNetwork lost;
    (void)sim::simulate_step(s, over(lost));
  });
  CHECK(outcome.aborted);
  CHECK(outcome.stderr_text.find("herd::engine invariant violated: step simulation deadlocked: stage ") == 0);
}

TEST_CASE("a breakdown over its step is an invariant failure", "[step][invariant]") {
  // Closed form: the parts of a breakdown are disjoint stretches of one rank's step, so their sum
  // is at most the step; 3 s of compute and 2 s of bubble cannot fit in a 4 s step.
  sim::StepBreakdown fits;
  fits.compute_s = 3;
  fits.bubble_s = 1;
  sim::check_breakdown(fits, 4.0, "stage 0");  // returns
  sim::StepBreakdown over_step = fits;
  over_step.bubble_s = 2;
  const auto outcome = engine::testing::run_in_child([&] { sim::check_breakdown(over_step, 4.0, "stage 0"); });
  CHECK(outcome.aborted);
  CHECK(outcome.stderr_text ==
        "herd::engine invariant violated: step breakdown of stage 0 adds up to 5.000000 s, more than its step of 4.000000 s\n");
}

TEST_CASE("steps simulated on many threads at once equal the serial ones byte for byte", "[step][concurrency]") {
  // One shared platform (fabric, prepared operations) and fresh ones, symmetric and per rank, with
  // and without a trace: the JSON of every report is the serial one, whatever ran beside it.
  std::vector<model::Scenario> scenarios{
      model::default_scenario(),
      scenario({"cluster.num_gpus=64", "plan.tp=8", "plan.pp=2", "plan.dp=4", "plan.global_batch=32", "plan.dp_sharding=fsdp",
                "plan.schedule=llama3", "plan.virtual_stages=2"}),
      scenario({"cluster.num_gpus=64", "plan.tp=8", "plan.cp=2", "plan.pp=2", "plan.dp=2", "plan.global_batch=16"}),
      scenario({"cluster.num_gpus=32", "plan.tp=2", "plan.pp=4", "plan.dp=4", "plan.global_batch=32", "plan.dp_sharding=zero1",
                R"(whatif.stragglers=[{"rank": 6, "slowdown": 0.2}])"}),
  };
  // Each scenario once, and a small symmetric step once more with its trace.
  auto run = [&](const sim::StepSimulator& simulator, std::size_t i) {
    sim::StepOptions opt;
    opt.trace = i == scenarios.size();
    const auto r = simulator.simulate(scenarios[opt.trace ? 1 : i], opt);
    return sim::step_report_json(r).dump() + (opt.trace ? sim::chrome_trace_json(r) : "");
  };
  std::vector<std::string> serial;
  for (std::size_t i = 0; i <= scenarios.size(); ++i) serial.push_back(run(sim::StepSimulator(), i));
  const sim::StepSimulator shared;
  constexpr int kThreads = 4;
  std::vector<std::vector<std::string>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (std::size_t k = 0; k < serial.size(); ++k) {
        const std::size_t i = (k + static_cast<std::size_t>(t)) % serial.size();  // each thread in its own order
        const sim::StepSimulator fresh;
        seen[static_cast<std::size_t>(t)].push_back(run(t % 2 == 0 ? shared : fresh, i));
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t)
    for (std::size_t k = 0; k < serial.size(); ++k) {
      const std::size_t i = (k + static_cast<std::size_t>(t)) % serial.size();
      INFO("thread " << t << ", run " << i);
      CHECK(seen[static_cast<std::size_t>(t)][k] == serial[i]);
    }
}

TEST_CASE("trace spans name the model layer of their op", "[step][trace]") {
  // Llama 3 8B on 2 stages: stage 0 holds layers 0-15 with the embedding, stage 1 layers 16-31
  // with the output; each layer's forward and backward compute appears on its stage, the
  // embedding and output ops carry no layer.
  const auto s = scenario({"cluster.num_gpus=16", "plan.pp=2", "plan.dp=8", "plan.global_batch=16"});
  sim::StepOptions o;
  o.trace = true;
  const auto r = sim::simulate_step(s, o);
  std::set<int> forward[2], backward[2];
  for (const auto& span : r.trace) {
    if (span.stream != model::Stream::compute) continue;
    const auto& op = r.trace_ops[static_cast<std::size_t>(span.op)];
    if (op.kind == model::OpKind::embedding || op.kind == model::OpKind::loss || op.kind == model::OpKind::optimizer)
      CHECK(span.layer == -1);
    if (span.layer < 0) continue;
    CHECK(span.layer / 16 == span.rank);
    (span.backward ? backward : forward)[span.rank].insert(span.layer);
  }
  for (int st = 0; st < 2; ++st) {
    CHECK(forward[st].size() == 16);
    CHECK(backward[st].size() == 16);
  }
}
