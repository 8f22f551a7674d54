// The lowering's data-parallel overlap switches, checked against closed forms on an ideal network
// (ClosedFormComm: each collective takes its ring time alone, holds no SMs): ZeRO-1's parameter
// all-gather after the optimizer or during the next forward, gradient reductions during the
// backward or after it.
#include <catch2/catch.hpp>

#include <algorithm>

#include "herd/model/memory.hpp"
#include "herd/model/compute_cost.hpp"
#include "herd/sim/step/closed_form_comm.hpp"
#include "herd/sim/step/step_program.hpp"
#include "herd/sim/step/step_simulator.hpp"

using namespace herd;
using model::parse_override;

namespace {

// Llama 3 8B cut to 4 layers, one micro-batch per step, ZeRO-1 over 16 GPUs (two nodes: the
// data-parallel ring crosses the network), no TP, CP or PP: nothing but the data-parallel
// collectives communicates.
model::Scenario zero1(std::initializer_list<const char*> extra) {
  std::vector<model::Override> o;
  for (const char* t : {"cluster.num_gpus=16", "plan.tp=1", "plan.cp=1", "plan.pp=1", "plan.dp=16", "plan.global_batch=16",
                        "plan.dp_sharding=zero1", "plan.grad_sync=per_step", "model.layers=4"})
    o.push_back(parse_override(t));
  for (const char* t : extra) o.push_back(parse_override(t));
  return model::load_scenario("llama3-8b", o);
}

sim::StepReport run(const model::Scenario& s, bool trace = false) {
  sim::ClosedFormComm comm(s);
  sim::StepOptions opt;
  opt.comm = &comm;
  opt.trace = trace;
  return sim::simulate_step(s, opt);
}

// Ring all-gather or reduce-scatter of `bytes` over the n = 16 ranks, written out here:
// (n - 1)/n x S / B + (n - 1) x alpha, B the NIC bandwidth per GPU, alpha the NIC latency and the
// two leaf hops of a network step.
double ring_seconds(const model::Scenario& s, double bytes) {
  const auto& c = s.cluster;
  const double n = 16;
  const double per_gpu = c.nic_bandwidth * c.nic_efficiency * c.nics_per_node / c.gpus_per_node;
  const double alpha = c.nic_latency_s + 2 * c.topology.switch_latency_s;
  return (n - 1) / n * bytes / per_gpu + (n - 1) * alpha;
}

double seconds(const sim::WorkProgram& w) {
  double t = 0;
  for (const auto& op : w.ops)
    if (op.kind == sim::StepOpKind::compute) t += op.seconds;
  return t;
}

double parameters(const model::Scenario& s) {
  const auto p = model::shard_parameters(s.model, s.plan);
  return p.embedding + s.model.layers * p.layer + p.output;
}

}  // namespace

TEST_CASE("without overlap: backward, then reduce-scatter, optimizer and all-gather, one after another", "[step][overlap]") {
  // step = forward + backward + RS(4 P) + optimizer + AG(2 P): FP32 gradients reduce-scattered
  // once the backward is done, the BF16 parameters all-gathered once the optimizer is done.
  const auto s = zero1({"plan.overlap_grad_reduce=false", "plan.overlap_param_gather=false"});
  const auto r = run(s);
  const auto& st = r.plan->stages.front();
  const double P = parameters(s);
  const double expected = seconds(st.forward[0]) + seconds(st.backward_sync[0]) + ring_seconds(s, 4 * P) +
                          seconds(st.step_end) + ring_seconds(s, 2 * P);
  CHECK(r.step_time_s == Approx(expected).epsilon(1e-6));
  CHECK(r.breakdown.exposed_dp_s == Approx(ring_seconds(s, 4 * P) + ring_seconds(s, 2 * P)).epsilon(1e-6));
}

TEST_CASE("ZeRO-1 parameter all-gather: blocking after the optimizer, or hidden behind the forward", "[step][overlap]") {
  const auto blocking = zero1({"plan.overlap_param_gather=false"});
  const auto overlapped = zero1({"plan.overlap_param_gather=true"});
  const auto a = run(blocking), b = run(overlapped, true);
  const double P = parameters(blocking);

  // Overlapped: one all-gather per part (embedding, each layer, output) from the start of the
  // step, back to back on the data-parallel stream: part i's parameters are there at
  // ready_i = g_0 + ... + g_i, and its forward runs from max(end of part i - 1, ready_i) for c_i.
  // The forward ends at F; what it could not cover, F - sum c_i, is exposed.
  const auto& st = b.plan->stages.front();
  std::vector<double> c;  // compute of each part: the ops after each wait for parameters
  for (const auto& op : st.forward[0].ops) {
    if (op.kind == sim::StepOpKind::wait_start) c.push_back(0);
    else if (op.kind == sim::StepOpKind::compute) c.back() += op.seconds;
  }
  REQUIRE(c.size() == 4 + 2);
  REQUIRE(st.step_start.ops.size() == c.size());
  double ready = 0, end = 0, busy = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    ready += ring_seconds(overlapped, st.step_start.ops[i].bytes);
    end = std::max(end, ready) + c[i];
    busy += c[i];
  }
  double gathered = 0;
  for (const auto& op : st.step_start.ops) gathered += op.bytes;
  CHECK(gathered == Approx(2 * P).epsilon(1e-12));
  const double exposed_forward = end - busy;
  CHECK(exposed_forward > 0);
  CHECK(exposed_forward < ring_seconds(blocking, 2 * P));

  // The backward and its reductions start from an idle data-parallel stream either way (every
  // gather is done before the last part's forward), so the step moves by exactly this much:
  // blocking - overlapped = AG(2 P) - (F - sum c_i).
  CHECK(a.step_time_s - b.step_time_s == Approx(ring_seconds(blocking, 2 * P) - exposed_forward).epsilon(1e-6));

  // The gathers are in the trace on the data-parallel stream, each naming its layer, before the
  // forward that waits for them.
  int gathers = 0;
  for (const auto& span : b.trace)
    if (b.trace_ops[static_cast<std::size_t>(span.op)].name == std::string_view("dp_all_gather_params")) {
      ++gathers;
      CHECK(span.stream == model::Stream::dp_comm);
      CHECK(span.end_s <= end + 1e-9);
    }
  CHECK(gathers == 6);
}

TEST_CASE("without overlap_grad_reduce each chunk reduces once, after the stage's last backward", "[step][overlap]") {
  // Two stages of two virtual chunks each (interleaved): every stage issues exactly two
  // reduce-scatters, both after its last backward compute, chunk after chunk.
  std::vector<model::Override> o;
  for (const char* t : {"cluster.num_gpus=16", "plan.tp=1", "plan.pp=2", "plan.dp=8", "plan.virtual_stages=2",
                        "plan.schedule=interleaved", "plan.global_batch=32", "plan.dp_sharding=zero1", "model.layers=4",
                        "plan.overlap_grad_reduce=false"})
    o.push_back(parse_override(t));
  const auto s = model::load_scenario("llama3-8b", o);
  CHECK_FALSE(s.plan.overlap_param_gather);
  sim::StepOptions opt;
  opt.trace = true;
  const auto r = sim::simulate_step(s, opt);
  for (int stage = 0; stage < 2; ++stage) {
    double last_backward = 0;
    std::vector<std::pair<double, double>> reductions;
    for (const auto& span : r.trace) {
      if (span.rank != stage) continue;
      const auto& op = r.trace_ops[static_cast<std::size_t>(span.op)];
      if (span.stream == model::Stream::compute && span.backward) last_backward = std::max(last_backward, span.end_s);
      if (op.name == std::string_view("dp_reduce_scatter_grads")) reductions.emplace_back(span.start_s, span.end_s);
    }
    INFO("stage " << stage);
    REQUIRE(reductions.size() == 2);
    std::sort(reductions.begin(), reductions.end());
    CHECK(reductions[0].first >= last_backward);
    CHECK(reductions[1].first >= reductions[0].second);
  }
}

TEST_CASE("FSDP2 under the PyTorch stacks copies parameters out of each all-gather and gradients into each reduce-scatter",
          "[step][stack]") {
  // torch/distributed/fsdp/_fully_shard/_fsdp_collectives.py: after a part's all-gather,
  // split_with_sizes_copy reads and writes every BF16 parameter (4 P bytes); before its
  // reduce-scatter, chunk_cat reads the BF16 gradients and writes them in the reduce dtype
  // ((2 + grad_bytes) P bytes). P: the part's parameters on this GPU.
  auto scenario = [](const char* stack) {
    std::vector<model::Override> o;
    for (const char* t : {"cluster.num_gpus=8", "plan.tp=1", "plan.pp=1", "plan.dp=8", "plan.global_batch=8",
                          "plan.dp_sharding=zero3", "model.layers=4"})
      o.push_back(parse_override(t));
    o.push_back(parse_override(std::string("plan.stack=") + stack));
    return model::load_scenario("llama3-8b", o);
  };
  const auto eager = scenario("pytorch_eager");
  const model::ComputeCostModel cost(eager.cluster.gpu);
  const auto plan = sim::lower_step(eager, cost);
  const auto params = model::shard_parameters(eager.model, eager.plan);
  REQUIRE(eager.plan.grad_bytes == 4);
  auto copies = [](const sim::WorkProgram& w, std::string_view name) {
    std::vector<std::pair<double, int>> out;  // bytes, layer
    for (const auto& op : w.ops)
      if (op.op && op.op->name == name) {
        CHECK(op.kind == sim::StepOpKind::compute);
        out.emplace_back(op.op->bytes, op.layer);
      }
    return out;
  };
  const auto& st = plan.stages.front();
  // Forward: one copy-out per part (embedding, 4 layers, output), each after its gather.
  const auto fwd = copies(st.forward.front(), "fsdp_all_gather_copy_out");
  REQUIRE(fwd.size() == 6);
  CHECK(fwd[0].first == Approx(4 * params.embedding));
  for (int l = 0; l < 4; ++l) {
    CHECK(fwd[static_cast<std::size_t>(l + 1)].first == Approx(4 * params.layer));
    CHECK(fwd[static_cast<std::size_t>(l + 1)].second == l);
  }
  CHECK(fwd[5].first == Approx(4 * params.output));
  // Backward with gradient sync: a copy-out per part and a copy-in before each reduce-scatter.
  const auto& bwd = st.backward_sync.front();
  CHECK(copies(bwd, "fsdp_all_gather_copy_out").size() == 6);
  const auto in = copies(bwd, "fsdp_reduce_scatter_copy_in");
  REQUIRE(in.size() == 6);
  CHECK(in[1].first == Approx((2 + 4) * params.layer));
  for (std::size_t i = 0; i < bwd.ops.size(); ++i)
    if (bwd.ops[i].op && bwd.ops[i].op->name == std::string_view("dp_reduce_scatter_grads"))
      CHECK(bwd.ops[static_cast<std::size_t>(bwd.ops[i].dep)].op->name == std::string_view("fsdp_reduce_scatter_copy_in"));
  CHECK(copies(st.backward.front(), "fsdp_reduce_scatter_copy_in").empty());  // no sync, no copy-in
  // Megatron-LM's ZeRO-3-like sharding gathers into and reduces from its own buffers: no copies.
  const auto meg = scenario("megatron");
  const auto mplan = sim::lower_step(meg, model::ComputeCostModel(meg.cluster.gpu));
  CHECK(copies(mplan.stages.front().forward.front(), "fsdp_all_gather_copy_out").empty());
  CHECK(copies(mplan.stages.front().backward_sync.front(), "fsdp_reduce_scatter_copy_in").empty());
}
