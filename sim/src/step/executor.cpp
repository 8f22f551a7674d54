// The step executor. Each simulated rank has a driver that walks its programs in issue order:
// compute ops run one at a time on the compute stream, communication ops are queued on their
// stream as soon as the driver passes them and start once their dependency is done (CUDA streams
// and events, with the host one kernel ahead). Collectives in per-rank mode start when every member
// has reached them. A compute op slows down while communication kernels hold SMs.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "executor.hpp"
#include "herd/engine/check.hpp"
#include "herd/model/pipeline.hpp"
#include "herd/sim/step/closed_form_comm.hpp"
#include "herd/sim/step/fabric_comm.hpp"
#include "step_layout.hpp"
#include "step_report.hpp"

namespace herd::sim::detail {

namespace {

int stream_slot(model::Stream s) {
  switch (s) {
    case model::Stream::tp_comm: return 0;
    case model::Stream::cp_comm: return 1;
    case model::Stream::pp_comm: return 2;
    case model::Stream::dp_comm: return 3;
    case model::Stream::compute: break;
  }
  return 3;
}

Wait wait_for(model::Stream s) {
  switch (s) {
    case model::Stream::tp_comm: return Wait::tp;
    case model::Stream::cp_comm: return Wait::cp;
    case model::Stream::pp_comm: return Wait::pp;
    default: return Wait::dp;
  }
}

std::uint64_t arrival_key(int sender_chunk, int microbatch, bool backward) {
  return (static_cast<std::uint64_t>(sender_chunk) * 2 + (backward ? 1 : 0)) << 32 | static_cast<std::uint32_t>(microbatch);
}

}  // namespace

class Executor {
 public:
  Executor(engine::Simulation& sim, const model::Scenario& s, const StepPlan& plan, const StepOptions& opt,
           CommModel& comm)
      : s_(s), plan_(plan), opt_(opt), comm_(comm), layout_(s), sim_(sim) {
    const int count = opt.per_rank ? s.plan.gpus() : s.plan.pp;
    ranks_.resize(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
      RankState& r = ranks_[static_cast<std::size_t>(i)];
      r.index = i;
      r.global = opt.per_rank ? i : -1;
      r.stage = opt.per_rank ? layout_.stage_of(i) : i;
      const StageProgram& st = plan.stages[static_cast<std::size_t>(r.stage)];
      r.inst.resize(st.order.size() + 2);
      r.inst.front().prog = &st.step_start;
      for (std::size_t w = 0; w < st.order.size(); ++w) {
        const auto& work = st.order[w];
        Instance& in = r.inst[w + 1];
        const auto v = static_cast<std::size_t>(work.virtual_index);
        const bool sync = st.syncs(work.microbatch);
        in.microbatch = work.microbatch;
        in.vchunk = work.virtual_index;
        in.backward = work.work != model::Work::forward;
        if (work.work == model::Work::forward) in.prog = &st.forward[v];
        else if (work.work == model::Work::backward) in.prog = (sync && st.weight_grad.empty()) ? &st.backward_sync[v] : &st.backward[v];
        else in.prog = sync ? &st.backward_sync[v] : &st.weight_grad[v];
      }
      r.inst.back().prog = &st.step_end;
    }
    for (const auto& [rank, fraction] : opt.slow_ranks)
      if (rank >= 0 && rank < count && opt.per_rank) ranks_[static_cast<std::size_t>(rank)].slowdown = 1.0 + fraction;
  }

  void run() {
    for (auto& r : ranks_) {
      open(r, 0);
      drive(r);
    }
    sim_.run();
    for (const auto& r : ranks_)
      if (r.finish < 0) throw std::logic_error("herd: step simulation deadlocked (rank " + std::to_string(r.index) + ")");
  }

  std::vector<RankState>& ranks() { return ranks_; }
  std::vector<TraceSpan>& trace() { return trace_; }
  std::uint64_t events() const { return sim_.events_executed(); }

 private:
  Instance& at(RankState& r, OpRef ref) { return r.inst[static_cast<std::size_t>(ref.inst)]; }
  const StepOp& op_of(RankState& r, OpRef ref) { return at(r, ref).prog->ops[static_cast<std::size_t>(ref.op)]; }
  double now_s() const { return engine::to_seconds(sim_.now()); }

  void open(RankState& r, int inst) {
    Instance& in = r.inst[static_cast<std::size_t>(inst)];
    in.done.assign(in.prog->ops.size(), 0);
    in.remaining = static_cast<std::int32_t>(in.prog->ops.size());
    r.cur = inst;
    r.next_op = 0;
  }

  bool dep_done(RankState& r, OpRef ref) {
    const StepOp& op = op_of(r, ref);
    if (op.kind == StepOpKind::wait_start) return op.dep < 0 || r.inst.front().done[static_cast<std::size_t>(op.dep)] != 0;
    const auto& done = at(r, ref).done;
    return (op.dep < 0 || done[static_cast<std::size_t>(op.dep)] != 0) &&
           (op.dep2 < 0 || done[static_cast<std::size_t>(op.dep2)] != 0);
  }
  // The op a blocked op waits for (its first unfinished dependency).
  int pending_dep(RankState& r, OpRef ref) {
    const StepOp& op = op_of(r, ref);
    const auto& done = at(r, ref).done;
    if (op.dep >= 0 && done[static_cast<std::size_t>(op.dep)] == 0) return op.dep;
    return op.dep2;
  }

  // The driver: issue ops of the current program until one must wait.
  void drive(RankState& r) {
    while (!r.ended) {
      Instance& in = r.inst[static_cast<std::size_t>(r.cur)];
      if (r.next_op == static_cast<int>(in.prog->ops.size())) {
        if (r.cur + 1 == static_cast<int>(r.inst.size())) {
          r.ended = true;
          maybe_finish(r);
          return;
        }
        open(r, r.cur + 1);
        continue;
      }
      const OpRef ref{r.cur, r.next_op};
      const StepOp& op = op_of(r, ref);
      switch (op.kind) {
        case StepOpKind::compute:
          if (r.computing) return;
          if (!dep_done(r, ref)) return block(r, wait_for(in.prog->ops[static_cast<std::size_t>(pending_dep(r, ref))].stream));
          r.next_op = start_compute(r, ref) + 1;
          continue;
        case StepOpKind::collective:
        case StepOpKind::send: {
          const int slot = stream_slot(op.stream);
          r.streams[static_cast<std::size_t>(slot)].push_back(ref);
          ++r.next_op;
          try_stream(r, slot);
          continue;
        }
        case StepOpKind::recv: {
          const std::uint64_t key = arrival_key(op.peer_chunk, in.microbatch, in.backward);
          auto it = r.arrived.find(key);
          if (it == r.arrived.end()) {
            r.waiting_for_arrival = key;
            return block(r, r.sending.count(key) ? Wait::pp : Wait::bubble);
          }
          r.arrived.erase(it);
          r.sending.erase(key);
          complete(r, ref);
          ++r.next_op;
          continue;
        }
        case StepOpKind::wait_send:
          if (!dep_done(r, ref)) return block(r, Wait::pp);
          complete(r, ref);
          ++r.next_op;
          continue;
        case StepOpKind::wait_start:
          if (!dep_done(r, ref)) return block(r, Wait::dp);
          complete(r, ref);
          ++r.next_op;
          continue;
        case StepOpKind::drain:
          if (r.computing) return;
          if (!streams_idle(r)) return block(r, busiest_wait(r));
          complete(r, ref);
          ++r.next_op;
          continue;
      }
    }
  }

  bool streams_idle(const RankState& r) const {
    for (int i = 0; i < kCommStreams; ++i)
      if (r.stream_busy[static_cast<std::size_t>(i)] || !r.streams[static_cast<std::size_t>(i)].empty()) return false;
    return true;
  }
  Wait busiest_wait(const RankState& r) const {
    static constexpr Wait order[] = {Wait::dp, Wait::pp, Wait::cp, Wait::tp};
    static constexpr int slots[] = {3, 2, 1, 0};
    for (int i = 0; i < 4; ++i)
      if (r.stream_busy[static_cast<std::size_t>(slots[i])] || !r.streams[static_cast<std::size_t>(slots[i])].empty()) return order[i];
    return Wait::dp;
  }

  // The compute stream is idle and the driver cannot go on: account the wait to `why`.
  void block(RankState& r, Wait why) {
    if (r.computing) return;
    if (r.wait == why) return;
    close_wait(r);
    r.wait = why;
    r.wait_since = sim_.now();
  }
  void close_wait(RankState& r) {
    if (r.wait == Wait::none) return;
    const double t = engine::to_seconds(sim_.now() - r.wait_since);
    switch (r.wait) {
      case Wait::tp: r.spent.exposed_tp_s += t; break;
      case Wait::cp: r.spent.exposed_cp_s += t; break;
      case Wait::dp: r.spent.exposed_dp_s += t; break;
      case Wait::pp: r.spent.exposed_pp_s += t; break;
      case Wait::bubble: r.spent.bubble_s += t; break;
      case Wait::none: break;
    }
    r.wait = Wait::none;
  }

  double rate(const RankState& r) const { return std::max(0.05, 1.0 - r.comm_sm) / r.slowdown; }

  // Starts op `ref` (and, unless tracing, the run of compute ops it heads); returns the last index.
  int start_compute(RankState& r, OpRef ref) {
    close_wait(r);
    const WorkProgram& w = *at(r, ref).prog;
    const int last = opt_.trace ? ref.op : w.run_end[static_cast<std::size_t>(ref.op)];
    r.computing = true;
    r.compute_op = ref;
    r.compute_last = last;
    r.compute_remaining_s = 0;
    for (int i = ref.op; i <= last; ++i) r.compute_remaining_s += w.ops[static_cast<std::size_t>(i)].seconds;
    r.compute_since = r.compute_start = sim_.now();
    schedule_compute(r);
    return last;
  }
  void schedule_compute(RankState& r) {
    const engine::Time dt = engine::from_seconds_ceil(r.compute_remaining_s / rate(r));
    const int idx = r.index;
    r.compute_event = sim_.schedule_after(dt, [this, idx] { compute_done(ranks_[static_cast<std::size_t>(idx)]); });
  }
  // Communication started or ended on this rank: the running compute op changes pace.
  void set_comm_sm(RankState& r, double delta) {
    if (delta == 0) return;
    if (r.computing) {
      r.compute_remaining_s -= engine::to_seconds(sim_.now() - r.compute_since) * rate(r);
      r.compute_remaining_s = std::max(0.0, r.compute_remaining_s);
      r.compute_since = sim_.now();
      sim_.cancel(r.compute_event);
      r.comm_sm = std::max(0.0, r.comm_sm + delta);
      schedule_compute(r);
    } else {
      r.comm_sm = std::max(0.0, r.comm_sm + delta);
    }
  }
  void compute_done(RankState& r) {
    const OpRef ref = r.compute_op;
    const StepOp& op = op_of(r, ref);
    const double busy = engine::to_seconds(sim_.now() - r.compute_start);
    if (op.op->pass == model::Pass::optimizer) r.spent.optimizer_s += busy;
    else r.spent.compute_s += busy;
    record(r, ref, model::Stream::compute, r.compute_start);
    r.computing = false;
    for (int i = ref.op; i <= r.compute_last; ++i) complete(r, OpRef{ref.inst, i});
    drive(r);
  }

  void complete(RankState& r, OpRef ref) {
    Instance& in = at(r, ref);
    in.done[static_cast<std::size_t>(ref.op)] = 1;
    --in.remaining;
    for (int s = 0; s < kCommStreams; ++s) try_stream(r, s);
    maybe_finish(r);
  }

  void maybe_finish(RankState& r) {
    if (!r.ended || r.finish >= 0 || r.computing || !streams_idle(r)) return;
    close_wait(r);
    r.finish = sim_.now();
  }

  // Starts the head of a communication stream when the stream is free and its dependency is done.
  void try_stream(RankState& r, int slot) {
    auto& queue = r.streams[static_cast<std::size_t>(slot)];
    if (r.stream_busy[static_cast<std::size_t>(slot)] || queue.empty()) return;
    const OpRef ref = queue.front();
    if (!dep_done(r, ref)) return;
    r.stream_busy[static_cast<std::size_t>(slot)] = true;
    r.stream_start[static_cast<std::size_t>(slot)] = sim_.now();
    const StepOp& op = op_of(r, ref);
    if (op.kind == StepOpKind::send) return start_send(r, ref, slot);
    CollectiveCall call = make_call(r, op);
    const double sm = op.op->copy_engine ? 0.0 : comm_.sm_fraction(call);
    r.stream_sm[static_cast<std::size_t>(slot)] = sm;
    set_comm_sm(r, sm);
    if (!opt_.per_rank) {
      const int idx = r.index;
      comm_.start(sim_, call, [this, idx, slot] { stream_done(ranks_[static_cast<std::size_t>(idx)], slot); });
      return;
    }
    rendezvous(r, op, std::move(call), slot);
  }

  CollectiveCall make_call(const RankState& r, const StepOp& op) const {
    CollectiveCall call;
    call.op = op.op->kind == model::OpKind::collective ? op.op->collective : model::Collective::all_reduce;
    call.group = op.group;
    call.stage = r.stage;
    call.bytes = op.bytes;
    return call;
  }

  // Per-rank mode: the collective starts once every member of the group has reached it.
  void rendezvous(RankState& r, const StepOp& op, CollectiveCall call, int slot) {
    const auto g = static_cast<std::size_t>(op.group);
    const std::uint32_t seq = r.collective_seq[g]++;
    const int base = layout_.group_base(r.global, op.group);
    const std::uint64_t key = (static_cast<std::uint64_t>(base) << 24 | static_cast<std::uint64_t>(g) << 20) ^ seq;
    auto& meeting = meetings_[key];
    meeting.members.push_back({r.index, slot});
    if (static_cast<int>(meeting.members.size()) < group_size(s_.plan, op.group)) return;
    auto members = std::move(meeting.members);
    meetings_.erase(key);
    call.ranks = layout_.group_members(r.global, op.group);
    const std::size_t id = finished_meetings_.size();
    finished_meetings_.push_back(std::move(members));
    comm_.start(sim_, call, [this, id] {
      for (const auto& [idx, sl] : finished_meetings_[id]) stream_done(ranks_[static_cast<std::size_t>(idx)], sl);
      finished_meetings_[id].clear();
    });
  }

  void stream_done(RankState& r, int slot) {
    auto& queue = r.streams[static_cast<std::size_t>(slot)];
    const OpRef ref = queue.front();
    queue.pop_front();
    r.stream_busy[static_cast<std::size_t>(slot)] = false;
    set_comm_sm(r, -r.stream_sm[static_cast<std::size_t>(slot)]);
    r.stream_sm[static_cast<std::size_t>(slot)] = 0;
    record(r, ref, op_of(r, ref).stream, r.stream_start[static_cast<std::size_t>(slot)]);
    complete(r, ref);
    drive(r);
  }

  void start_send(RankState& r, OpRef ref, int slot) {
    const StepOp& op = op_of(r, ref);
    const Instance& in = at(r, ref);
    const int my_chunk = plan_.stages[static_cast<std::size_t>(r.stage)].chunk_index[static_cast<std::size_t>(in.vchunk)];
    const int to_stage = plan_.chunks[static_cast<std::size_t>(op.peer_chunk)].rank;
    RankState& to = ranks_[static_cast<std::size_t>(opt_.per_rank ? layout_.with_stage(r.global, to_stage) : to_stage)];
    const std::uint64_t key = arrival_key(my_chunk, in.microbatch, in.backward);
    to.sending[key] = sim_.now();
    if (to.wait == Wait::bubble && to.waiting_for_arrival == key) {  // the wait is now for the network
      close_wait(to);
      to.wait = Wait::pp;
      to.wait_since = sim_.now();
    }
    TransferCall call{r.stage, to_stage, r.global, to.global, op.bytes};
    const int from = r.index, dest = to.index;
    comm_.transfer(sim_, call, [this, from, dest, slot, key] {
      RankState& receiver = ranks_[static_cast<std::size_t>(dest)];
      receiver.arrived[key] = sim_.now();
      stream_done(ranks_[static_cast<std::size_t>(from)], slot);
      drive(receiver);
    });
  }

  void record(RankState& r, OpRef ref, model::Stream stream, engine::Time start) {
    if (!opt_.trace) return;
    const Instance& in = at(r, ref);
    const StepOp& op = op_of(r, ref);
    TraceSpan span;
    span.rank = r.index;
    span.stream = stream;
    span.op = op.op;
    span.start_s = engine::to_seconds(start);
    span.end_s = now_s();
    span.bytes = op.bytes;
    span.group = op.group;
    span.microbatch = in.microbatch;
    span.chunk = in.vchunk >= 0 ? plan_.stages[static_cast<std::size_t>(r.stage)].chunk_index[static_cast<std::size_t>(in.vchunk)] : -1;
    span.backward = in.backward;
    trace_.push_back(span);
  }

  struct Meeting {
    std::vector<std::pair<int, int>> members;  // (rank index, stream slot)
  };

  const model::Scenario& s_;
  const StepPlan& plan_;
  const StepOptions& opt_;
  CommModel& comm_;
  StepGroups layout_;
  engine::Simulation& sim_;
  std::vector<RankState> ranks_;
  std::unordered_map<std::uint64_t, Meeting> meetings_;
  std::vector<std::vector<std::pair<int, int>>> finished_meetings_;
  std::vector<TraceSpan> trace_;
};

}  // namespace herd::sim::detail

namespace herd::sim {

StepReport simulate_step(const model::Scenario& s, const StepOptions& options, CommModel* comm) {
  const model::ComputeCostModel cost(s.cluster.gpu, options.calibration);
  auto plan = std::make_shared<const StepPlan>(lower_step(s, cost));
  engine::Simulation sim;
  std::unique_ptr<CommModel> fallback;
  if (!comm) {
    fallback = std::make_unique<FabricComm>(sim, s, *plan);
    comm = fallback.get();
  }
  detail::Executor executor(sim, s, *plan, options, *comm);
  executor.run();
  StepReport report = detail::assemble_report(s, *plan, executor.ranks(), std::move(executor.trace()),
                                              executor.events(), options.per_rank);
  report.plan = std::move(plan);
  return report;
}

}  // namespace herd::sim
