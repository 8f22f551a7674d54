#include "herd/gui/step_timeline_data.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "herd/model/placement.hpp"

namespace herd::gui {

namespace {

OpStyle style_of(const sim::TraceSpan& s, const sim::TraceOp& op) {
  switch (s.stream) {
    case model::Stream::tp_comm: return OpStyle::tp;
    case model::Stream::cp_comm: return OpStyle::cp;
    case model::Stream::pp_comm: return OpStyle::pp;
    case model::Stream::dp_comm: return OpStyle::dp;
    case model::Stream::compute: break;
  }
  if (op.kind == model::OpKind::collective) {
    switch (s.group) {
      case sim::CommGroup::tp: return OpStyle::tp;
      case sim::CommGroup::cp: return OpStyle::cp;
      case sim::CommGroup::pp: return OpStyle::pp;
      case sim::CommGroup::dp:
      case sim::CommGroup::dp_cp: return OpStyle::dp;
    }
  }
  switch (op.kind) {
    case model::OpKind::gemm: return OpStyle::gemm;
    case model::OpKind::attention: return OpStyle::attention;
    case model::OpKind::embedding:
    case model::OpKind::loss: return OpStyle::embedding;
    case model::OpKind::optimizer: return OpStyle::optimizer;
    default: return OpStyle::elementwise;
  }
}

std::string with_digits(long long v) {
  const std::string digits = std::to_string(v);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

std::string_view to_string(OpStyle s) {
  static constexpr std::string_view kNames[] = {"GEMM", "attention", "element-wise", "embedding, loss", "optimizer",
                                                "TP comm", "CP comm", "PP comm", "DP comm", "idle"};
  return kNames[static_cast<int>(s)];
}

void StepTimelineSpans::span(const sim::TraceSpan& s, const sim::TraceOp& op) {
  if (!lane_.spilled() && lane_.size() >= spill_above_) spill();
  fields_.start.push_back(s.start_s);
  fields_.duration.push_back(static_cast<float>(s.end_s - s.start_s));
  fields_.bytes.push_back(static_cast<float>(s.bytes));
  fields_.op.push_back(s.op);
  fields_.microbatch.push_back(static_cast<std::int16_t>(std::clamp(s.microbatch, -1, 32767)));
  fields_.chunk.push_back(static_cast<std::int8_t>(std::clamp(s.chunk, -1, 127)));
  fields_.layer.push_back(static_cast<std::int16_t>(std::clamp(s.layer, -1, 32767)));
  const OpStyle st = style_of(s, op);
  fields_.style.push_back(static_cast<std::uint8_t>(static_cast<int>(st) | (s.backward ? 16 : 0) | (static_cast<int>(s.group) << 5)));
  lane_.push_back(static_cast<std::uint32_t>(s.rank) * kStreams + static_cast<std::uint32_t>(s.stream));
  ranks_ = std::max(ranks_, s.rank + 1);
}

void StepTimelineSpans::spill() {
  fields_.each([&](auto& column) { column.spill(dir_); });
  lane_.spill(dir_);
}

namespace {

StepTimelineSpans spans_of(const sim::StepReport& report) {
  StepTimelineSpans spans;
  for (const auto& s : report.trace) spans.span(s, report.trace_ops.at(static_cast<std::size_t>(s.op)));
  return spans;
}

/// `in` in the order `order` gives (in[order[k]] goes to k): in memory, or in a temporary file in
/// `dir` when `spill`.
template <class T>
Column<T> permuted(const Column<T>& in, const std::vector<std::uint32_t>& order, bool spill, const std::filesystem::path& dir) {
  ColumnWriter<T> out;
  if (spill) out.spill(dir);
  else out.reserve(order.size());
  for (const std::uint32_t i : order) out.push_back(in[i]);
  return out.finish();
}

}  // namespace

StepTimelineData::StepTimelineData(const sim::StepReport& report, const model::Scenario& scenario, std::shared_ptr<const void> names)
    : StepTimelineData(spans_of(report), report, scenario, std::move(names)) {}

StepTimelineData::StepTimelineData(StepTimelineSpans&& spans, const sim::StepReport& report, const model::Scenario& scenario,
                                   std::shared_ptr<const void> names)
    : step_time_s_(report.step_time_s > 0 ? report.step_time_s : 1),
      per_rank_(report.per_rank),
      ops_(report.trace_ops),
      names_(std::move(names)) {
  ranks_ = std::max(report.simulated_ranks, spans.ranks_);
  const std::size_t lanes = static_cast<std::size_t>(ranks_) * kStreams;
  const std::size_t n = spans.size();
  if (n >= std::numeric_limits<std::uint32_t>::max()) throw std::length_error("a step of 2^32 spans or more cannot be shown");
  const bool spill = spans.spilled();

  // Counting sort by lane (stable: arrival order), then by start within each lane; then each
  // field in that order, one at a time, each input released as soon as it is copied.
  std::vector<std::uint32_t> order(n);
  {
    const Column<std::uint32_t> lane_of_span = spans.lane_.finish();
    lane_begin_.assign(lanes + 1, 0);
    for (std::uint32_t l : lane_of_span) ++lane_begin_[l + 1];
    std::partial_sum(lane_begin_.begin(), lane_begin_.end(), lane_begin_.begin());
    std::vector<std::uint32_t> next(lane_begin_.begin(), lane_begin_.end() - 1);
    for (std::uint32_t i = 0; i < n; ++i) order[next[lane_of_span[i]]++] = i;
  }
  const std::filesystem::path& dir = spans.dir_;
  {
    const Column<double> start = spans.fields_.start.finish();
    for (std::size_t l = 0; l < lanes; ++l)
      std::stable_sort(order.begin() + lane_begin_[l], order.begin() + lane_begin_[l + 1],
                       [&](std::uint32_t a, std::uint32_t b) { return start[a] < start[b]; });
    f_.start = permuted(start, order, spill, dir);
  }
  f_.duration = permuted(spans.fields_.duration.finish(), order, spill, dir);
  f_.bytes = permuted(spans.fields_.bytes.finish(), order, spill, dir);
  f_.op = permuted(spans.fields_.op.finish(), order, spill, dir);
  f_.microbatch = permuted(spans.fields_.microbatch.finish(), order, spill, dir);
  f_.chunk = permuted(spans.fields_.chunk.finish(), order, spill, dir);
  f_.layer = permuted(spans.fields_.layer.finish(), order, spill, dir);
  f_.style = permuted(spans.fields_.style.finish(), order, spill, dir);
  order = {};

  lane_longest_.assign(lanes, 0);
  std::vector<std::uint8_t> streams(static_cast<std::size_t>(ranks_), 0);
  for (std::size_t l = 0; l < lanes; ++l) {
    for (std::size_t k = lane_begin_[l]; k < lane_begin_[l + 1]; ++k) lane_longest_[l] = std::max(lane_longest_[l], f_.duration[k]);
    if (lane_begin_[l + 1] > lane_begin_[l]) streams[l / kStreams] |= static_cast<std::uint8_t>(1u << (l % kStreams));
  }

  std::optional<model::RankLayout> layout;
  if (per_rank_ && scenario.plan.gpus() == ranks_) layout.emplace(scenario.plan, scenario.cluster);
  find_critical_path(layout ? &*layout : nullptr, report.critical_rank);

  // The tree: stages; in per-rank mode stage > node > rank.
  auto leaf = [&](int rank, std::string label) {
    Node node;
    node.label = std::move(label);
    node.rank = rank;
    node.streams = streams[static_cast<std::size_t>(rank)];
    node.critical = rank == report.critical_rank;
    nodes_.push_back(std::move(node));
    return static_cast<int>(nodes_.size()) - 1;
  };
  if (!layout) {
    for (int r = 0; r < ranks_; ++r) roots_.push_back(leaf(r, (per_rank_ ? "GPU " : "stage ") + with_digits(r)));
    return;
  }
  const int stages = std::max(1, scenario.plan.pp);
  std::vector<std::vector<int>> by_stage(static_cast<std::size_t>(stages));
  for (int r = 0; r < ranks_ && r < layout->ranks(); ++r)
    by_stage[static_cast<std::size_t>(layout->coords(r)[model::Axis::pp])].push_back(r);
  for (int s = 0; s < stages; ++s) {
    auto& members = by_stage[static_cast<std::size_t>(s)];
    Node stage;
    stage.label = "stage " + std::to_string(s) + " · " + with_digits(static_cast<long long>(members.size())) + " GPUs";
    stage.ranks = members;
    const int stage_index = static_cast<int>(nodes_.size());
    nodes_.push_back(stage);
    roots_.push_back(stage_index);
    std::vector<int> children;
    for (std::size_t i = 0; i < members.size();) {
      const int machine = layout->node(members[i]);
      Node group;
      group.label = "node " + with_digits(machine);
      while (i < members.size() && layout->node(members[i]) == machine) group.ranks.push_back(members[i++]);
      const int group_index = static_cast<int>(nodes_.size());
      nodes_.push_back(group);
      children.push_back(group_index);
      std::vector<int> leaves;
      for (int r : nodes_[static_cast<std::size_t>(group_index)].ranks)
        leaves.push_back(leaf(r, "GPU " + with_digits(r)));
      nodes_[static_cast<std::size_t>(group_index)].children = std::move(leaves);
    }
    nodes_[static_cast<std::size_t>(stage_index)].children = std::move(children);
  }
  // Groups: the streams and the critical flag of what they hold.
  for (auto& node : nodes_) {
    if (node.rank >= 0) continue;
    for (int r : node.ranks) {
      node.streams |= streams[static_cast<std::size_t>(r)];
      node.critical = node.critical || r == report.critical_rank;
    }
  }
}

void StepTimelineData::set_expanded(int node, bool expanded) { nodes_.at(static_cast<std::size_t>(node)).expanded = expanded; }

void StepTimelineData::expand_all(bool expanded) {
  for (auto& n : nodes_) n.expanded = expanded;
}

std::vector<StepTimelineData::Row> StepTimelineData::rows() const {
  std::vector<Row> out;
  auto lanes_of = [](std::uint8_t streams) {
    std::vector<model::Stream> lanes;
    for (int s = 0; s < kStreams; ++s)
      if (streams & (1u << s)) lanes.push_back(static_cast<model::Stream>(s));
    return lanes;
  };
  auto visit = [&](auto&& self, int index, int depth) -> void {
    const Node& node = nodes_[static_cast<std::size_t>(index)];
    if (node.rank >= 0 || !node.expanded) {
      out.push_back({index, depth, lanes_of(node.streams)});
      return;
    }
    out.push_back({index, depth, {}});
    for (int child : node.children) self(self, child, depth + 1);
  };
  for (int root : roots_) visit(visit, root, 0);
  return out;
}

void StepTimelineData::marks(int rank, model::Stream stream, const TimeAxis& axis, std::vector<Mark>& out,
                             std::vector<Mark>* idle) const {
  out.clear();
  if (idle) idle->clear();
  if (rank < 0 || rank >= ranks_) return;
  const std::size_t l = lane(rank, stream);
  const auto first = f_.start.begin() + lane_begin_[l], last = f_.start.begin() + lane_begin_[l + 1];
  if (first == last) return;
  const double t0 = axis.start_s(), t1 = axis.end_s();
  const float width = static_cast<float>(axis.width_px());
  // Spans starting before t0 - longest cannot reach the view.
  auto it = std::lower_bound(first, last, t0 - lane_longest_[l]);
  double prev_end = it == first ? -1 : f_.start[static_cast<std::size_t>(it - f_.start.begin()) - 1] +
                                           f_.duration[static_cast<std::size_t>(it - f_.start.begin()) - 1];
  if (it == first) prev_end = *first;  // no gap before the lane's first span
  Mark pending;
  bool has_pending = false;
  auto flush = [&] {
    if (has_pending) out.push_back(pending);
    has_pending = false;
  };
  for (; it != last && *it < t1; ++it) {
    const std::size_t k = static_cast<std::size_t>(it - f_.start.begin());
    const double end = *it + f_.duration[k];
    if (idle && end > prev_end) {
      const double g0 = axis.x_of(prev_end), g1 = axis.x_of(*it);
      if (g1 - g0 >= 1 && g1 > 0 && g0 < width)
        idle->push_back({static_cast<float>(std::max(g0, -1.0)), static_cast<float>(std::min(g1, width + 1.0)), -1,
                         waiting_for(rank, prev_end, *it)});
    }
    prev_end = std::max(prev_end, end);
    if (end <= t0) continue;
    const float x0 = static_cast<float>(std::max(axis.x_of(*it), -1.0));
    const float x1 = static_cast<float>(std::min(axis.x_of(end), width + 1.0));
    const OpStyle st = static_cast<OpStyle>(f_.style[k] & 15);
    const bool backward = f_.style[k] & 16;
    if (x1 - x0 >= 1) {
      if (has_pending && pending.x1 > x0) pending.x1 = std::floor(x0);
      if (has_pending && pending.x1 <= pending.x0) has_pending = false;
      flush();
      out.push_back({x0, x1, static_cast<std::int64_t>(k), st, 255, false, backward});
      continue;
    }
    const float col = std::floor(x0);
    if (has_pending && col <= pending.x1 + 1e-3f) {
      // The same or the next pixel column: extend the run; it shows its longest span.
      pending.x1 = std::max(pending.x1, col + 1);
      pending.merged = true;
      if (f_.duration[k] > f_.duration[static_cast<std::size_t>(pending.span)]) {
        pending.span = static_cast<std::int64_t>(k);
        pending.style = st;
        pending.backward = backward;
      }
      continue;
    }
    if (!out.empty() && !out.back().merged && out.back().x1 > col) {
      // Inside the last wide span's final pixel: that pixel already shows something.
      continue;
    }
    flush();
    pending = {col, col + 1, static_cast<std::int64_t>(k), st, 255, false, backward};
    has_pending = true;
  }
  flush();
  if (idle && it != last && *it > prev_end) {
    // The gap that runs on past the right edge.
    const double g0 = axis.x_of(prev_end);
    if (g0 < width && axis.x_of(*it) - g0 >= 1)
      idle->push_back({static_cast<float>(std::max(g0, -1.0)), width + 1, -1, waiting_for(rank, prev_end, *it)});
  }
}

OpStyle StepTimelineData::waiting_for(int rank, double t0, double t1) const {
  // The communication stream busiest during the gap, if it covers at least half of it.
  OpStyle reason = OpStyle::idle;
  double best = 0.5 * (t1 - t0);
  for (auto [stream, style] : {std::pair{model::Stream::tp_comm, OpStyle::tp}, std::pair{model::Stream::cp_comm, OpStyle::cp},
                               std::pair{model::Stream::dp_comm, OpStyle::dp}}) {
    const std::size_t l = lane(rank, stream);
    const auto first = f_.start.begin() + lane_begin_[l], last = f_.start.begin() + lane_begin_[l + 1];
    double covered = 0;
    for (auto it = std::lower_bound(first, last, t0 - lane_longest_[l]); it != last && *it < t1; ++it) {
      const std::size_t k = static_cast<std::size_t>(it - f_.start.begin());
      covered += std::max(0.0, std::min(t1, *it + f_.duration[k]) - std::max(t0, *it));
    }
    if (covered >= best) {
      best = covered;
      reason = style;
    }
  }
  return reason;
}

void StepTimelineData::aggregate_marks(int node_index, model::Stream stream, const TimeAxis& axis, std::vector<Mark>& out) const {
  out.clear();
  const Node& node = nodes_.at(static_cast<std::size_t>(node_index));
  if (node.ranks.empty()) return;
  const std::size_t key = static_cast<std::size_t>(node_index) * kStreams + static_cast<std::size_t>(stream);
  auto found = aggregates_.find(key);
  if (found == aggregates_.end()) {
    // Busy share per bucket, summed over the group's ranks.
    std::vector<double> busy(kAggregateBuckets, 0.0);
    const double bucket = step_time_s_ / kAggregateBuckets;
    for (int r : node.ranks) {
      const std::size_t l = lane(r, stream);
      for (std::size_t k = lane_begin_[l]; k < lane_begin_[l + 1]; ++k) {
        double a = f_.start[k] / bucket, b = (f_.start[k] + f_.duration[k]) / bucket;
        a = std::clamp(a, 0.0, double(kAggregateBuckets)); b = std::clamp(b, 0.0, double(kAggregateBuckets));
        for (int i = static_cast<int>(a); i < kAggregateBuckets && i < b; ++i)
          busy[static_cast<std::size_t>(i)] += std::min<double>(b, i + 1) - std::max<double>(a, i);
      }
    }
    std::vector<std::uint8_t> level(kAggregateBuckets);
    const double members = static_cast<double>(node.ranks.size());
    for (int i = 0; i < kAggregateBuckets; ++i)
      level[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(std::lround(255 * std::min(1.0, busy[static_cast<std::size_t>(i)] / members)));
    found = aggregates_.emplace(key, std::move(level)).first;
  }
  const auto& level = found->second;
  const OpStyle style = stream == model::Stream::compute ? OpStyle::gemm
                        : stream == model::Stream::tp_comm ? OpStyle::tp
                        : stream == model::Stream::cp_comm ? OpStyle::cp
                        : stream == model::Stream::pp_comm ? OpStyle::pp : OpStyle::dp;
  const double per_bucket = step_time_s_ / kAggregateBuckets;
  for (int x = 0; x < axis.width_px(); ++x) {
    // The busiest bucket under the column, so short bursts stay visible when zoomed out.
    const double a = axis.t_of(x) / per_bucket, b = axis.t_of(x + 1) / per_bucket;
    if (b <= 0 || a >= kAggregateBuckets) continue;
    int i0 = std::clamp(static_cast<int>(a), 0, kAggregateBuckets - 1);
    const int i1 = std::clamp(static_cast<int>(std::ceil(b)), i0 + 1, kAggregateBuckets);
    std::uint8_t v = 0;
    for (int i = i0; i < i1; ++i) v = std::max(v, level[static_cast<std::size_t>(i)]);
    const std::uint8_t q = static_cast<std::uint8_t>(v == 0 ? 0 : std::max(32, (v + 16) / 32 * 32 - 1));
    if (q == 0) continue;
    if (!out.empty() && out.back().x1 == static_cast<float>(x) && out.back().level == q) {
      out.back().x1 = static_cast<float>(x + 1);
      continue;
    }
    out.push_back({static_cast<float>(x), static_cast<float>(x + 1), -1, style, q, true, false});
  }
}

std::optional<Mark> StepTimelineData::mark_at(int rank, model::Stream stream, const TimeAxis& axis, double x) const {
  std::vector<Mark> drawn;
  marks(rank, stream, axis, drawn);
  for (const Mark& m : drawn)
    if (x >= m.x0 && x < std::max(m.x1, m.x0 + 1)) return m;
  return std::nullopt;
}

std::optional<std::int64_t> StepTimelineData::pick(int rank, model::Stream stream, const TimeAxis& axis, double x) const {
  const auto m = mark_at(rank, stream, axis, x);
  return m ? std::optional<std::int64_t>(m->span) : std::nullopt;
}

SpanInfo StepTimelineData::info(std::int64_t span) const {
  const auto k = static_cast<std::size_t>(span);
  SpanInfo i;
  const std::size_t l = static_cast<std::size_t>(std::upper_bound(lane_begin_.begin(), lane_begin_.end(), k) - lane_begin_.begin()) - 1;
  i.rank = static_cast<int>(l / kStreams);
  i.stream = static_cast<model::Stream>(l % kStreams);
  const sim::TraceOp& op = ops_.at(static_cast<std::size_t>(f_.op[k]));
  i.op = std::string(op.name);
  i.kind = op.kind;
  i.pass = op.pass;
  i.flops = op.flops;
  i.hbm_bytes = op.hbm_bytes;
  i.start_s = f_.start[k];
  i.end_s = f_.start[k] + f_.duration[k];
  i.bytes = f_.bytes[k];
  i.microbatch = f_.microbatch[k];
  i.chunk = f_.chunk[k];
  i.layer = f_.layer[k];
  i.backward = f_.style[k] & 16;
  i.group = static_cast<sim::CommGroup>(f_.style[k] >> 5);
  return i;
}

std::string SpanInfo::describe() const {
  std::string text = op + "\n";
  char line[160];
  const double d = end_s - start_s;
  text += std::string(model::to_string(stream)) + " stream, " +
          (stream == model::Stream::compute ? std::string(model::to_string(pass)) : std::string(sim::to_string(group)) + (backward ? ", backward" : ", forward"));
  if (microbatch >= 0) text += ", micro-batch " + std::to_string(microbatch);
  if (layer >= 0) text += ", layer " + std::to_string(layer);
  if (chunk >= 0) text += ", chunk " + std::to_string(chunk);
  text += "\nstart " + format_duration(start_s) + ", duration " + format_duration(d) + "\n";
  if (bytes > 0) {
    std::snprintf(line, sizeof line, "%s, %.1f GB/s\n", format_bytes(bytes).c_str(), d > 0 ? bytes / d / 1e9 : 0.0);
    text += line;
  }
  if (flops > 0) {
    std::snprintf(line, sizeof line, "%.4g GFLOP, %.0f TFLOP/s achieved\n", flops / 1e9, d > 0 ? flops / d / 1e12 : 0.0);
    text += line;
  }
  if (hbm_bytes > 0 && stream == model::Stream::compute) {
    std::snprintf(line, sizeof line, "HBM %s, %.0f GB/s\n", format_bytes(hbm_bytes).c_str(), d > 0 ? hbm_bytes / d / 1e9 : 0.0);
    text += line;
  }
  text.pop_back();
  return text;
}

double StepTimelineData::busy_s(int rank, model::Stream stream) const {
  const std::size_t l = lane(rank, stream);
  double total = 0;
  for (std::size_t k = lane_begin_[l]; k < lane_begin_[l + 1]; ++k) total += f_.duration[k];
  return total;
}

std::array<double, 4> StepTimelineData::compute_by_pass(int rank) const {
  std::array<double, 4> out{};
  const std::size_t l = lane(rank, model::Stream::compute);
  for (std::size_t k = lane_begin_[l]; k < lane_begin_[l + 1]; ++k)
    out[static_cast<std::size_t>(ops_[static_cast<std::size_t>(f_.op[k])].pass)] += f_.duration[k];
  return out;
}

std::vector<std::array<double, 4>> StepTimelineData::compute_by_pass_per_stage() const {
  std::vector<std::array<double, 4>> out;
  for (int root : roots_) {
    const Node& node = nodes_[static_cast<std::size_t>(root)];
    if (node.rank >= 0) {
      out.push_back(compute_by_pass(node.rank));
      continue;
    }
    std::array<double, 4> sum{};
    for (int r : node.ranks) {
      const auto one = compute_by_pass(r);
      for (std::size_t i = 0; i < 4; ++i) sum[i] += one[i] / static_cast<double>(node.ranks.size());
    }
    out.push_back(sum);
  }
  return out;
}

std::size_t StepTimelineData::mapped_bytes() const {
  std::size_t b = 0;
  f_.each([&](const auto& column) { b += column.mapped_bytes(); });
  return b;
}

std::size_t StepTimelineData::memory_bytes() const {
  std::size_t b = lane_begin_.capacity() * 4 + lane_longest_.capacity() * 4 + ops_.capacity() * sizeof(sim::TraceOp);
  f_.each([&](const auto& column) { b += column.heap_bytes(); });
  for (const auto& n : nodes_) b += sizeof(Node) + n.label.capacity() + n.children.capacity() * 4 + n.ranks.capacity() * 4;
  for (const auto& [k, v] : aggregates_) b += v.capacity() + 48;
  b += critical_.spans.capacity() * 8 + critical_.lanes.capacity() * 4 + critical_sorted_.capacity() * 8;
  for (const auto& [k, v] : critical_by_node_)
    for (const auto& lane : v) b += lane.capacity() * 8 + 24;
  if (power_) {
    b += sizeof(Power) + power_->step.cluster_w.capacity() * sizeof(double) + power_->points.capacity() * sizeof(sim::PowerPoint);
    for (const auto& r : power_->rank_points) b += sizeof(PowerPoints) + r.capacity() * sizeof(sim::PowerPoint);
  }
  return b;
}

void StepTimelineData::set_power(sim::StepPower power) {
  auto p = std::make_shared<Power>();
  for (const auto& bins : power.rank_w) {
    p->rank_points.push_back(step_power_points(power, bins));
    if (!bins.empty()) p->rank_hi_w = std::max(p->rank_hi_w, *std::max_element(bins.begin(), bins.end()));
  }
  power.rank_w = {};
  p->points = step_power_points(power);
  p->extremes = power_extremes(power);
  if (!power.cluster_w.empty()) {
    const auto [lo, hi] = std::minmax_element(power.cluster_w.begin(), power.cluster_w.end());
    p->lo_w = *lo;
    p->hi_w = *hi;
  }
  p->step = std::move(power);
  power_ = p->points.size() >= 2 ? std::move(p) : nullptr;
}

const PowerPoints* StepTimelineData::rank_power(int rank) const {
  if (!power_ || rank < 0 || rank >= static_cast<int>(power_->rank_points.size())) return nullptr;
  const PowerPoints& points = power_->rank_points[static_cast<std::size_t>(rank)];
  return points.size() >= 2 ? &points : nullptr;
}

// ---- The critical path ----------------------------------------------------------------------

namespace {

// How far apart an end and a start may lie and still be one event: durations are kept as floats
// (24 bits), starts as doubles.
double slack(float duration) { return 2e-9 + double(duration) * 2.5e-7; }

model::Axis axis_of(sim::CommGroup g) {
  switch (g) {
    case sim::CommGroup::tp: return model::Axis::tp;
    case sim::CommGroup::cp: return model::Axis::cp;
    case sim::CommGroup::pp: return model::Axis::pp;
    case sim::CommGroup::dp:
    case sim::CommGroup::dp_cp: return model::Axis::dp;
  }
  return model::Axis::dp;
}

}  // namespace

std::size_t StepTimelineData::lane_of(std::int64_t span) const {
  return static_cast<std::size_t>(std::upper_bound(lane_begin_.begin(), lane_begin_.end(), static_cast<std::uint32_t>(span)) -
                                  lane_begin_.begin() - 1);
}

int StepTimelineData::rank_of(std::int64_t span) const { return static_cast<int>(lane_of(span) / kStreams); }

model::Stream StepTimelineData::stream_of(std::int64_t span) const { return static_cast<model::Stream>(lane_of(span) % kStreams); }

std::optional<std::int64_t> StepTimelineData::ending_at(std::size_t l, double t, double before_s) const {
  const auto b = f_.start.begin() + lane_begin_[l], e = f_.start.begin() + lane_begin_[l + 1];
  // Spans starting before t; one ending at t started at most the lane's longest span earlier.
  const double earliest = t - double(lane_longest_[l]) - slack(lane_longest_[l]);
  for (auto it = std::lower_bound(b, e, std::min(t, before_s)); it != b;) {
    --it;
    if (*it < earliest) break;
    const auto k = static_cast<std::size_t>(it - f_.start.begin());
    if (f_.start[k] < before_s && std::fabs(f_.start[k] + f_.duration[k] - t) <= slack(f_.duration[k])) return static_cast<std::int64_t>(k);
  }
  return std::nullopt;
}

void StepTimelineData::find_critical_path(const model::RankLayout* layout, int critical_rank) {
  critical_ = {};
  if (f_.start.empty()) return;
  // The op that ends last: on the rank that finished last when known.
  std::int64_t cur = -1;
  double last_end = -1;
  for (int r = 0; r < ranks_; ++r) {
    if (critical_rank >= 0 && r != critical_rank) continue;
    for (int s = 0; s < kStreams; ++s) {
      const std::size_t l = lane(r, static_cast<model::Stream>(s));
      // Within a lane the last to end started at most the longest span before the last start.
      for (std::size_t k = lane_begin_[l + 1]; k > lane_begin_[l];) {
        --k;
        if (f_.start[k] + double(lane_longest_[l]) < last_end) break;
        if (end_of(static_cast<std::int64_t>(k)) > last_end) {
          last_end = end_of(static_cast<std::int64_t>(k));
          cur = static_cast<std::int64_t>(k);
        }
      }
    }
  }
  if (cur < 0) return;

  auto comm_group = [&](std::int64_t k) { return static_cast<sim::CommGroup>(f_.style[static_cast<std::size_t>(k)] >> 5); };
  std::vector<std::int64_t> chain;
  double later = std::numeric_limits<double>::infinity();  // the start of the op after: the path goes back in time
  for (;;) {
    int rank = rank_of(cur);
    const model::Stream stream = stream_of(cur);
    // Per rank, a collective runs once its last member has joined: the path goes through that one.
    if (layout && stream != model::Stream::compute && stream != model::Stream::pp_comm) {
      const double end = end_of(cur);
      for (int m : layout->group_of(rank, axis_of(comm_group(cur)))) {
        if (m == rank) continue;
        const std::size_t l = lane(m, stream);
        if (auto k = ending_at(l, end, later); k && f_.op[static_cast<std::size_t>(*k)] == f_.op[static_cast<std::size_t>(cur)] &&
                                                f_.start[static_cast<std::size_t>(*k)] > f_.start[static_cast<std::size_t>(cur)])
          cur = *k;
      }
      rank = rank_of(cur);
    }
    chain.push_back(cur);
    const double t = f_.start[static_cast<std::size_t>(cur)];
    later = t;
    if (t <= 1e-9) break;
    std::optional<std::int64_t> pred;
    // 1. The same rank: the stream's op before, then a stream it waited for.
    if (!(pred = ending_at(lane(rank, stream), t, t)))
      for (int s = 0; s < kStreams; ++s)  // compute first, then the communication streams
        if (static_cast<model::Stream>(s) != stream && (pred = ending_at(lane(rank, static_cast<model::Stream>(s)), t, t))) break;
    // 2. A pipeline neighbour's send that arrived then (the stages wrap around for virtual stages).
    if (!pred) {
      std::vector<int> neighbours;
      if (layout) {
        const auto along = layout->group_of(rank, model::Axis::pp);
        const auto at = std::find(along.begin(), along.end(), rank) - along.begin();
        const auto n = static_cast<std::ptrdiff_t>(along.size());
        if (n > 1) neighbours = {along[static_cast<std::size_t>((at + n - 1) % n)], along[static_cast<std::size_t>((at + 1) % n)]};
      } else if (!per_rank_ && ranks_ > 1) {
        neighbours = {(rank + ranks_ - 1) % ranks_, (rank + 1) % ranks_};
      }
      for (int m : neighbours)
        if ((pred = ending_at(lane(m, model::Stream::pp_comm), t, t))) break;
    }
    // 3. Nothing ends then: the rank's op that ended last before (the gap is waiting).
    if (!pred) {
      double best = -1;
      for (int s = 0; s < kStreams; ++s) {
        const std::size_t l = lane(rank, static_cast<model::Stream>(s));
        const auto b = f_.start.begin() + lane_begin_[l];
        // Serial streams: the first span back that ends by t is the lane's latest; 256 bounds the
        // search on a lane whose spans overlap (a gap is rare, and any op before it will do).
        int looked = 0;
        for (auto it = std::lower_bound(b, f_.start.begin() + lane_begin_[l + 1], t); it != b && looked < 256; ++looked) {
          --it;
          const auto k = static_cast<std::int64_t>(it - f_.start.begin());
          const double end = end_of(k);
          if (end <= t + slack(f_.duration[static_cast<std::size_t>(k)]) && end > best) {
            best = end;
            pred = k;
            break;
          }
        }
      }
    }
    if (!pred || f_.start[static_cast<std::size_t>(*pred)] >= t) break;
    cur = *pred;
  }
  std::reverse(chain.begin(), chain.end());

  CriticalPath& c = critical_;
  c.spans = std::move(chain);
  double at = 0;
  int last_rank = -1;
  for (std::int64_t k : c.spans) {
    const auto i = static_cast<std::size_t>(k);
    c.waiting_s += std::max(0.0, f_.start[i] - at);
    const double from = std::max(at, f_.start[i]);
    const double busy = std::max(0.0, end_of(k) - from);
    at = std::max(at, end_of(k));
    switch (static_cast<OpStyle>(f_.style[i] & 15)) {
      case OpStyle::tp: c.comm_s[0] += busy; break;
      case OpStyle::cp: c.comm_s[1] += busy; break;
      case OpStyle::pp: c.comm_s[2] += busy; break;
      case OpStyle::dp: c.comm_s[3] += busy; break;
      default: c.compute_s += busy; break;
    }
    const int r = rank_of(k);
    c.lanes.push_back(static_cast<std::uint32_t>(lane(r, stream_of(k))));
    if (last_rank >= 0 && r != last_rank) ++c.rank_changes;
    last_rank = r;
  }
  critical_sorted_ = c.spans;
  std::sort(critical_sorted_.begin(), critical_sorted_.end());
}

bool StepTimelineData::on_critical_path(std::int64_t span) const {
  return std::binary_search(critical_sorted_.begin(), critical_sorted_.end(), span);
}

void StepTimelineData::critical_marks(int node, model::Stream stream, const TimeAxis& axis, std::vector<Mark>& out) const {
  out.clear();
  auto found = critical_by_node_.find(node);
  if (found == critical_by_node_.end()) {
    const Node& n = nodes_.at(static_cast<std::size_t>(node));
    std::vector<int> ranks = n.rank >= 0 ? std::vector<int>{n.rank} : n.ranks;
    std::sort(ranks.begin(), ranks.end());
    std::array<std::vector<std::int64_t>, kStreams> mine;
    for (std::size_t i = 0; i < critical_.spans.size(); ++i) {
      const std::uint32_t l = critical_.lanes[i];
      if (std::binary_search(ranks.begin(), ranks.end(), static_cast<int>(l / kStreams))) mine[l % kStreams].push_back(critical_.spans[i]);
    }
    found = critical_by_node_.emplace(node, std::move(mine)).first;
  }
  for (std::int64_t k : found->second[static_cast<std::size_t>(stream)]) {
    const float x0 = static_cast<float>(axis.x_of(start_of(k))), x1 = static_cast<float>(axis.x_of(end_of(k)));
    if (x1 < 0 || x0 > float(axis.width_px())) continue;
    if (!out.empty() && x0 <= out.back().x1 + 1) {
      out.back().x1 = std::max(out.back().x1, x1);
      out.back().merged = true;
      continue;
    }
    Mark m;
    m.x0 = x0;
    m.x1 = std::max(x1, x0 + 1);
    m.span = k;
    out.push_back(m);
  }
}

}  // namespace herd::gui
