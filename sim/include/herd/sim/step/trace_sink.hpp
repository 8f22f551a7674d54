#pragma once
// Where a step's spans go as the simulation produces them (StepOptions::trace_sink), instead of
// StepReport::trace: a trace written to disk as it grows, the power's per-GPU timeline, both. A
// sink sees the spans in the order StepReport::trace would hold them (completion order), so what
// it builds is what it would build from the report. While spans stream, the sink also hears of each
// op as it starts (started), so that a sink can follow every rank through time without keeping its
// spans: starts and ends then come in the order of time.
#include <vector>

#include "herd/sim/step/step_report.hpp"

namespace herd::sim {

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  /// One op on one stream of one simulated rank; span.op indexes the step's ops, `op` is it.
  virtual void span(const TraceSpan& span, const TraceOp& op) = 0;
  /// The op `op` starts at `t` on `stream` of simulated rank `rank`; its span() follows when it
  /// ends. Called only while spans stream from the executor: spans handed over after a step whose
  /// steady-state periods were replicated (StepOptions::skip_repeats) come without it.
  virtual void started(int /*rank*/, model::Stream /*stream*/, const TraceOp& /*op*/, double /*t*/) {}
};

/// Passes every span to each of several sinks, in the order given.
class TraceTee : public TraceSink {
 public:
  explicit TraceTee(std::vector<TraceSink*> sinks) : sinks_(std::move(sinks)) {}
  void span(const TraceSpan& span, const TraceOp& op) override {
    for (TraceSink* s : sinks_) s->span(span, op);
  }
  void started(int rank, model::Stream stream, const TraceOp& op, double t) override {
    for (TraceSink* s : sinks_) s->started(rank, stream, op, t);
  }

 private:
  std::vector<TraceSink*> sinks_;
};

}  // namespace herd::sim
