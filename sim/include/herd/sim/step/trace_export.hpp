#pragma once
// Chrome trace-event JSON (opens in Perfetto and chrome://tracing): one process per simulated rank,
// one thread per stream, a complete event ("ph": "X") per op with its shape, FLOPs, bytes, group.
#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "herd/model/io.hpp"
#include "herd/sim/power/step_power.hpp"
#include "herd/sim/step/step_report.hpp"
#include "herd/sim/step/trace_sink.hpp"

namespace herd::sim {

/// With `power`, a process "power" carries counter tracks: the cluster's IT power (MW) and, up to
/// StepPower::kMaxRankSeries ranks, one GPU's draw per simulated rank (W).
std::string chrome_trace_json(const StepReport& report, const StepPower* power = nullptr);

/// Which simulated ranks and streams a trace file keeps; by default all. What it leaves out is
/// left out of the file only: the step, its report and its power are the same.
struct TraceFilter {
  std::vector<int> ranks;  ///< empty: every rank
  std::array<bool, model::kStreams> streams{true, true, true, true, true};
  bool keeps_rank(int rank) const;
  bool keeps(const TraceSpan& span) const { return streams[static_cast<std::size_t>(model::index_of(span.stream))] && keeps_rank(span.rank); }
};

/// The same trace as chrome_trace_json, written to `path` as the step runs (a TraceSink for
/// StepOptions::trace_sink): each span becomes an event line in a buffered temporary file beside
/// `path`, renamed over it by finish(); memory stays the same however many spans there are.
/// The events are those of chrome_trace_json, in the same order (a filter drops some); the
/// document's keys differ in order only ("traceEvents" first), and each event is on a line of its
/// own. Destroyed without finish() (an error, a cancelled step), it leaves `path` as it was.
class ChromeTraceWriter : public TraceSink {
 public:
  /// `ranks`: the step's simulated ranks (StepReport::simulated_ranks), `per_rank` its mode.
  /// Throws std::runtime_error naming `path` when it cannot be written.
  ChromeTraceWriter(const std::filesystem::path& path, const std::string& scenario, int ranks, bool per_rank,
                    TraceFilter filter = {});
  void span(const TraceSpan& span, const TraceOp& op) override;
  /// Closes the trace: the power's counters when given, the step's time; renames the file over
  /// `path`. Throws std::runtime_error naming it when it cannot be written.
  void finish(double step_time_s, const StepPower* power = nullptr);
  /// Bytes written so far, and events (metadata, spans, counters).
  std::uint64_t bytes() const { return file_.size(); }
  std::uint64_t events() const { return events_; }

 private:
  void event(const nlohmann::json& e);
  model::AtomicFile file_;
  std::string scenario_;
  int ranks_;
  bool per_rank_;
  TraceFilter filter_;
  std::vector<bool> keep_rank_;
  std::uint64_t events_ = 0;
  std::string line_;
};

}  // namespace herd::sim
