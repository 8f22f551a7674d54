#pragma once
// The discrete-event executor behind StepSimulator (internal).
#include <array>
#include <deque>
#include <unordered_map>
#include <vector>

#include "herd/engine/simulation.hpp"
#include "herd/sim/control.hpp"
#include "herd/sim/step/comm_model.hpp"
#include "herd/sim/step/step_report.hpp"
#include "herd/sim/step/trace_sink.hpp"
#include "step_groups.hpp"

namespace herd::sim::detail {

enum class Wait : std::uint8_t { none, tp, cp, dp, pp, bubble };

/// Where a rank's time went so far, in whole nanoseconds (exact: repeated periods add up to what
/// simulating them gives): indexed by Wait for the waits, kBusy for compute, kOptimizer.
inline constexpr std::size_t kBusy = 6, kOptimizer = 7;
using Spent = std::array<engine::Time, 8>;
StepBreakdown breakdown_of(const Spent& spent);
/// An op as a trace describes it, by value.
TraceOp describe(const model::Op& op);

struct OpRef {
  std::int32_t inst = 0;
  std::int32_t op = 0;
};

/// One run of a WorkProgram (a piece of work, or the step's start or end) on one rank.
struct Instance {
  const WorkProgram* prog = nullptr;
  std::vector<std::uint8_t> done;   ///< per op; returned to the rank's pool once every op is done
  std::int32_t remaining = 0;       ///< ops not done yet
  std::int32_t microbatch = -1;
  std::int32_t vchunk = -1;
  bool backward = false;
};

inline constexpr int kCommStreams = model::kStreams - 1;  // every stream but compute
/// The queue of a communication stream: streams in model::Stream order, compute excluded.
constexpr int comm_slot(model::Stream s) { return model::index_of(s) - 1; }

/// A pipeline transfer a rank waits for: the sending chunk, the micro-batch and the direction.
using ArrivalKey = std::uint64_t;

struct RankState {
  int index = 0;   ///< position in Executor::ranks
  int stage = 0;
  int global = 0;  ///< global rank (per-rank mode) or -1 (symmetric mode)
  double slowdown = 1.0;
  std::vector<Instance> inst;  ///< 0: step_start, 1..W: work in order, W+1: step_end
  std::vector<std::vector<std::uint8_t>> spare_done;  ///< done-flag buffers to reuse
  int cur = 0, next_op = 0;
  bool ended = false;
  // compute stream
  bool computing = false;
  OpRef compute_op;
  int compute_last = 0;  ///< last op of the run in flight
  engine::EventId compute_event;
  double compute_remaining_s = 0;  ///< uncontended seconds still to run
  double compute_total_s = 0;      ///< uncontended seconds of the whole run
  engine::Time compute_since = 0, compute_start = 0;
  // Tracing: the op of the run in flight whose span is still open, when it started and the run's
  // uncontended seconds up to its end (Executor::flush_compute).
  int sub_op = 0;
  engine::Time sub_start = 0;
  double sub_end_s = 0;
  double comm_sm = 0;
  // communication streams
  std::array<std::deque<OpRef>, kCommStreams> streams;
  std::array<bool, kCommStreams> stream_busy{};
  std::array<engine::Time, kCommStreams> stream_start{};
  std::array<double, kCommStreams> stream_sm{};
  // waiting, for the breakdown
  Wait wait = Wait::none;
  engine::Time wait_since = 0;
  ArrivalKey waiting_for_arrival = 0;
  std::vector<ArrivalKey> arrived;  ///< transfers delivered and not yet received (few at a time)
  std::vector<ArrivalKey> sending;  ///< transfers to this rank under way
  std::array<std::uint32_t, kCommGroups> collective_seq{};
  Spent spent{};
  engine::Time finish = -1;
  int oldest = 1;  ///< no instance in [1, oldest) has an op left to finish
};

/// One span recorded for the trace (op descriptions are resolved when the report is assembled).
struct RecordedSpan {
  const model::Op* op = nullptr;
  int rank = 0;
  model::Stream stream = model::Stream::compute;
  engine::Time start = 0, end = 0;
  double bytes = 0;
  CommGroup group = CommGroup::tp;
  int microbatch = -1, chunk = -1;
  bool backward = false;
  int layer = -1;
};

class Executor {
 public:
  /// In per-rank mode the scenario's stragglers compute slower. With `skip_repeats` (symmetric
  /// mode, a CommModel that gives snapshots) a steady state that repeats exactly is simulated
  /// once and its repetitions replicated (steady_state.cpp). With `trace` and a `sink`, spans go
  /// to the sink as they complete (streamed_ops() describes their ops) unless repeats may be
  /// replicated, which reads them back: then they are kept in trace() as without a sink.
  Executor(engine::Simulation& sim, const model::Scenario& s, const StepPlan& plan, const StepGroups& groups,
           bool per_rank, bool trace, bool skip_repeats, CommModel& comm, TraceSink* sink = nullptr);

  /// Runs the step to its end. Throws Cancelled when `control` asks to stop; a step that cannot
  /// finish (a rank waiting for something that never comes) is an invariant failure.
  void run(const Control& control);

  const std::vector<RankState>& ranks() const { return ranks_; }
  std::vector<RecordedSpan>& trace() { return trace_; }
  /// The ops of the spans streamed to the sink, in the order they first appeared.
  std::vector<TraceOp>& streamed_ops() { return streamed_ops_; }
  /// Events run, counting those of replicated periods.
  std::uint64_t events() const { return sim_.events_executed() + replicated_events_; }
  /// Periods replicated instead of simulated.
  std::uint64_t replicated_periods() const { return replicated_periods_; }

 private:
  Instance& at(RankState& r, OpRef ref) { return r.inst[static_cast<std::size_t>(ref.inst)]; }
  const StepOp& op_of(RankState& r, OpRef ref) { return at(r, ref).prog->ops[static_cast<std::size_t>(ref.op)]; }
  void open(RankState& r, int inst);
  void retire(RankState& r, int inst);
  bool dep_done(RankState& r, OpRef ref);
  int pending_dep(RankState& r, OpRef ref);
  void drive(RankState& r);
  void wait_tail(RankState& r);
  bool streams_idle(const RankState& r) const;
  Wait busiest_wait(const RankState& r) const;
  void block(RankState& r, Wait why);
  void close_wait(RankState& r);
  double rate(const RankState& r) const { return std::max(0.05, 1.0 - r.comm_sm) / r.slowdown; }
  int start_compute(RankState& r, OpRef ref);
  void schedule_compute(RankState& r);
  void set_comm_sm(RankState& r, double delta);
  void compute_done(RankState& r);
  void complete(RankState& r, OpRef ref);
  void maybe_finish(RankState& r);
  void try_stream(RankState& r, int slot);
  CollectiveCall make_call(const RankState& r, const StepOp& op) const;
  void rendezvous(RankState& r, const StepOp& op, CollectiveCall call, int slot);
  void stream_done(RankState& r, int slot);
  void start_send(RankState& r, OpRef ref, int slot);
  void arrive(int from, int dest, int slot);
  ArrivalKey send_key(const RankState& r, OpRef ref) const;
  void record(RankState& r, OpRef ref, model::Stream stream, engine::Time start) { record(r, ref, stream, start, sim_.now()); }
  void record(RankState& r, OpRef ref, model::Stream stream, engine::Time start, engine::Time end);
  /// Tracing: closes the spans of the ops of r's compute run that ended by now (all of them with
  /// `all`, at the run's end) and opens the next ones'. The run is one activity; where its ops
  /// begin and end follows from its pace, constant between the changes set_comm_sm makes.
  void flush_compute(RankState& r, bool all = false);
  /// The op's index among the streamed ops (TraceSpan::op), described the first time.
  int streamed_op(const model::Op* op);
  /// Tells the sink that the op starts now on `stream` of `r` (TraceSink::started).
  void announce(RankState& r, OpRef ref, model::Stream stream) { announce(r, ref, stream, sim_.now()); }
  void announce(RankState& r, OpRef ref, model::Stream stream, engine::Time t);
  double progress() const;

  // Steady state (steady_state.cpp): at checkpoints (the first stage opening a forward), the
  // whole state relative to now; when it equals an earlier checkpoint's, skip the periods ahead
  // whose work repeats.
  struct Checkpoint {
    engine::Time time = 0;
    std::uint64_t events = 0;
    std::size_t spans = 0;
    int microbatch = 0;
    std::vector<int> cur;
    std::vector<Spent> spent;
    std::vector<std::uint64_t> state;
  };
  bool snapshot(std::vector<std::uint64_t>& out, int microbatch0) const;
  void checkpoint();
  std::int64_t repeats(const Checkpoint& from, const Checkpoint& to) const;
  void replicate(const Checkpoint& from, const Checkpoint& to, std::int64_t n);

  const model::Scenario& s_;
  const StepPlan& plan_;
  const StepGroups& groups_;
  bool per_rank_, trace_on_;
  CommModel& comm_;
  engine::Simulation& sim_;
  std::vector<RankState> ranks_;
  std::unordered_map<std::uint64_t, std::vector<std::pair<int, int>>> meetings_;  // (rank index, stream slot)
  std::vector<std::vector<std::pair<int, int>>> finished_meetings_;
  std::vector<RecordedSpan> trace_;
  TraceSink* sink_ = nullptr;  ///< streaming: spans go here, not to trace_
  std::unordered_map<const model::Op*, int> streamed_index_;
  std::vector<TraceOp> streamed_ops_;
  bool skip_repeats_ = false, checkpoint_due_ = false;
  std::vector<Checkpoint> checkpoints_;
  std::unordered_map<std::uint64_t, std::vector<std::size_t>> checkpoints_by_hash_;
  std::size_t checkpoint_words_ = 0;
  std::uint64_t last_checkpoint_events_ = 0, last_checkpoint_words_ = 0;
  std::uint64_t replicated_events_ = 0, replicated_periods_ = 0;
};

}  // namespace herd::sim::detail
