// The step executor. Each simulated rank has a driver that walks its programs in issue order:
// compute ops run one at a time on the compute stream, communication ops are queued on their
// stream as soon as the driver passes them and start once their dependency is done (CUDA streams
// and events, with the host one kernel ahead). Collectives in per-rank mode start when every member
// has reached them. A compute op slows down while communication kernels hold SMs.
#include "executor.hpp"
#include "herd/engine/time_overflow.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "herd/engine/check.hpp"

namespace herd::sim::detail {

namespace {

Wait wait_for(model::Stream s) {
  switch (s) {
    case model::Stream::tp_comm: return Wait::tp;
    case model::Stream::cp_comm: return Wait::cp;
    case model::Stream::pp_comm: return Wait::pp;
    default: return Wait::dp;
  }
}

ArrivalKey arrival_key(int sender_chunk, int microbatch, bool backward) {
  return (static_cast<std::uint64_t>(sender_chunk) * 2 + (backward ? 1 : 0)) << 32 | static_cast<std::uint32_t>(microbatch);
}

bool take(std::vector<ArrivalKey>& keys, ArrivalKey key) {
  const auto it = std::find(keys.begin(), keys.end(), key);
  if (it == keys.end()) return false;
  *it = keys.back();
  keys.pop_back();
  return true;
}

// Events between two looks at the stop token and the progress callback.
constexpr std::uint64_t kCheckEvery = 4096;

// What a rank's event does (engine::EventTag): its compute op ends, a stream's operation ends, a
// stream's pipeline send arrives.
constexpr int kComputeTag = 0, kStreamTag = 1, kArrivalTag = 1 + kCommStreams;
engine::EventTag tag(const RankState& r, int what) {
  return (static_cast<engine::EventTag>(r.index) + 1) << 8 | static_cast<engine::EventTag>(what);
}

}  // namespace

Executor::Executor(engine::Simulation& sim, const model::Scenario& s, const StepPlan& plan, const StepGroups& groups,
                   bool per_rank, bool trace, bool skip_repeats, CommModel& comm, TraceSink* sink)
    : s_(s), plan_(plan), groups_(groups), per_rank_(per_rank), trace_on_(trace), comm_(comm), sim_(sim),
      skip_repeats_(skip_repeats && !per_rank) {
  if (trace && !skip_repeats_) sink_ = sink;
  const int count = per_rank ? s.plan.gpus() : s.plan.pp;
  ranks_.resize(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    RankState& r = ranks_[static_cast<std::size_t>(i)];
    r.index = i;
    r.global = per_rank ? i : -1;
    r.stage = per_rank ? groups_.stage_of(i) : i;
    const StageProgram& st = plan.stages[static_cast<std::size_t>(r.stage)];
    r.inst.resize(st.order.size() + 2);
    r.inst.front().prog = &st.step_start;
    for (std::size_t w = 0; w < st.order.size(); ++w) {
      const auto& work = st.order[w];
      Instance& in = r.inst[w + 1];
      in.microbatch = work.microbatch;
      in.vchunk = work.virtual_index;
      in.backward = work.work != model::Work::forward;
      in.prog = &st.program(work);
    }
    r.inst.back().prog = &st.step_end;
  }
  for (const auto& straggler : s.whatif.stragglers)
    if (per_rank && straggler.rank >= 0 && straggler.rank < count)
      ranks_[static_cast<std::size_t>(straggler.rank)].slowdown = 1.0 + straggler.slowdown;
}

void Executor::run(const Control& control) {
  for (auto& r : ranks_) {
    open(r, 0);
    drive(r);
  }
  std::uint64_t steps = 0;
  while (sim_.step()) {
    if (checkpoint_due_) {
      checkpoint_due_ = false;
      checkpoint();
    }
    if (++steps % kCheckEvery != 0) continue;
    check_stop(control);
    if (control.progress) control.progress("simulating the step", static_cast<int>(1000 * progress()), 1000);
  }
  for (const auto& r : ranks_)
    if (r.finish < 0)
      engine::invariant_failure("step simulation deadlocked: " + std::string(per_rank_ ? "rank " : "stage ") +
                                std::to_string(per_rank_ ? r.global : r.stage) + " never finished (waiting at work " +
                                std::to_string(r.cur) + " of " + std::to_string(r.inst.size()) + ", op " +
                                std::to_string(r.next_op) + ")");
}

// Fraction of the step's work the ranks have reached (for progress reports).
double Executor::progress() const {
  double sum = 0;
  for (const auto& r : ranks_) sum += double(r.cur) / double(r.inst.size());
  return sum / double(ranks_.size());
}

void Executor::open(RankState& r, int inst) {
  if (r.cur != inst) retire(r, r.cur);
  Instance& in = r.inst[static_cast<std::size_t>(inst)];
  if (!r.spare_done.empty()) {
    in.done = std::move(r.spare_done.back());
    r.spare_done.pop_back();
  }
  in.done.assign(in.prog->ops.size(), 0);
  in.remaining = static_cast<std::int32_t>(in.prog->ops.size());
  r.cur = inst;
  r.next_op = 0;
  if (skip_repeats_ && r.index == 0 && !in.backward && in.microbatch >= 0) checkpoint_due_ = true;
}

// An instance the driver has left and whose ops are all done is never looked at again (a
// dependency names an op of the same program; only the step's start is waited on from others).
void Executor::retire(RankState& r, int inst) {
  Instance& in = r.inst[static_cast<std::size_t>(inst)];
  if (inst == 0 || inst == r.cur || in.remaining > 0 || in.done.capacity() == 0) return;
  r.spare_done.push_back(std::move(in.done));
  in.done = {};
}

bool Executor::dep_done(RankState& r, OpRef ref) {
  const StepOp& op = op_of(r, ref);
  if (op.kind == StepOpKind::wait_start) return op.dep < 0 || r.inst.front().done[static_cast<std::size_t>(op.dep)] != 0;
  const auto& done = at(r, ref).done;
  return (op.dep < 0 || done[static_cast<std::size_t>(op.dep)] != 0) &&
         (op.dep2 < 0 || done[static_cast<std::size_t>(op.dep2)] != 0);
}

// The op a blocked op waits for (its first unfinished dependency).
int Executor::pending_dep(RankState& r, OpRef ref) {
  const StepOp& op = op_of(r, ref);
  const auto& done = at(r, ref).done;
  if (op.dep >= 0 && done[static_cast<std::size_t>(op.dep)] == 0) return op.dep;
  return op.dep2;
}

// The driver: issue ops of the current program until one must wait.
void Executor::drive(RankState& r) {
  if (r.ended) return wait_tail(r);
  while (!r.ended) {
    Instance& in = r.inst[static_cast<std::size_t>(r.cur)];
    if (r.next_op == static_cast<int>(in.prog->ops.size())) {
      if (r.cur + 1 == static_cast<int>(r.inst.size())) {
        r.ended = true;
        maybe_finish(r);
        return wait_tail(r);
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
        const int slot = comm_slot(op.stream);
        r.streams[static_cast<std::size_t>(slot)].push_back(ref);
        ++r.next_op;
        try_stream(r, slot);
        continue;
      }
      case StepOpKind::recv: {
        const ArrivalKey key = arrival_key(op.peer_chunk, in.microbatch, in.backward);
        if (!take(r.arrived, key)) {
          r.waiting_for_arrival = key;
          const bool under_way = std::find(r.sending.begin(), r.sending.end(), key) != r.sending.end();
          return block(r, under_way ? Wait::pp : Wait::bubble);
        }
        take(r.sending, key);
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

// Every op issued, the compute stream idle, communication still under way (ZeRO-1's blocking
// parameter all-gather after the optimizer): the step waits for it.
void Executor::wait_tail(RankState& r) {
  if (r.finish < 0 && !r.computing && !streams_idle(r)) block(r, busiest_wait(r));
}

bool Executor::streams_idle(const RankState& r) const {
  for (int i = 0; i < kCommStreams; ++i)
    if (r.stream_busy[static_cast<std::size_t>(i)] || !r.streams[static_cast<std::size_t>(i)].empty()) return false;
  return true;
}

// The stream the rank waits on at the end of the step, most significant first.
Wait Executor::busiest_wait(const RankState& r) const {
  using model::Stream;
  for (const Stream s : {Stream::dp_comm, Stream::pp_comm, Stream::cp_comm, Stream::tp_comm}) {
    const auto slot = static_cast<std::size_t>(comm_slot(s));
    if (r.stream_busy[slot] || !r.streams[slot].empty()) return wait_for(s);
  }
  return Wait::dp;
}

// The compute stream is idle and the driver cannot go on: account the wait to `why`.
void Executor::block(RankState& r, Wait why) {
  if (r.computing) return;
  if (r.wait == why) return;
  close_wait(r);
  r.wait = why;
  r.wait_since = sim_.now();
}

void Executor::close_wait(RankState& r) {
  if (r.wait == Wait::none) return;
  r.spent[static_cast<std::size_t>(r.wait)] += sim_.now() - r.wait_since;
  r.wait = Wait::none;
}

// Starts op `ref` and the run of compute ops it heads, as one activity; returns the last index.
int Executor::start_compute(RankState& r, OpRef ref) {
  close_wait(r);
  const WorkProgram& w = *at(r, ref).prog;
  const int last = w.run_end[static_cast<std::size_t>(ref.op)];
  r.computing = true;
  r.compute_op = ref;
  r.compute_last = last;
  r.compute_remaining_s = 0;
  for (int i = ref.op; i <= last; ++i) r.compute_remaining_s += w.ops[static_cast<std::size_t>(i)].seconds;
  r.compute_total_s = r.compute_remaining_s;
  r.compute_since = r.compute_start = sim_.now();
  if (trace_on_) {
    r.sub_op = ref.op;
    r.sub_start = r.compute_start;
    r.sub_end_s = w.ops[static_cast<std::size_t>(ref.op)].seconds;
  }
  announce(r, ref, model::Stream::compute);
  schedule_compute(r);
  return last;
}

void Executor::flush_compute(RankState& r, bool all) {
  if (!trace_on_ || !r.computing) return;
  const engine::Time now = sim_.now();
  const double pace = rate(r);
  const double done_since = r.compute_total_s - r.compute_remaining_s;  // work done at compute_since
  const double done_now = done_since + engine::to_seconds(now - r.compute_since) * pace;
  const WorkProgram& w = *at(r, r.compute_op).prog;
  while (r.sub_op < r.compute_last && (all || r.sub_end_s <= done_now)) {
    // Where the op's work ends, rounded down to the nanosecond (never past now nor before it began).
    const double after_since_ns = std::floor(std::max(0.0, r.sub_end_s - done_since) / pace * 1e9);
    const engine::Time end =
        std::clamp(r.compute_since + static_cast<engine::Time>(std::min(after_since_ns, double(now - r.compute_since))),
                   r.sub_start, now);
    record(r, OpRef{r.compute_op.inst, r.sub_op}, model::Stream::compute, r.sub_start, end);
    ++r.sub_op;
    r.sub_start = end;
    r.sub_end_s += w.ops[static_cast<std::size_t>(r.sub_op)].seconds;
    announce(r, OpRef{r.compute_op.inst, r.sub_op}, model::Stream::compute, end);
  }
}

void Executor::schedule_compute(RankState& r) {
  const engine::Time dt = engine::from_seconds_ceil(r.compute_remaining_s / rate(r));
  const int idx = r.index;
  r.compute_event =
      sim_.schedule_after(engine::checked_delay(sim_.now(), dt), [this, idx] { compute_done(ranks_[static_cast<std::size_t>(idx)]); }, 0, tag(r, kComputeTag));
}

// Communication started or ended on this rank: the running compute op changes pace.
void Executor::set_comm_sm(RankState& r, double delta) {
  if (delta == 0) return;
  if (r.computing) {
    flush_compute(r);  // the ops that ended at the old pace
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

void Executor::compute_done(RankState& r) {
  const OpRef ref = r.compute_op;
  const StepOp& op = op_of(r, ref);
  r.spent[op.op->pass == model::Pass::optimizer ? kOptimizer : kBusy] += sim_.now() - r.compute_start;
  if (trace_on_) {
    flush_compute(r, true);
    record(r, OpRef{ref.inst, r.compute_last}, model::Stream::compute, r.sub_start);
  }
  r.computing = false;
  for (int i = ref.op; i <= r.compute_last; ++i) complete(r, OpRef{ref.inst, i});
  drive(r);
}

void Executor::complete(RankState& r, OpRef ref) {
  Instance& in = at(r, ref);
  in.done[static_cast<std::size_t>(ref.op)] = 1;
  if (--in.remaining == 0) retire(r, ref.inst);
  for (int s = 0; s < kCommStreams; ++s)
    if (!r.stream_busy[static_cast<std::size_t>(s)] && !r.streams[static_cast<std::size_t>(s)].empty()) try_stream(r, s);
  maybe_finish(r);
}

void Executor::maybe_finish(RankState& r) {
  if (!r.ended || r.finish >= 0 || r.computing || !streams_idle(r)) return;
  close_wait(r);
  r.finish = sim_.now();
}

// Starts the head of a communication stream when the stream is free and its dependency is done.
void Executor::try_stream(RankState& r, int slot) {
  auto& queue = r.streams[static_cast<std::size_t>(slot)];
  if (r.stream_busy[static_cast<std::size_t>(slot)] || queue.empty()) return;
  const OpRef ref = queue.front();
  if (!dep_done(r, ref)) return;
  r.stream_busy[static_cast<std::size_t>(slot)] = true;
  r.stream_start[static_cast<std::size_t>(slot)] = sim_.now();
  const StepOp& op = op_of(r, ref);
  announce(r, ref, op.stream);
  if (op.kind == StepOpKind::send) return start_send(r, ref, slot);
  CollectiveCall call = make_call(r, op);
  call.tag = tag(r, kStreamTag + slot);
  const double sm = op.op->copy_engine ? 0.0 : comm_.sm_fraction(call);
  r.stream_sm[static_cast<std::size_t>(slot)] = sm;
  set_comm_sm(r, sm);
  if (!per_rank_) {
    const int idx = r.index;
    comm_.start(sim_, call, [this, idx, slot] { stream_done(ranks_[static_cast<std::size_t>(idx)], slot); });
    return;
  }
  rendezvous(r, op, call, slot);
}

CollectiveCall Executor::make_call(const RankState& r, const StepOp& op) const {
  CollectiveCall call;
  call.op = op.op->kind == model::OpKind::collective ? op.op->collective : model::Collective::all_reduce;
  call.group = op.group;
  call.stage = r.stage;
  call.bytes = op.bytes;
  call.net = op.net;
  if (per_rank_) call.ordinal = groups_.ordinal(r.global, op.group);
  return call;
}

// Per-rank mode: the collective starts once every member of the group has reached it.
void Executor::rendezvous(RankState& r, const StepOp& op, CollectiveCall call, int slot) {
  const auto g = static_cast<std::size_t>(op.group);
  const std::uint32_t seq = r.collective_seq[g]++;
  const int base = groups_.group_base(r.global, op.group);
  const std::uint64_t key = (static_cast<std::uint64_t>(base) << 24 | static_cast<std::uint64_t>(g) << 20) ^ seq;
  auto& members = meetings_[key];
  members.emplace_back(r.index, slot);
  if (static_cast<int>(members.size()) < group_size(s_.plan, op.group)) return;
  const std::size_t id = finished_meetings_.size();
  finished_meetings_.push_back(std::move(members));
  meetings_.erase(key);
  comm_.start(sim_, call, [this, id] {
    for (const auto& [idx, sl] : finished_meetings_[id]) stream_done(ranks_[static_cast<std::size_t>(idx)], sl);
    finished_meetings_[id].clear();
  });
}

void Executor::stream_done(RankState& r, int slot) {
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

void Executor::start_send(RankState& r, OpRef ref, int slot) {
  const StepOp& op = op_of(r, ref);
  const int to_stage = plan_.chunks[static_cast<std::size_t>(op.peer_chunk)].rank;
  RankState& to = ranks_[static_cast<std::size_t>(per_rank_ ? groups_.with_stage(r.global, to_stage) : to_stage)];
  const ArrivalKey key = send_key(r, ref);
  to.sending.push_back(key);
  if (to.wait == Wait::bubble && to.waiting_for_arrival == key) {  // the wait is now for the network
    close_wait(to);
    to.wait = Wait::pp;
    to.wait_since = sim_.now();
  }
  TransferCall call{r.stage, to_stage, op.bytes, op.net, per_rank_ ? groups_.ordinal(r.global, CommGroup::pp) : -1,
                    tag(r, kArrivalTag + slot)};
  const int from = r.index, dest = to.index;
  comm_.transfer(sim_, call, [this, from, dest, slot] { arrive(from, dest, slot); });
}

// The send at the head of `from`'s stream `slot` has arrived at `dest`.
void Executor::arrive(int from, int dest, int slot) {
  RankState& sender = ranks_[static_cast<std::size_t>(from)];
  RankState& receiver = ranks_[static_cast<std::size_t>(dest)];
  receiver.arrived.push_back(send_key(sender, sender.streams[static_cast<std::size_t>(slot)].front()));
  stream_done(sender, slot);
  drive(receiver);
}

ArrivalKey Executor::send_key(const RankState& r, OpRef ref) const {
  const Instance& in = r.inst[static_cast<std::size_t>(ref.inst)];
  const int chunk = plan_.stages[static_cast<std::size_t>(r.stage)].chunk_index[static_cast<std::size_t>(in.vchunk)];
  return arrival_key(chunk, in.microbatch, in.backward);
}

void Executor::record(RankState& r, OpRef ref, model::Stream stream, engine::Time start, engine::Time end) {
  if (!trace_on_) return;
  if (stream != model::Stream::compute) flush_compute(r);  // a rank's spans in the order of time
  const Instance& in = at(r, ref);
  const StepOp& op = op_of(r, ref);
  RecordedSpan span;
  span.op = op.op;
  span.rank = r.index;
  span.stream = stream;
  span.start = start;
  span.end = end;
  span.bytes = op.bytes;
  span.group = op.group;
  span.microbatch = in.microbatch;
  span.chunk = in.vchunk >= 0 ? plan_.stages[static_cast<std::size_t>(r.stage)].chunk_index[static_cast<std::size_t>(in.vchunk)] : -1;
  span.backward = in.backward;
  span.layer = op.layer;
  if (!sink_) {
    trace_.push_back(span);
    return;
  }
  const int index = streamed_op(span.op);
  sink_->span(TraceSpan{span.rank, span.stream, index, engine::to_seconds(span.start), engine::to_seconds(span.end),
                        span.bytes, span.group, span.microbatch, span.chunk, span.backward, span.layer},
              streamed_ops_[static_cast<std::size_t>(index)]);
}

int Executor::streamed_op(const model::Op* op) {
  const auto [it, added] = streamed_index_.emplace(op, static_cast<int>(streamed_ops_.size()));
  if (added) streamed_ops_.push_back(describe(*op));
  return it->second;
}

void Executor::announce(RankState& r, OpRef ref, model::Stream stream, engine::Time t) {
  if (!sink_) return;
  if (stream != model::Stream::compute) flush_compute(r);
  const int index = streamed_op(op_of(r, ref).op);
  sink_->started(r.index, stream, streamed_ops_[static_cast<std::size_t>(index)], engine::to_seconds(t));
}

StepBreakdown breakdown_of(const Spent& spent) {
  auto seconds = [&spent](std::size_t part) { return engine::to_seconds(spent[part]); };
  StepBreakdown b;
  b.compute_s = seconds(kBusy);
  b.optimizer_s = seconds(kOptimizer);
  b.exposed_tp_s = seconds(static_cast<std::size_t>(Wait::tp));
  b.exposed_cp_s = seconds(static_cast<std::size_t>(Wait::cp));
  b.exposed_dp_s = seconds(static_cast<std::size_t>(Wait::dp));
  b.exposed_pp_s = seconds(static_cast<std::size_t>(Wait::pp));
  b.bubble_s = seconds(static_cast<std::size_t>(Wait::bubble));
  return b;
}

}  // namespace herd::sim::detail
