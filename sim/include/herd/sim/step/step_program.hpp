#pragma once
// Lowering a plan into what each pipeline stage runs in one training step: for every piece of work
// (forward, backward, weight gradient of a model chunk for one micro-batch) the ops on one GPU with
// their streams, dependencies and uncontended durations, including the pipeline sends and receives
// and the data-parallel gathers and reductions around them; and the per-rank order of that work.
#include <cstdint>
#include <memory>
#include <vector>

#include "herd/model/compute_cost.hpp"
#include "herd/model/pipeline.hpp"
#include "herd/model/scenario.hpp"
#include "herd/model/workload.hpp"

namespace herd::sim {

/// Who takes part in a collective: one of the plan's axes, or DP x CP (gradient reduction).
enum class CommGroup : std::uint8_t { tp, cp, pp, dp, dp_cp };
inline constexpr int kCommGroups = 5;

/// The stream a group's collectives run on (DP x CP shares the data-parallel stream).
constexpr model::Stream stream_of(CommGroup g) {
  switch (g) {
    case CommGroup::tp: return model::Stream::tp_comm;
    case CommGroup::cp: return model::Stream::cp_comm;
    case CommGroup::pp: return model::Stream::pp_comm;
    case CommGroup::dp:
    case CommGroup::dp_cp: break;
  }
  return model::Stream::dp_comm;
}

enum class StepOpKind : std::uint8_t {
  compute,     ///< runs on the compute stream for `seconds` (longer while communication overlaps)
  collective,  ///< a collective over `group` on `stream`
  send,        ///< pipeline send of `bytes` to the stage holding chunk `peer_chunk` (asynchronous)
  recv,        ///< wait until the matching send from chunk `peer_chunk` has arrived
  wait_start,  ///< wait until op `dep` of the stage's step_start program has finished
  drain,       ///< wait until every communication this rank issued has finished
  wait_send,   ///< wait until op `dep` of this program (a blocking pipeline send) has finished
};

struct StepOp {
  const model::Op* op = nullptr;  ///< description (shape, FLOPs, name); shared, owned by the StepPlan
  StepOpKind kind = StepOpKind::compute;
  model::Stream stream = model::Stream::compute;
  CommGroup group = CommGroup::tp;
  double seconds = 0;   ///< compute: uncontended duration on this GPU
  double bytes = 0;     ///< collective (nccl-tests size) or send
  int dep = -1;         ///< index in the same work program of an op that must finish first (-1: none)
  int dep2 = -1;        ///< a second such op (ZeRO-3: the gathered parameters)
  int peer_chunk = -1;  ///< send/recv: the chunk on the other side
  int net = -1;         ///< collective over more than one rank, or send: its entry in StepPlan::net_ops
  int layer = -1;       ///< the model layer the op computes or communicates for (-1: embedding, output, others)
};

/// A network operation of the step, as the communication models prepare it: a collective of one
/// stage's groups of a kind, or the pipeline transfer from one stage to another.
struct NetOp {
  bool transfer = false;
  CommGroup group = CommGroup::tp;  ///< collective: who takes part
  model::Collective op = model::Collective::all_reduce;
  int stage = 0;                    ///< the stage that issues it (transfer: the sender)
  int to_stage = -1;                ///< transfer: the receiver
  double bytes = 0;                 ///< collective: nccl-tests size; transfer: message size
};

/// The ops of one piece of work (or of the step's start or end).
struct WorkProgram {
  std::vector<StepOp> ops;
  /// For a compute op i: the last op of the run of compute ops starting at i that only wait for
  /// their predecessor and that nothing else waits for, so they can run as one activity.
  std::vector<std::int32_t> run_end;
  double model_flops = 0;     ///< counted for MFU
  double hardware_flops = 0;  ///< executed
};

/// Everything one pipeline stage runs in a step.
struct StageProgram {
  int stage = 0;
  std::vector<model::ScheduledWork> order;
  std::vector<WorkProgram> forward;        ///< by virtual chunk
  std::vector<WorkProgram> backward;       ///< by virtual chunk, micro-batches that do not sync gradients
  std::vector<WorkProgram> backward_sync;  ///< by virtual chunk, the micro-batch(es) that reduce gradients
  std::vector<WorkProgram> weight_grad;    ///< zero-bubble W work, by virtual chunk (sync variant in backward_sync)
  WorkProgram step_start;                  ///< parameter gathers issued when the step begins
  WorkProgram step_end;                    ///< after the last work: wait for gradients, optimizer, parameter gather
  std::vector<int> chunk_index;            ///< virtual chunk -> global chunk index
  /// A chunk's backward (or W) of micro-batch m reduces gradients when (m + 1) is a multiple of
  /// sync_period or m is the step's last micro-batch (1: every micro-batch).
  int sync_period = 1;
  int microbatches = 1;
  bool syncs(int microbatch) const { return (microbatch + 1) % sync_period == 0 || microbatch + 1 == microbatches; }
  /// The program that runs `work` (the gradient-reducing variant on a micro-batch that syncs).
  const WorkProgram& program(const model::ScheduledWork& work) const {
    const auto v = static_cast<std::size_t>(work.virtual_index);
    const bool sync = syncs(work.microbatch);
    if (work.work == model::Work::forward) return forward[v];
    if (work.work == model::Work::backward) return (sync && weight_grad.empty()) ? backward_sync[v] : backward[v];
    return sync ? backward_sync[v] : weight_grad[v];
  }
};

/// Micro-batches between a chunk's gradient reductions (StageProgram::sync_period): 1 per
/// micro-batch, the step's `microbatches` per step, or the schedule's round per round (llama3: N;
/// interleaved: pp; other schedules: the step).
int gradient_sync_period(const model::PlanSpec& p, int microbatches);

/// The lowered step for the whole plan: one StageProgram per pipeline stage.
struct StepPlan {
  std::vector<StageProgram> stages;
  std::vector<model::Chunk> chunks;
  double activation_bytes = 0;           ///< pipeline send size per micro-batch
  double model_flops_per_step = 0;       ///< whole cluster
  double hardware_flops_per_step = 0;    ///< whole cluster
  double tokens_per_step = 0;
  /// Every distinct network operation (StepOp::net indexes it), in order of first appearance.
  std::vector<NetOp> net_ops;
  std::vector<std::unique_ptr<model::Op>> op_storage;               ///< ops referenced by StepOp::op
  std::vector<std::unique_ptr<std::vector<model::Op>>> op_tables;    ///< op templates referenced by StepOp::op
};

/// Lowers `s`; `cost` gives compute durations. Pure function of its inputs (re-entrant).
StepPlan lower_step(const model::Scenario& s, const model::ComputeCostModel& cost);

/// Group size of a CommGroup under the plan.
int group_size(const model::PlanSpec& p, CommGroup g);

}  // namespace herd::sim
