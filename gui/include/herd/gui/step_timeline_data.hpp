#pragma once
// A simulated step's spans, stored for drawing: one lane per (simulated rank, stream), each lane's
// spans sorted by start in struct-of-arrays form (26 bytes a span, against the trace's 56), and
// the rows a timeline shows: the pipeline stages in symmetric mode; in per-rank mode every rank,
// grouped by stage and node, each group collapsible to one aggregate lane per stream. What a
// repaint draws comes from `marks`: at most about two marks per pixel column and lane, however
// many spans lie under it. Plain C++ (no Qt), so it is built on the worker thread and tested alone.
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "herd/gui/power_curve.hpp"
#include "herd/gui/span_column.hpp"
#include "herd/gui/time_axis.hpp"
#include "herd/model/placement.hpp"
#include "herd/model/scenario.hpp"
#include "herd/sim/step/step_report.hpp"
#include "herd/sim/step/trace_sink.hpp"

namespace herd::gui {

inline constexpr int kStreams = 5;  ///< model::Stream: compute, tp_comm, cp_comm, pp_comm, dp_comm

/// What colour an op gets: compute ops by kind, communication by group.
enum class OpStyle : std::uint8_t { gemm, attention, elementwise, embedding, optimizer, tp, cp, pp, dp, idle };
inline constexpr int kOpStyles = 10;
std::string_view to_string(OpStyle s);

/// Something to draw on one lane, in pixels of the axis it was made for.
struct Mark {
  float x0 = 0, x1 = 0;
  std::int64_t span = -1;   ///< the span drawn (the longest, for a run of merged narrow spans); -1: none
  OpStyle style = OpStyle::idle;
  std::uint8_t level = 255; ///< aggregate lanes: share of the group's ranks busy (0-255)
  bool merged = false;      ///< several spans under one pixel column
  bool backward = false;
};

/// Everything known about one span, for a tooltip or the selection panel.
struct SpanInfo {
  int rank = 0;
  model::Stream stream = model::Stream::compute;
  std::string op;
  model::OpKind kind = model::OpKind::elementwise;
  model::Pass pass = model::Pass::forward;
  double start_s = 0, end_s = 0;
  double bytes = 0;        ///< communication size
  double flops = 0;        ///< hardware FLOPs of the op
  double hbm_bytes = 0;
  int microbatch = -1, chunk = -1;
  int layer = -1;          ///< model layer, -1 when the op belongs to none
  bool backward = false;
  sim::CommGroup group = sim::CommGroup::tp;
  std::string describe() const;  ///< several lines: op, pass, micro-batch, start, duration, size, rate
};

/// The fields of a span as the store keeps them (26 bytes a span), one container of each.
template <template <class> class C>
struct SpanFields {
  C<double> start;
  C<float> duration;
  C<float> bytes;
  C<std::int32_t> op;
  C<std::int16_t> microbatch;
  C<std::int8_t> chunk;
  C<std::int16_t> layer;
  C<std::uint8_t> style;  ///< OpStyle | backward << 4 | CommGroup << 5

  /// `f` on each container, in the order above.
  template <class F>
  void each(F&& f) {
    f(start), f(duration), f(bytes), f(op), f(microbatch), f(chunk), f(layer), f(style);
  }
  template <class F>
  void each(F&& f) const {
    f(start), f(duration), f(bytes), f(op), f(microbatch), f(chunk), f(layer), f(style);
  }
};

/// A step's spans as they stream from the simulation (app::SimulateRequest::trace_sink), kept in
/// the store's compact form plus their lane (30 bytes a span) instead of the report's trace (56),
/// for StepTimelineData to sort into lanes. Past `spill_above` spans they go to temporary files
/// (span_column.hpp), and so does the store built from them: the process's memory then stays the
/// same however many spans the step has.
class StepTimelineSpans : public sim::TraceSink {
 public:
  /// 16 Mi spans: about 480 MB in memory; a 1,024-GPU per-rank step of Llama 3 405B has 5 M, a
  /// 16,384-GPU one 81 M.
  static constexpr std::size_t kSpillAbove = std::size_t{1} << 24;
  /// `dir`: where the temporary files go (empty: the system's temporary directory).
  explicit StepTimelineSpans(std::size_t spill_above = kSpillAbove, std::filesystem::path dir = {})
      : spill_above_(spill_above), dir_(std::move(dir)) {}
  void span(const sim::TraceSpan& span, const sim::TraceOp& op) override;
  std::size_t size() const { return lane_.size(); }
  bool spilled() const { return lane_.spilled(); }

 private:
  friend class StepTimelineData;
  void spill();
  SpanFields<ColumnWriter> fields_;
  ColumnWriter<std::uint32_t> lane_;  ///< simulated rank x kStreams + stream
  int ranks_ = 0;                     ///< highest simulated rank seen + 1
  std::size_t spill_above_;
  std::filesystem::path dir_;
};

class StepTimelineData {
 public:
  /// One tree node: a simulated rank (a leaf) or a group of them (stage, node).
  struct Node {
    std::string label;
    int rank = -1;                 ///< leaves: the simulated rank
    std::vector<int> children;     ///< groups: node indices
    std::vector<int> ranks;        ///< groups: every rank under it
    std::uint8_t streams = 0;      ///< bit per stream with spans
    bool expanded = false;
    bool critical = false;         ///< holds the rank that finished last
  };
  /// A row as shown: a leaf's lanes, a collapsed group's aggregate lanes, or an expanded group's title.
  struct Row {
    int node = 0;
    int depth = 0;
    std::vector<model::Stream> lanes;  ///< empty: a title row
  };

  StepTimelineData() = default;
  /// Takes the report's trace; `scenario` places ranks on stages and nodes in per-rank mode (a
  /// scenario whose plan has another number of GPUs: the ranks in one flat list). `names` keeps
  /// the ops' names alive when they are not static (a step read from a file).
  StepTimelineData(const sim::StepReport& report, const model::Scenario& scenario,
                   std::shared_ptr<const void> names = nullptr);
  /// The same from spans that streamed (`report`'s trace is empty; its trace_ops name the ops).
  /// Takes the spans' memory as it sorts them, so the peak is the store and one field's copy.
  StepTimelineData(StepTimelineSpans&& spans, const sim::StepReport& report, const model::Scenario& scenario,
                   std::shared_ptr<const void> names = nullptr);

  double step_time_s() const { return step_time_s_; }
  bool per_rank() const { return per_rank_; }
  std::size_t spans() const { return f_.start.size(); }
  int ranks() const { return ranks_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<int>& roots() const { return roots_; }
  void set_expanded(int node, bool expanded);
  void expand_all(bool expanded);
  /// The rows of the tree as it is expanded now, in order.
  std::vector<Row> rows() const;

  /// Marks of a leaf's lane: spans at least a pixel wide one each, narrower ones merged per pixel
  /// column; `idle` gets the compute lane's gaps, styled by what the rank waits for: the TP, CP or
  /// DP stream busy for at least half the gap (exposed communication), else OpStyle::idle (the
  /// pipeline: bubble, or a transfer from the next stage).
  void marks(int rank, model::Stream stream, const TimeAxis& axis, std::vector<Mark>& out,
             std::vector<Mark>* idle = nullptr) const;
  /// Marks of a group's aggregate lane: the share of its ranks busy on `stream`, per pixel column,
  /// equal neighbours merged. Computed once per group and stream at kAggregateBuckets over the
  /// step, when first shown (memory grows with what has been looked at).
  void aggregate_marks(int node, model::Stream stream, const TimeAxis& axis, std::vector<Mark>& out) const;
  static constexpr int kAggregateBuckets = 4096;

  /// The mark a leaf's lane draws at pixel `x` (what `marks` drew there), if any.
  std::optional<Mark> mark_at(int rank, model::Stream stream, const TimeAxis& axis, double x) const;
  /// The span shown at pixel `x`: the mark's span (the longest of a merged run).
  std::optional<std::int64_t> pick(int rank, model::Stream stream, const TimeAxis& axis, double x) const;
  SpanInfo info(std::int64_t span) const;
  /// The busy time of `rank` on `stream`, seconds (spans of one stream do not overlap in time on
  /// the compute stream; communication streams may, and are summed).
  double busy_s(int rank, model::Stream stream) const;
  /// Compute busy time of `rank` by pass (forward, backward, recompute, optimizer).
  std::array<double, 4> compute_by_pass(int rank) const;
  /// The same per pipeline stage (a root row): per-rank mode averages over the stage's GPUs.
  std::vector<std::array<double, 4>> compute_by_pass_per_stage() const;

  /// The cluster's power through the step, for the lane under the timeline, and one GPU's of each
  /// simulated rank, for a lane in its row (steps of at most sim::StepPower::kMaxRankSeries
  /// simulated ranks have them). Copies of this data share it.
  struct Power {
    sim::StepPower step;   ///< summary, bins and their resolution (rank_w moved to rank_points)
    PowerPoints points;    ///< the bins as a step function over the step
    PowerExtremes extremes;
    double lo_w = 0, hi_w = 0;  ///< lowest and highest bin
    std::vector<PowerPoints> rank_points;  ///< by simulated rank: one GPU's bins; empty: none
    double rank_hi_w = 0;                  ///< highest bin of any rank's GPU
  };
  /// One GPU's power of simulated rank `rank` through the step (null: not kept).
  const PowerPoints* rank_power(int rank) const;
  void set_power(sim::StepPower power);
  /// Null: the step has no power (not simulated with it, or a saved step without its counters).
  const std::shared_ptr<const Power>& power() const { return power_; }

  /// The critical path: the chain of ops that made the step as long as it is, walked back from
  /// the op that ends last. Each op's predecessor is the one whose end let it start: on its own
  /// rank (the stream before it, or a stream it waited for), else the pipeline neighbour whose
  /// send arrived then; a collective is joined, per rank, at the member that reached it last (the
  /// others waited). Where no op ends as the next starts, the chain goes on from the rank's op that
  /// ended last before, and the gap counts as waiting. Found from the spans' times alone (the
  /// trace carries no dependencies), to within float rounding of their durations.
  struct CriticalPath {
    std::vector<std::int64_t> spans;  ///< in time order
    std::vector<std::uint32_t> lanes; ///< each span's lane: simulated rank x kStreams + stream
    double compute_s = 0;             ///< compute ops on the path
    std::array<double, 4> comm_s{};   ///< TP, CP, PP, DP communication on the path
    double waiting_s = 0;             ///< gaps between its ops (and before the first)
    int rank_changes = 0;             ///< steps from one simulated rank to another
  };
  const CriticalPath& critical_path() const { return critical_; }
  /// Whether span `span` is on the critical path.
  bool on_critical_path(std::int64_t span) const;
  /// The critical path's ops on a leaf's or a group's lane of `stream`, one mark per run of them
  /// closer than a pixel (computed per node when first shown).
  void critical_marks(int node, model::Stream stream, const TimeAxis& axis, std::vector<Mark>& out) const;
  /// The simulated rank and stream of span `span`.
  int rank_of(std::int64_t span) const;
  model::Stream stream_of(std::int64_t span) const;
  double end_of(std::int64_t span) const { return f_.start[static_cast<std::size_t>(span)] + f_.duration[static_cast<std::size_t>(span)]; }
  double start_of(std::int64_t span) const { return f_.start[static_cast<std::size_t>(span)]; }

  /// Bytes of memory held: spans kept in memory, lanes, tree and the aggregates computed so far.
  std::size_t memory_bytes() const;
  /// Bytes of spans kept in temporary files instead (StepTimelineSpans::kSpillAbove), mapped.
  std::size_t mapped_bytes() const;

 private:
  OpStyle waiting_for(int rank, double t0, double t1) const;
  std::size_t lane_of(std::int64_t span) const;
  void find_critical_path(const model::RankLayout* layout, int critical_rank);
  /// The span of lane `l` that starts before `before_s` and ends at `t` (within rounding), if any.
  std::optional<std::int64_t> ending_at(std::size_t l, double t, double before_s) const;
  std::size_t lane(int rank, model::Stream s) const { return static_cast<std::size_t>(rank) * kStreams + static_cast<std::size_t>(s); }

  double step_time_s_ = 0;
  bool per_rank_ = false;
  int ranks_ = 0;
  // Spans, lane by lane, sorted by start within a lane; in memory or mapped from a temporary file.
  SpanFields<Column> f_;
  std::vector<std::uint32_t> lane_begin_;  ///< ranks x kStreams + 1
  std::vector<float> lane_longest_;        ///< longest span per lane, for the search of the first visible one
  std::vector<sim::TraceOp> ops_;
  std::shared_ptr<const void> names_;  ///< what ops_' names point into, when not static storage
  std::vector<Node> nodes_;
  std::vector<int> roots_;
  mutable std::unordered_map<std::size_t, std::vector<std::uint8_t>> aggregates_;
  std::shared_ptr<const Power> power_;
  CriticalPath critical_;
  std::vector<std::int64_t> critical_sorted_;  ///< the path's spans by index, for on_critical_path
  /// The path's spans under a node, by stream (from CriticalPath::lanes: a repaint searches nothing).
  mutable std::unordered_map<int, std::array<std::vector<std::int64_t>, kStreams>> critical_by_node_;
};

}  // namespace herd::gui
