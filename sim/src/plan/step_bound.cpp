#include "herd/sim/plan/step_bound.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "herd/engine/check.hpp"
#include "herd/model/memory.hpp"
#include "herd/model/pipeline.hpp"
#include "herd/model/workload.hpp"
#include "herd/sim/step/comm_plan.hpp"
#include "herd/sim/step/step_program.hpp"

namespace herd::sim::plan {

StepBound::StepBound(const model::TransformerSpec& m, const model::ClusterSpec& cluster,
                     const model::CalibrationProfile* profile)
    : model_(m),
      gpus_per_node_(cluster.gpus_per_node),
      nic_bandwidth_(cluster.nic_bandwidth),
      peak_flops_(cluster.gpu.peak_bf16_flops),
      hbm_bandwidth_(cluster.gpu.hbm_bandwidth),
      cost_(cluster.gpu, profile) {}

double StepBound::dp_seconds_per_byte(const model::PlanSpec& p) const {
  const int n = p.gradient_group();
  if (n <= 1 || !(nic_bandwidth_ > 0)) return 0;
  // Members of rank 0's DP x CP group in its node: ranks whose coordinates differ only in dp and cp.
  long long stride = 1, dp_stride = 1, cp_stride = 1;
  for (auto a : p.rank_order) {
    if (a == model::Axis::dp) dp_stride = stride;
    if (a == model::Axis::cp) cp_stride = stride;
    stride *= p.degree(a);
  }
  int local = 0;
  for (long long d = 0; d < p.dp; ++d)
    for (long long c = 0; c < p.cp; ++c)
      if (d * dp_stride + c * cp_stride < gpus_per_node_) ++local;
  // Node boundaries fall on rank 0's pattern only when every stride and the node size are powers
  // of two; otherwise take the most members a node could hold.
  const auto pow2 = [](long long v) { return v > 0 && (v & (v - 1)) == 0; };
  if (!pow2(gpus_per_node_) || !pow2(dp_stride) || !pow2(cp_stride) || !pow2(p.dp) || !pow2(p.cp))
    local = std::min(n, gpus_per_node_);
  if (local >= n) return 0;
  return double(n - local) / n / (local * nic_bandwidth_);
}

namespace {

// Seconds of the ops that run on the compute stream (what the executor runs one after another);
// `compute_bound`: only those the roofline calls compute-bound (as sim::step_power classifies them).
struct Roofline {
  double peak_flops = 0, hbm_bandwidth = 0;
  bool compute_bound(const model::Op& op) const {
    return op.flops > 0 && op.flops / std::max(peak_flops, 1.0) >= op.bytes / std::max(hbm_bandwidth, 1.0);
  }
};

double compute_seconds(const std::vector<model::Op>& ops, const model::ComputeCostModel& cost, bool skip_weight_grads,
                       const Roofline* compute_bound = nullptr) {
  double t = 0;
  for (const auto& op : ops) {
    if (op.stream != model::Stream::compute || op.kind == model::OpKind::collective) continue;
    if (skip_weight_grads && op.weight_gradient) continue;
    if (compute_bound && !compute_bound->compute_bound(op)) continue;
    t += cost.op_seconds(op);
  }
  return t;
}

}  // namespace

const StepBound::LayerTimes& StepBound::layer_times(const model::PlanSpec& p) const {
  const Key key{p.tp, p.cp, p.micro_batch, static_cast<int>(p.recompute), p.sequence_parallel, p.tp_comm_overlap,
                static_cast<int>(p.cp_algorithm), p.flash_attention, static_cast<int>(p.precision), static_cast<int>(p.stack),
                static_cast<int>(p.attention_kernel), model_.seq_len};
  {
    const std::lock_guard lock(mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) return *it->second;
  }
  auto times = std::make_unique<LayerTimes>();
  const Roofline roofline{peak_flops_, hbm_bandwidth_};
  const auto pass = [&](const model::LayerProgram& prog) {
    return PassTimes{compute_seconds(prog.forward, cost_, false), compute_seconds(prog.backward, cost_, false),
                     compute_seconds(prog.backward, cost_, true),
                     compute_seconds(prog.forward, cost_, false, &roofline),
                     compute_seconds(prog.backward, cost_, false, &roofline)};
  };
  times->layer = pass(model::layer_program(model_, p, model_.seq_len));
  times->embedding = pass(model::embedding_program(model_, p, model_.seq_len));
  times->output = pass(model::output_program(model_, p, model_.seq_len));
  const std::lock_guard lock(mutex_);
  return *cache_.try_emplace(key, std::move(times)).first->second;
}

struct StepBound::Stages {
  std::vector<double> work, optimizer, first_forward, min_backward, dp_stream;
  std::vector<double> compute_bound;  // of work: the compute-bound kernels' seconds
  double chain = 0;  // one micro-batch forward through every chunk and back
};

StepBound::Stages StepBound::stages(const model::PlanSpec& p) const {
  const LayerTimes& t = layer_times(p);
  const auto chunks = model::layout_chunks(model_, p);
  const auto params = model::shard_parameters(model_, p);
  const double M = double(p.microbatches());
  const bool zero_bubble = p.schedule == model::Schedule::zero_bubble;
  Stages st;
  const auto n = static_cast<std::size_t>(p.pp);
  st.work.assign(n, 0.0);
  st.compute_bound.assign(n, 0.0);
  st.optimizer.assign(n, 0.0);
  st.first_forward.assign(n, 0.0);
  st.min_backward.assign(n, std::numeric_limits<double>::infinity());
  std::vector<double> stage_params(n, 0.0);
  st.dp_stream.assign(n, 0.0);
  // Data-parallel bytes per chunk and step, as the lowering issues them (step_program.cpp).
  const double dp_s_per_byte = dp_seconds_per_byte(p);
  const bool shards = p.gradient_group() > 1;
  // Reductions per chunk and step: the micro-batches that end a sync period, and the last one.
  const double syncs = std::ceil(M / gradient_sync_period(p, static_cast<int>(M)));
  for (const auto& c : chunks) {
    const auto r = static_cast<std::size_t>(c.rank);
    const double L = c.layers, e = c.embedding ? 1 : 0, o = c.output ? 1 : 0;
    const double fwd = L * t.layer.forward + e * t.embedding.forward + o * t.output.forward;
    const double bwd = L * t.layer.backward + e * t.embedding.backward + o * t.output.backward;
    const double bwd_in = L * t.layer.backward_input + e * t.embedding.backward_input + o * t.output.backward_input;
    st.work[r] += M * (fwd + bwd);
    st.compute_bound[r] += M * (L * (t.layer.forward_compute_bound + t.layer.backward_compute_bound) +
                                e * (t.embedding.forward_compute_bound + t.embedding.backward_compute_bound) +
                                o * (t.output.forward_compute_bound + t.output.backward_compute_bound));
    if (c.virtual_index == 0) st.first_forward[r] = fwd;
    st.min_backward[r] = std::min(st.min_backward[r], zero_bubble ? bwd_in : bwd);
    st.chain += fwd + (zero_bubble ? bwd_in : bwd);
    const double chunk_params = L * params.layer + (c.embedding ? params.embedding : 0) + (c.output ? params.output : 0);
    stage_params[r] += chunk_params;
    if (shards) {
      double bytes = syncs * p.grad_bytes * chunk_params;                                   // gradient reductions
      if (p.dp_sharding == model::DpSharding::fsdp) bytes += 2.0 * chunk_params;            // gathered once a step
      if (p.shards_parameters()) bytes += 2.0 * M * 2.0 * chunk_params;                     // forward and backward gathers
      st.dp_stream[r] += bytes * dp_s_per_byte;
    }
  }
  if (shards && p.dp_sharding == model::DpSharding::zero1)
    for (std::size_t r = 0; r < n; ++r) st.dp_stream[r] += 2.0 * stage_params[r] * dp_s_per_byte;
  for (std::size_t r = 0; r < n; ++r) {
    const double local = p.shards_optimizer() ? stage_params[r] / p.gradient_group() : stage_params[r];
    const model::Op optimizer = model::optimizer_op(local, p.optimizer_bytes);
    st.optimizer[r] = cost_.op_seconds(optimizer);
    st.work[r] += st.optimizer[r];
    if (Roofline{peak_flops_, hbm_bandwidth_}.compute_bound(optimizer)) st.compute_bound[r] += st.optimizer[r];
  }
  return st;
}

double StepBound::lower_bound_s(const model::PlanSpec& p) const {
  const Stages st = stages(p);
  const bool zero_bubble = p.schedule == model::Schedule::zero_bubble;
  double best = st.chain, head = 0, tail = 0;
  for (std::size_t s = 0; s < st.work.size(); ++s) {
    best = std::max({best, head + st.work[s], st.dp_stream[s]});
    if (!zero_bubble) best = std::max(best, head + st.work[s] - st.optimizer[s] + tail);
    head += st.first_forward[s];
    tail += st.min_backward[s];
  }
  return best;
}

double StepBound::busiest_rank_work_s(const model::PlanSpec& p) const {
  const Stages st = stages(p);
  return *std::max_element(st.work.begin(), st.work.end());
}

StepBound::KernelSeconds StepBound::kernel_seconds(const model::PlanSpec& p) const {
  const Stages st = stages(p);
  KernelSeconds k;
  for (std::size_t r = 0; r < st.work.size(); ++r) {
    k.compute_bound += st.compute_bound[r];
    k.memory_bound += std::max(0.0, st.work[r] - st.compute_bound[r]);
  }
  return k;
}

double replay_lower_bound_s(const model::Scenario& s, const StepSimulator& simulator, const model::ComputeCostModel& cost) {
  const StepPlan plan = lower_step(s, cost);
  const auto comm = simulator.prepare_symmetric(s, plan);
  const Fabric& fabric = *simulator.fabric(s.cluster);
  // Least seconds of one network operation of `bytes`.
  const auto least = [&](int net, double bytes) {
    const CommPlan::Entry& e = comm->entry(net, 0);
    if (e.op->inside_node) return e.op->seconds;
    const auto n = static_cast<std::size_t>(e.network);
    double per_byte = 1.0 / comm->network->rate_bound[n];
    for (const auto& [resource, weight] : comm->network->uses[n])
      per_byte = std::max(per_byte, weight / fabric.slot_capacity(comm->network->resources[resource]));
    return e.op->latency_s + bytes * per_byte;
  };
  // Each op's least duration, once per program (a stage runs a few programs many times).
  std::unordered_map<const WorkProgram*, std::vector<double>> least_of;
  const auto durations = [&](const WorkProgram& w) -> const std::vector<double>& {
    auto [it, added] = least_of.try_emplace(&w);
    if (added) {
      it->second.resize(w.ops.size(), 0.0);
      for (std::size_t x = 0; x < w.ops.size(); ++x) {
        const StepOp& op = w.ops[x];
        if (op.kind == StepOpKind::compute) it->second[x] = op.seconds;
        else if ((op.kind == StepOpKind::collective || op.kind == StepOpKind::send) && op.net >= 0)
          it->second[x] = least(op.net, op.bytes);
      }
    }
    return it->second;
  };
  // Every stage replayed as the executor runs it, at those durations: the driver issues the ops of
  // its work in order, a compute op when the one before has ended, a receive once the send has
  // arrived; an op starts when it is issued, its stream is free and its dependencies have ended.
  // When each transfer (sending chunk, direction, micro-batch: each is sent once) has arrived; < 0: not yet.
  const auto microbatches = static_cast<std::size_t>(plan.stages.front().microbatches);
  std::vector<double> arrived(plan.chunks.size() * 2 * microbatches, -1.0);
  const auto transfer = [microbatches](int chunk, const model::ScheduledWork& work) {
    return (static_cast<std::size_t>(chunk) * 2 + (work.work != model::Work::forward ? 1 : 0)) * microbatches +
           static_cast<std::size_t>(work.microbatch);
  };
  struct Replay {
    std::size_t inst = 0;  // 0: step_start, 1..W: the work in order, W + 1: step_end
    std::size_t op = 0;
    std::int64_t run_last = -1;  // the last op of the compute run the driver started last
    double driver = 0;
    std::array<double, model::kStreams> ready{};
    std::vector<double> end;        // the current program's op ends
    std::vector<double> start_end;  // step_start's op ends
    bool finished = false;
  };
  const std::size_t stages = plan.stages.size();
  std::vector<Replay> replay(stages);
  double step = 0;
  // Runs stage i until it waits for a transfer not yet sent; false when it could not move.
  const auto advance = [&](std::size_t i) {
    const StageProgram& st = plan.stages[i];
    Replay& r = replay[i];
    bool moved = false;
    while (r.inst < st.order.size() + 2) {
      const bool start = r.inst == 0, last = r.inst == st.order.size() + 1;
      const WorkProgram& w = start ? st.step_start : last ? st.step_end : st.program(st.order[r.inst - 1]);
      const model::ScheduledWork* work = start || last ? nullptr : &st.order[r.inst - 1];
      const std::vector<double>& d = durations(w);
      if (r.op == 0) {
        r.end.assign(w.ops.size(), 0.0);
        r.run_last = -1;
      }
      for (; r.op < w.ops.size(); ++r.op) {
        const StepOp& op = w.ops[r.op];
        const auto dep = [&](int x) { return x < 0 ? 0.0 : r.end[static_cast<std::size_t>(x)]; };
        double& ready = r.ready[static_cast<std::size_t>(model::index_of(op.stream))];
        double e = r.driver;
        switch (op.kind) {
          case StepOpKind::compute:
            e = std::max({r.driver, ready, dep(op.dep), dep(op.dep2)});
            // The driver starts a run of compute ops as one activity and goes on past the run.
            if (static_cast<std::int64_t>(r.op) > r.run_last) {
              r.run_last = w.run_end[r.op];
              r.driver = e;
            }
            e += d[r.op];
            ready = e;
            break;
          case StepOpKind::collective:
          case StepOpKind::send:
            e = std::max({r.driver, ready, dep(op.dep), dep(op.dep2)}) + d[r.op];
            ready = e;
            if (op.kind == StepOpKind::send) {
              const int chunk = st.chunk_index[static_cast<std::size_t>(work->virtual_index)];
              arrived[transfer(chunk, *work)] = e;
            }
            break;
          case StepOpKind::recv: {
            const double at = arrived[transfer(op.peer_chunk, *work)];
            if (at < 0) return moved;
            e = r.driver = std::max(r.driver, at);
            break;
          }
          case StepOpKind::wait_send: e = r.driver = std::max(r.driver, dep(op.dep)); break;
          case StepOpKind::wait_start:
            e = r.driver = std::max(r.driver, op.dep < 0 ? 0.0 : r.start_end[static_cast<std::size_t>(op.dep)]);
            break;
          case StepOpKind::drain:
            for (const double t : r.ready) r.driver = std::max(r.driver, t);
            e = r.driver;
            break;
        }
        r.end[r.op] = e;
        moved = true;
      }
      if (start) r.start_end = r.end;
      ++r.inst;
      r.op = 0;
    }
    double finish = r.driver;
    for (const double t : r.ready) finish = std::max(finish, t);
    step = std::max(step, finish);
    r.finished = true;
    return true;
  };
  std::size_t left = stages;
  while (left > 0) {
    bool moved = false;
    for (std::size_t i = 0; i < stages; ++i) {
      if (replay[i].finished) continue;
      moved = advance(i) || moved;
      left -= replay[i].finished;
    }
    if (!moved)
      engine::invariant_failure("plan: replaying the step for its bound, " + std::to_string(left) +
                                " stages wait for transfers never sent");
  }
  return step;
}

}  // namespace herd::sim::plan
