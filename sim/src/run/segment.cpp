#include "segment.hpp"

#include <algorithm>

namespace herd::sim::run {

using engine::Time;

Segment::Segment(const RunModel& model, double interval_s)
    : model_(model),
      interval_(std::max<Time>(1, engine::from_seconds(interval_s))),
      stall_(engine::from_seconds(model.checkpoint.stall_s)),
      lag_(engine::from_seconds(model.checkpoint.durable_lag_s)),
      cycle_(interval_ + stall_) {}

SegmentProgress Segment::progress(Time elapsed, bool rollback) const {
  const Time cycles = elapsed / cycle_, into = elapsed % cycle_;
  const Time useful = cycles * interval_ + std::min(into, interval_);
  const Time stalled = cycles * stall_ + std::max<Time>(0, into - interval_);
  // Checkpoint j (from 1) is snapshot at j cycles minus the stall and restorable at j cycles + lag.
  const Time durable = elapsed >= lag_ ? (elapsed - lag_) / cycle_ : 0;
  SegmentProgress p;
  const Time kept = rollback ? durable * interval_ : useful;
  p.kept_s = engine::to_seconds(kept);
  p.lost_s = engine::to_seconds(useful - kept);
  p.stall_s = engine::to_seconds(stalled);
  p.durable_checkpoints = static_cast<std::int64_t>(durable);
  return p;
}

Time Segment::finish_offset(double tokens, double capacity, Time limit) const {
  const double useful_s = model_.useful_to_reach(tokens, model_.token_budget, capacity);
  if (!(useful_s < engine::to_seconds(limit))) return engine::kTimeNever;
  const Time useful = engine::from_seconds_ceil(useful_s);
  const Time stalls = useful > 0 ? (useful - 1) / interval_ : 0;  // checkpoints started before the end
  // Past 64-bit time is past any limit: a 1 ns interval with a stall of seconds never finishes.
  Time offset = 0;
  if (__builtin_mul_overflow(stalls, stall_, &offset) || __builtin_add_overflow(offset, useful, &offset))
    return engine::kTimeNever;
  return offset < limit ? offset : engine::kTimeNever;
}

void Segment::record_training(RunTimeline& timeline, Time from, Time to, double& tokens, double capacity) const {
  while (from < to) {
    const std::size_t phase = model_.phase_at(tokens);
    const double to_next = model_.useful_to_reach(tokens, model_.phases[phase].end_tokens, capacity);
    const bool crosses = to_next < engine::to_seconds(to - from) && phase + 1 < model_.phases.size();
    const Time end = crosses ? std::min(to, from + engine::from_seconds(to_next)) : to;
    timeline.spans.push_back({SpanKind::train, engine::to_seconds(from), engine::to_seconds(end), int(phase)});
    if (crosses) {
      tokens = model_.phases[phase].end_tokens;  // exactly, so the next phase is found
      timeline.events.push_back({EventKind::phase_start, engine::to_seconds(end), std::to_string(phase + 1), ""});
    } else {
      tokens = model_.tokens_after(tokens, engine::to_seconds(end - from), capacity);
    }
    from = end;
  }
}

void Segment::record(RunTimeline& timeline, Time start, Time elapsed, double tokens, double capacity) const {
  for (Time at = 0; at < elapsed; at += cycle_) {
    const Time train_end = std::min(elapsed, at + interval_);
    record_training(timeline, start + at, start + train_end, tokens, capacity);
    if (train_end < elapsed && stall_ > 0)
      timeline.spans.push_back({SpanKind::checkpoint, engine::to_seconds(start + train_end),
                                engine::to_seconds(start + std::min(elapsed, at + cycle_)), 0});
  }
}

}  // namespace herd::sim::run
