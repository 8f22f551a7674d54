#include "herd/sim/step/step_program.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "herd/model/memory.hpp"

namespace herd::sim {

using model::Collective;
using model::Op;
using model::Stream;

int group_size(const model::PlanSpec& p, CommGroup g) {
  switch (g) {
    case CommGroup::tp: return p.tp;
    case CommGroup::cp: return p.cp;
    case CommGroup::pp: return p.pp;
    case CommGroup::dp: return p.dp;
    case CommGroup::dp_cp: return p.gradient_group();
  }
  return 1;
}

namespace {

// Op templates shared by every program (owned by the StepPlan), with their uncontended durations.
struct Template {
  const std::vector<Op>* ops = nullptr;
  std::vector<double> seconds;
};

Template costed(std::vector<Op> ops, const model::ComputeCostModel& cost, StepPlan& plan) {
  plan.op_tables.push_back(std::make_unique<std::vector<Op>>(std::move(ops)));
  Template t;
  t.ops = plan.op_tables.back().get();
  for (const auto& op : *t.ops) t.seconds.push_back(cost.op_seconds(op));
  return t;
}

// One piece of a chunk's work: a template and the parameters it touches.
struct Part {
  const Template* t;
  double parameters;
  int layer = -1;  // model layer, -1 for the embedding and the output
};

struct Lowering {
  const model::Scenario& s;
  const model::ComputeCostModel& cost;
  StepPlan& plan;
  model::ShardParameters params;
  Template layer_fwd{}, layer_bwd{}, emb_fwd{}, emb_bwd{}, out_fwd{}, out_bwd{};
  // Zero-bubble: backward without weight gradients (B) and weight gradients only (W).
  Template layer_b{}, layer_w{}, emb_b{}, emb_w{}, out_b{}, out_w{};
  int shards = 1;  // DP x CP

  // A descriptor for ops the lowering adds (pipeline, data-parallel, optimizer).
  const Op* describe(std::string_view name, model::OpKind kind, double bytes = 0, Collective c = Collective::send_recv) {
    auto op = std::make_unique<Op>();
    op->name = name;
    op->kind = kind;
    op->comm_bytes = bytes;
    op->collective = c;
    plan.op_storage.push_back(std::move(op));
    return plan.op_storage.back().get();
  }

  static void append(WorkProgram& w, const Template& t, int layer = -1) {
    const int base = static_cast<int>(w.ops.size());
    for (std::size_t i = 0; i < t.ops->size(); ++i) {
      const Op& op = (*t.ops)[i];
      StepOp so;
      so.op = &op;
      so.stream = op.stream;
      so.dep = op.after > 0 ? std::max(-1, base + static_cast<int>(i) - op.after) : -1;
      so.layer = layer;
      if (op.kind == model::OpKind::collective) {
        so.kind = StepOpKind::collective;
        so.group = op.group == model::Axis::cp ? CommGroup::cp : CommGroup::tp;
        so.bytes = op.comm_bytes;
      } else {
        so.seconds = t.seconds[i];
      }
      w.model_flops += op.model_flops;
      w.hardware_flops += op.flops;
      w.ops.push_back(so);
    }
  }

  void collective(WorkProgram& w, const Op* d, CommGroup g, double bytes, int dep) {
    StepOp so;
    so.op = d;
    so.kind = StepOpKind::collective;
    so.stream = Stream::dp_comm;
    so.group = g;
    so.bytes = bytes;
    so.dep = dep;
    w.ops.push_back(so);
  }
  int last(const WorkProgram& w) const { return static_cast<int>(w.ops.size()) - 1; }
  static int last_compute(const WorkProgram& w) {
    for (int i = static_cast<int>(w.ops.size()) - 1; i >= 0; --i)
      if (w.ops[static_cast<std::size_t>(i)].kind == StepOpKind::compute) return i;
    return -1;
  }

  bool sharded_params() const { return s.plan.shards_parameters() && shards > 1; }
  // PyTorch's FSDP2 (fully_shard: ZeRO-3 under the PyTorch stacks) copies on the compute stream
  // around its collectives (torch/distributed/fsdp/_fully_shard/_fsdp_collectives.py at commit
  // 010ae4a89516fa3be548ab16dff711414ec12d0b): after each all-gather, foreach_all_gather_copy_out
  // splits the gathered buffer into the unsharded parameters (split_with_sizes_copy: every BF16
  // element read and written, 4 B); before each reduce-scatter, foreach_reduce_scatter_copy_in
  // chunk-cats the unsharded gradients into the reduce-scatter input, cast to the reduce dtype
  // (BF16 read, grad_bytes written). Megatron-LM's buffers are the collectives' own memory.
  bool fsdp2_copies() const { return sharded_params() && s.plan.pytorch(); }

  // An element-wise op the lowering adds, costed like the layers' own.
  void copy(WorkProgram& w, std::string_view name, double bytes, model::Pass pass, int layer) {
    auto op = std::make_unique<Op>();
    op->name = name;
    op->kind = model::OpKind::elementwise;
    op->pass = pass;
    op->bytes = bytes;
    StepOp so;
    so.op = op.get();
    so.seconds = cost.op_seconds(*op);
    so.dep = last(w);
    so.layer = layer;
    plan.op_storage.push_back(std::move(op));
    w.ops.push_back(so);
  }

  // Gradient reduction of `parameters` after the backward just appended.
  void reduce_gradients(WorkProgram& w, double parameters) {
    if (shards == 1 || parameters <= 0) return;
    const double bytes = s.plan.grad_bytes * parameters;
    if (s.plan.dp_sharding == model::DpSharding::none)
      collective(w, describe("dp_all_reduce_grads", model::OpKind::collective, bytes, Collective::all_reduce),
                 CommGroup::dp_cp, bytes, last(w));
    else
      collective(w, describe("dp_reduce_scatter_grads", model::OpKind::collective, bytes, Collective::reduce_scatter),
                 CommGroup::dp_cp, bytes, last(w));
  }

  // Appends the parts in order. ZeRO-3 gathers each part's parameters one part ahead (issued
  // before the previous part runs, so the gather overlaps it); the part's first op waits for it.
  // `waits`, when given, names for each part an op of the step's start that the part waits for
  // (-1: none): ZeRO-1's overlapped parameter all-gather.
  void emit(WorkProgram& w, const std::vector<Part>& parts, bool gather, bool reduce,
            const std::vector<int>* waits = nullptr, model::Pass pass = model::Pass::forward) {
    int next_gather = -1;
    int part_end = -1;  // last op of the previous part (before any gather or reduction after it)
    for (std::size_t i = 0; i < parts.size(); ++i) {
      int gathered = next_gather;
      if (gather && i == 0) gathered = gather_params(w, parts[i].parameters);
      if (gather && i + 1 < parts.size()) next_gather = gather_params(w, parts[i + 1].parameters);
      if (waits && (*waits)[i] >= 0) wait_start(w, (*waits)[i], parts[i].layer);
      const int first = static_cast<int>(w.ops.size());
      if (gathered >= 0 && fsdp2_copies() && parts[i].parameters > 0)
        copy(w, "fsdp_all_gather_copy_out", 4.0 * parts[i].parameters, pass, parts[i].layer);
      append(w, *parts[i].t, parts[i].layer);
      if (first == static_cast<int>(w.ops.size())) continue;
      StepOp& head = w.ops[static_cast<std::size_t>(first)];
      // The part's first op follows the previous part, not the data-parallel op placed between them.
      if (part_end >= 0 && head.dep == first - 1 && first - 1 != part_end) head.dep = part_end;
      if (gathered >= 0) first_compute(w, first).dep2 = gathered;
      if (reduce && fsdp2_copies() && parts[i].parameters > 0)
        copy(w, "fsdp_reduce_scatter_copy_in", (2.0 + s.plan.grad_bytes) * parts[i].parameters, model::Pass::backward,
             parts[i].layer);
      part_end = last(w);
      if (reduce) reduce_gradients(w, parts[i].parameters);
    }
  }

  static StepOp& first_compute(WorkProgram& w, int from) {
    for (std::size_t i = static_cast<std::size_t>(from); i < w.ops.size(); ++i)
      if (w.ops[i].kind == StepOpKind::compute) return w.ops[i];
    return w.ops[static_cast<std::size_t>(from)];
  }

  int gather_params(WorkProgram& w, double parameters) {
    const double bytes = 2.0 * parameters;
    collective(w, describe("dp_all_gather_params", model::OpKind::collective, bytes, Collective::all_gather),
               CommGroup::dp_cp, bytes, -1);
    return last(w);
  }

  void recv(WorkProgram& w, int peer) {
    StepOp so;
    so.op = describe("pp_recv", model::OpKind::collective);
    so.kind = StepOpKind::recv;
    so.stream = Stream::pp_comm;
    so.peer_chunk = peer;
    w.ops.push_back(so);
  }
  void send(WorkProgram& w, int peer) {
    StepOp so;
    so.op = describe("pp_send", model::OpKind::collective, plan.activation_bytes);
    so.kind = StepOpKind::send;
    so.stream = Stream::pp_comm;
    so.peer_chunk = peer;
    so.bytes = plan.activation_bytes;
    so.dep = last_compute(w);  // the activation (or its gradient), not the gradient reduction after it
    w.ops.push_back(so);
    if (s.plan.pp_blocking_send) {
      StepOp wait;
      wait.op = describe("pp_send_wait", model::OpKind::collective);
      wait.kind = StepOpKind::wait_send;
      wait.dep = last(w);
      w.ops.push_back(wait);
    }
  }

  // Waits until op `start_op` of the step's start has finished (parameters gathered there).
  void wait_start(WorkProgram& w, int start_op, int layer = -1) {
    StepOp wait;
    wait.op = describe("wait_parameters", model::OpKind::collective);
    wait.kind = StepOpKind::wait_start;
    wait.dep = start_op;
    wait.layer = layer;
    w.ops.push_back(wait);
  }

  // The parts of a chunk's forward, in order.
  std::vector<Part> forward_parts(const model::Chunk& c) const {
    std::vector<Part> parts;
    if (c.embedding) parts.push_back({&emb_fwd, params.embedding});
    for (int l = 0; l < c.layers; ++l) parts.push_back({&layer_fwd, params.layer, c.first_layer + l});
    if (c.output) parts.push_back({&out_fwd, params.output});
    return parts;
  }

  // `start_gather`: the op of the step's start gathering the whole chunk (FSDP), or -1;
  // `part_gathers`: per part, the op gathering that part's parameters (ZeRO-1 overlapped), or empty.
  WorkProgram forward(const model::Chunk& c, int start_gather, const std::vector<int>& part_gathers) {
    WorkProgram w;
    const int chunks = static_cast<int>(plan.chunks.size());
    if (c.index > 0) recv(w, c.index - 1);
    if (start_gather >= 0) wait_start(w, start_gather);
    emit(w, forward_parts(c), sharded_params(), false, part_gathers.empty() ? nullptr : &part_gathers);
    if (c.index + 1 < chunks) send(w, c.index + 1);
    return w;
  }

  enum class Half { both, input, weight };

  // Backward of a chunk (last layer first). `sync` reduces gradients after each part; `half` picks
  // the zero-bubble split: input gradients (B) or weight gradients (W) alone.
  WorkProgram backward(const model::Chunk& c, bool sync, Half half) {
    WorkProgram w;
    const int chunks = static_cast<int>(plan.chunks.size());
    const bool input = half != Half::weight;
    if (input && c.index + 1 < chunks) recv(w, c.index + 1);
    auto pick = [&](const Template& full, const Template& b, const Template& wg) {
      return half == Half::both ? &full : half == Half::input ? &b : &wg;
    };
    std::vector<Part> parts;
    if (c.output) parts.push_back({pick(out_bwd, out_b, out_w), params.output});
    for (int l = c.layers - 1; l >= 0; --l) parts.push_back({pick(layer_bwd, layer_b, layer_w), params.layer, c.first_layer + l});
    if (c.embedding) parts.push_back({pick(emb_bwd, emb_b, emb_w), params.embedding});
    emit(w, parts, sharded_params() && input, sync && half != Half::input, nullptr, model::Pass::backward);
    if (input && c.index > 0) send(w, c.index - 1);
    return w;
  }

  // The ops of a backward template that are (or are not) weight-gradient GEMMs, chained in order.
  Template split(const Template& t, bool wgrad) {
    std::vector<Op> ops;
    for (const auto& op : *t.ops) {
      if (op.weight_gradient != wgrad) continue;
      ops.push_back(op);
      ops.back().after = 1;
    }
    return costed(std::move(ops), cost, plan);
  }
};

// Marks runs of compute ops that can execute as one activity (fewer events; same times).
void find_runs(WorkProgram& w) {
  const int n = static_cast<int>(w.ops.size());
  std::vector<int> waited_by(static_cast<std::size_t>(n), 0);
  for (int i = 0; i < n; ++i) {
    const StepOp& op = w.ops[static_cast<std::size_t>(i)];
    if (op.dep >= 0 && op.kind != StepOpKind::wait_start && op.dep != i - 1) ++waited_by[static_cast<std::size_t>(op.dep)];
    if (op.dep >= 0 && op.kind != StepOpKind::wait_start && op.dep == i - 1 && op.kind != StepOpKind::compute)
      ++waited_by[static_cast<std::size_t>(op.dep)];
    if (op.dep2 >= 0) ++waited_by[static_cast<std::size_t>(op.dep2)];
  }
  w.run_end.assign(static_cast<std::size_t>(n), 0);
  for (int i = n - 1; i >= 0; --i) {
    w.run_end[static_cast<std::size_t>(i)] = i;
    const StepOp& op = w.ops[static_cast<std::size_t>(i)];
    if (op.kind != StepOpKind::compute || i + 1 >= n || waited_by[static_cast<std::size_t>(i)] > 0) continue;
    const StepOp& next = w.ops[static_cast<std::size_t>(i + 1)];
    if (next.kind == StepOpKind::compute && (next.dep == i || next.dep < 0) && next.dep2 < 0 && next.op->pass == op.op->pass)
      w.run_end[static_cast<std::size_t>(i)] = w.run_end[static_cast<std::size_t>(i + 1)];
  }
}

// Numbers the step's network operations: each distinct collective of a stage (kind, op, size) and
// each stage-to-stage transfer gets one entry of plan.net_ops, which every StepOp issuing it names.
void index_network_ops(const model::PlanSpec& p, StepPlan& plan) {
  std::map<std::tuple<bool, int, int, int, int, double>, int> index;
  for (auto& st : plan.stages) {
    auto visit = [&](WorkProgram& w) {
      for (auto& op : w.ops) {
        NetOp net;
        if (op.kind == StepOpKind::collective && group_size(p, op.group) > 1) {
          net.group = op.group;
          net.op = op.op->collective;
        } else if (op.kind == StepOpKind::send) {
          net.transfer = true;
          net.to_stage = plan.chunks[static_cast<std::size_t>(op.peer_chunk)].rank;
        } else {
          continue;
        }
        net.stage = st.stage;
        net.bytes = op.bytes;
        const auto key = std::tuple{net.transfer, static_cast<int>(net.group), static_cast<int>(net.op), net.stage,
                                    net.to_stage, net.bytes};
        const auto [it, added] = index.emplace(key, static_cast<int>(plan.net_ops.size()));
        if (added) plan.net_ops.push_back(net);
        op.net = it->second;
      }
    };
    for (auto* programs : {&st.forward, &st.backward, &st.backward_sync, &st.weight_grad})
      for (auto& w : *programs) visit(w);
    visit(st.step_start);
    visit(st.step_end);
  }
}

}  // namespace

int gradient_sync_period(const model::PlanSpec& p, int microbatches) {
  // Per round: a chunk's round of consecutive backwards.
  int round = microbatches;
  if (p.schedule == model::Schedule::llama3) round = std::min(microbatches, p.round_size);
  if (p.schedule == model::Schedule::interleaved) round = std::min(microbatches, p.pp);
  const int period = p.grad_sync == model::GradSync::per_microbatch ? 1
                     : p.grad_sync == model::GradSync::per_round  ? round
                                                                  : microbatches;
  return std::max(1, period);
}

StepPlan lower_step(const model::Scenario& s, const model::ComputeCostModel& cost) {
  StepPlan plan;
  const auto& m = s.model;
  const auto& p = s.plan;
  const std::int64_t seq = m.seq_len;
  plan.chunks = model::layout_chunks(m, p);
  const double T = double(model::local_tokens(p, seq));
  const bool sp = p.sequence_parallel && p.tp > 1;
  plan.activation_bytes = 2.0 * (sp ? T / p.tp : T) * double(m.hidden);
  plan.tokens_per_step = double(p.global_batch) * double(seq);
  plan.model_flops_per_step = model::model_flops_per_token(m, seq) * plan.tokens_per_step;

  Lowering low{s, cost, plan, model::shard_parameters(m, p)};
  low.shards = p.gradient_group();
  const auto layer = model::layer_program(m, p, seq);
  const auto emb = model::embedding_program(m, p, seq);
  const auto out = model::output_program(m, p, seq);
  low.layer_fwd = costed(layer.forward, cost, plan);
  low.layer_bwd = costed(layer.backward, cost, plan);
  low.emb_fwd = costed(emb.forward, cost, plan);
  low.emb_bwd = costed(emb.backward, cost, plan);
  low.out_fwd = costed(out.forward, cost, plan);
  low.out_bwd = costed(out.backward, cost, plan);
  const bool zero_bubble = p.schedule == model::Schedule::zero_bubble;
  if (zero_bubble) {
    low.layer_b = low.split(low.layer_bwd, false);
    low.layer_w = low.split(low.layer_bwd, true);
    low.emb_b = low.split(low.emb_bwd, false);
    low.emb_w = low.split(low.emb_bwd, true);
    low.out_b = low.split(low.out_bwd, false);
    low.out_w = low.split(low.out_bwd, true);
  }
  const int microbatches = static_cast<int>(p.microbatches());
  const int sync_period = gradient_sync_period(p, microbatches);

  for (int r = 0; r < p.pp; ++r) {
    StageProgram st;
    st.stage = r;
    st.order = model::pipeline_order(p, r);
    st.sync_period = sync_period;
    st.microbatches = microbatches;
    st.chunk_index.assign(static_cast<std::size_t>(p.virtual_stages), -1);
    double stage_params = 0;
    std::vector<int> start_gather(static_cast<std::size_t>(p.virtual_stages), -1);
    std::vector<double> chunk_params_of(static_cast<std::size_t>(p.virtual_stages), 0.0);
    for (const auto& c : plan.chunks) {
      if (c.rank != r) continue;
      st.chunk_index[static_cast<std::size_t>(c.virtual_index)] = c.index;
      const double chunk_params = c.layers * low.params.layer + (c.embedding ? low.params.embedding : 0) +
                                  (c.output ? low.params.output : 0);
      stage_params += chunk_params;
      chunk_params_of[static_cast<std::size_t>(c.virtual_index)] = chunk_params;
      // FSDP as Llama 3 runs it: each chunk's parameters are gathered once, at the start of the
      // step, and kept until the optimizer step.
      if (p.dp_sharding == model::DpSharding::fsdp && low.shards > 1) {
        low.collective(st.step_start,
                       low.describe("dp_all_gather_params", model::OpKind::collective, 2.0 * chunk_params, Collective::all_gather),
                       CommGroup::dp_cp, 2.0 * chunk_params, -1);
        start_gather[static_cast<std::size_t>(c.virtual_index)] = low.last(st.step_start);
      }
    }
    // ZeRO-1 with overlap_param_gather (Megatron-LM's distributed optimizer): the parameters the
    // last step updated are all-gathered part by part, in forward order, from the start of the
    // step; each part's forward waits for its own gather, so it hides behind the parts before it.
    // Megatron-LM (core_r0.9.0, param_and_grad_buffer.py finish_param_sync) dispatches bucket
    // i + 1 when the forward reaches bucket i; the gathers share one stream, so they still run
    // back to back. A part (layer, embedding, output) stands for a bucket.
    const bool zero1 = p.dp_sharding == model::DpSharding::zero1 && low.shards > 1;
    std::vector<std::vector<int>> part_gathers(static_cast<std::size_t>(p.virtual_stages));
    if (zero1 && p.overlap_param_gather)
      for (int v = 0; v < p.virtual_stages; ++v) {
        const model::Chunk& c = plan.chunks[static_cast<std::size_t>(st.chunk_index[static_cast<std::size_t>(v)])];
        for (const Part& part : low.forward_parts(c)) {
          auto& gathers = part_gathers[static_cast<std::size_t>(v)];
          if (part.parameters <= 0) {
            gathers.push_back(-1);
            continue;
          }
          const double bytes = 2.0 * part.parameters;
          low.collective(st.step_start,
                         low.describe("dp_all_gather_params", model::OpKind::collective, bytes, Collective::all_gather),
                         CommGroup::dp_cp, bytes, -1);
          st.step_start.ops.back().layer = part.layer;
          gathers.push_back(low.last(st.step_start));
        }
      }
    // Without overlap_grad_reduce no backward reduces: the step's end does (below).
    const bool reduce_in_backward = p.overlap_grad_reduce;
    for (int v = 0; v < p.virtual_stages; ++v) {
      const auto vi = static_cast<std::size_t>(v);
      const model::Chunk& c = plan.chunks[static_cast<std::size_t>(st.chunk_index[vi])];
      st.forward.push_back(low.forward(c, start_gather[vi], part_gathers[vi]));
      using Half = Lowering::Half;
      if (zero_bubble) {
        st.backward.push_back(low.backward(c, false, Half::input));
        st.weight_grad.push_back(low.backward(c, false, Half::weight));
        st.backward_sync.push_back(low.backward(c, reduce_in_backward, Half::weight));  // W work that also reduces
      } else {
        st.backward.push_back(low.backward(c, false, Half::both));
        st.backward_sync.push_back(low.backward(c, reduce_in_backward, Half::both));
      }
    }
    // End of step: every outstanding communication done; without overlap_grad_reduce, each chunk's
    // gradients reduced in one call (Megatron-LM then makes one bucket per chunk's buffer:
    // distributed_data_parallel.py, "Set bucket_size to infinity if overlap_grad_reduce is False";
    // finalize_model_grads reduces chunk after chunk); then the optimizer on the local shard, then
    // (ZeRO-1 without overlap_param_gather) the updated parameters gathered back, blocking.
    StepOp drain;
    drain.op = low.describe("wait_gradients", model::OpKind::collective);
    drain.kind = StepOpKind::drain;
    st.step_end.ops.push_back(drain);
    if (!reduce_in_backward)
      for (int v = 0; v < p.virtual_stages; ++v) low.reduce_gradients(st.step_end, chunk_params_of[static_cast<std::size_t>(v)]);
    const double local = p.shards_optimizer() ? stage_params / low.shards : stage_params;
    auto optimizer = std::make_unique<Op>(model::optimizer_op(local, p.optimizer_bytes));
    StepOp opt;
    opt.op = optimizer.get();
    opt.seconds = cost.op_seconds(*optimizer);
    opt.dep = low.last(st.step_end);  // the drain, or the last reduction
    plan.op_storage.push_back(std::move(optimizer));
    st.step_end.ops.push_back(opt);
    st.step_end.hardware_flops = opt.op->flops;
    if (zero1 && !p.overlap_param_gather)
      low.collective(st.step_end,
                     low.describe("dp_all_gather_params", model::OpKind::collective, 2.0 * stage_params, Collective::all_gather),
                     CommGroup::dp_cp, 2.0 * stage_params, low.last(st.step_end));
    plan.stages.push_back(std::move(st));
  }
  for (auto& st : plan.stages) {
    for (auto* programs : {&st.forward, &st.backward, &st.backward_sync, &st.weight_grad})
      for (auto& w : *programs) find_runs(w);
    find_runs(st.step_start);
    find_runs(st.step_end);
  }
  index_network_ops(p, plan);
  // Hardware FLOPs executed in the step, all GPUs.
  const double copies = double(p.tp) * p.cp * p.dp;
  for (const auto& st : plan.stages) {
    double per_gpu = st.step_end.hardware_flops;
    for (const auto& w : st.order) {
      const auto v = static_cast<std::size_t>(w.virtual_index);
      if (w.work == model::Work::forward) per_gpu += st.forward[v].hardware_flops;
      else if (w.work == model::Work::backward) per_gpu += st.backward[v].hardware_flops;
      else per_gpu += st.weight_grad[v].hardware_flops;
    }
    plan.hardware_flops_per_step += per_gpu * copies;
  }
  return plan;
}

}  // namespace herd::sim
