#pragma once
// Training between two interruptions: cycles of `interval` training then a checkpoint stall. A
// checkpoint's snapshot is taken when its stall starts; it can be restored once the stall and the
// durable lag (async: the background write) are over. Everything here is closed form in the time
// since the segment started, so a trial costs O(interruptions), not O(checkpoints).
#include "herd/engine/time.hpp"
#include "herd/sim/run/run_model.hpp"
#include "herd/sim/run/timeline.hpp"

namespace herd::sim::run {

struct SegmentProgress {
  double kept_s = 0;   ///< training time whose progress survives
  double lost_s = 0;   ///< training time since the last durable checkpoint (rollback only)
  double stall_s = 0;  ///< checkpoint stalls
  std::int64_t durable_checkpoints = 0;
};

class Segment {
 public:
  Segment(const RunModel& model, double interval_s);

  /// Progress `elapsed` ns after the segment started; with `rollback`, only what a durable
  /// checkpoint holds is kept.
  SegmentProgress progress(engine::Time elapsed, bool rollback) const;
  /// Time after the segment's start when `tokens` reach the budget at `capacity`, or
  /// kTimeNever when not before `limit`.
  engine::Time finish_offset(double tokens, double capacity, engine::Time limit) const;
  /// Appends the segment's training and checkpoint spans and phase starts to `timeline`.
  void record(RunTimeline& timeline, engine::Time start, engine::Time elapsed, double tokens, double capacity) const;

 private:
  void record_training(RunTimeline& timeline, engine::Time from, engine::Time to, double& tokens, double capacity) const;

  const RunModel& model_;
  engine::Time interval_, stall_, lag_, cycle_;
};

}  // namespace herd::sim::run
