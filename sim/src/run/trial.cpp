// One trial: failure processes, planned maintenance, recoveries and spares as engine events; the
// training between them in closed form (checkpoint cycles of interval + stall).
#include "herd/sim/run/trial.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <queue>

#include "herd/engine/simulation.hpp"
#include "herd/sim/run/random.hpp"
#include "segment.hpp"

namespace herd::sim::run {

namespace {

using engine::Time;

// A trial that has not finished after this long stops (e.g. a job that lost every replica).
constexpr double kHorizonSeconds = 50.0 * 365.0 * 86400.0;
constexpr std::uint64_t kPlannedStream = stream_id("planned maintenance");

// At equal times: the run ends, then finishes, then restarts, then fails.
enum : engine::Priority { kEndPriority = 0, kFinishPriority = 1, kReadyPriority = 2, kFailurePriority = 3 };

struct Piece {
  SpanKind kind;
  Time duration;
  double TimeLost::*bucket;
};

class Trial {
 public:
  Trial(const RunModel& m, std::uint64_t seed, std::uint64_t trial, double interval_s, RunTimeline* timeline)
      : m_(m), timeline_(timeline), planned_stream_(seed, trial, kPlannedStream),
        segment_(m, effective_interval(m, interval_s)) {
    for (const auto& f : m.failures) streams_.emplace_back(seed, trial, stream_id(f.name));
    horizon_ = engine::from_seconds(m.window_s > 0 ? std::min(m.window_s, kHorizonSeconds) : kHorizonSeconds);
  }

  TrialResult run() {
    result_.by_class.assign(m_.failures.size(), 0);
    result_.fewest_replicas = m_.dp;
    pool_ = m_.spares.nodes;
    for (std::size_t c = 0; c < m_.failures.size(); ++c) schedule_failure(c);
    schedule_planned();
    sim_.schedule_at(horizon_, [this] { on_end(); }, kEndPriority);
    start_segment();
    sim_.run();
    result_.ideal_s = m_.ideal_time(tokens_);
    result_.tokens = tokens_;
    return std::move(result_);
  }

 private:
  // ---- failure processes ----
  void schedule_failure(std::size_t c) {
    const FailureProcess& f = m_.failures[c];
    if (!(f.rate_per_s > 0)) return;
    const double mean = 1.0 / f.rate_per_s;
    const double gap = f.distribution == model::Distribution::weibull ? streams_[c].weibull(f.weibull_shape, mean)
                                                               : streams_[c].exponential(mean);
    schedule_within_horizon(gap, [this, c] { on_failure(c); }, kFailurePriority);
  }

  void schedule_planned() {
    if (!(m_.planned_rate_per_s > 0)) return;
    schedule_within_horizon(planned_stream_.exponential(1.0 / m_.planned_rate_per_s), [this] { on_planned(); },
                            kFailurePriority);
  }

  template <typename F>
  engine::EventId schedule_within_horizon(double delay_s, F&& callback, engine::Priority priority) {
    if (!(delay_s < engine::to_seconds(horizon_ - sim_.now()))) return {};
    return sim_.schedule_after(engine::from_seconds(delay_s), std::forward<F>(callback), priority);
  }

  void on_failure(std::size_t c) {
    schedule_failure(c);
    const Time now = sim_.now();
    const FailureProcess& f = m_.failures[c];
    ++result_.unexpected;
    ++result_.by_class[c];
    if (timeline_) timeline_->events.push_back({EventKind::failure, engine::to_seconds(now), f.name, f.category});
    if (up_) {
      close_segment(now, /*rollback=*/true);
    } else {
      ++result_.during_recovery;
      close_recovery(now);
    }
    const Time detection = engine::from_seconds(f.detection_s);
    Time wait = 0;
    if (f.replaces_node) {
      const Time node_ready = take_spare(now);
      wait = std::max<Time>(0, node_ready - (now + detection)) + engine::from_seconds(m_.spares.swap_s);
    }
    begin_recovery(now, {Piece{SpanKind::detection, detection, &TimeLost::detection},
                         Piece{SpanKind::spare_wait, wait, &TimeLost::spare_wait},
                         Piece{SpanKind::restart, engine::from_seconds(m_.relaunch_s), &TimeLost::restart},
                         Piece{SpanKind::checkpoint_load, engine::from_seconds(m_.checkpoint.load_s),
                               &TimeLost::checkpoint_load}});
  }

  // Planned maintenance: the job writes a final checkpoint (nothing lost), stops and relaunches.
  // One due while the job is already down is done in that downtime.
  void on_planned() {
    schedule_planned();
    const Time now = sim_.now();
    ++result_.planned;
    if (timeline_) timeline_->events.push_back({EventKind::planned, engine::to_seconds(now), "planned", "planned"});
    if (!up_) return;
    close_segment(now, /*rollback=*/false);
    const double final_checkpoint = m_.checkpoint.stall_s + m_.checkpoint.durable_lag_s;
    begin_recovery(now, {Piece{SpanKind::planned, engine::from_seconds(final_checkpoint), &TimeLost::planned},
                         Piece{SpanKind::restart, engine::from_seconds(m_.relaunch_s), &TimeLost::planned},
                         Piece{SpanKind::checkpoint_load, engine::from_seconds(m_.checkpoint.load_s), &TimeLost::planned}});
  }

  // ---- spares ----
  void collect_returns(Time now) {
    while (!returns_.empty() && returns_.top() <= now) {
      returns_.pop();
      ++pool_;
    }
  }

  // The failed node leaves for repair; returns when the job has a replacement (now, or a repaired
  // node's return in wait mode). In shrink mode with no spare, the job loses replicas instead.
  Time take_spare(Time now) {
    if (m_.spares.nodes < 0) return now;
    collect_returns(now);
    if (m_.spares.repair_s > 0) returns_.push(now + engine::from_seconds(m_.spares.repair_s));
    if (pool_ > 0) {
      --pool_;
      return now;
    }
    if (m_.spares.when_exhausted == model::WhenNoSpare::shrink) {
      ++missing_nodes_;
      return now;
    }
    if (returns_.empty()) return horizon_;  // nothing comes back (no repair): wait until the end
    nodes_ready_at_ = std::max(nodes_ready_at_, returns_.top());
    returns_.pop();
    return nodes_ready_at_;
  }

  double capacity() {
    if (m_.spares.nodes >= 0) {
      collect_returns(sim_.now());
      while (missing_nodes_ > 0 && pool_ > 0) --missing_nodes_, --pool_;
    }
    const int replicas = std::max(0, m_.dp - missing_nodes_ * m_.replicas_per_node);
    result_.fewest_replicas = std::min(result_.fewest_replicas, replicas);
    return double(replicas) / double(m_.dp);
  }

  // ---- recoveries ----
  void begin_recovery(Time now, std::initializer_list<Piece> pieces) {
    recovery_start_ = now;
    pieces_.assign(pieces.begin(), pieces.end());
    // Saturating: a recovery that ends past 64-bit time ends "never" (the run's horizon comes first).
    Time ready = now;
    for (const auto& p : pieces_)
      if (__builtin_add_overflow(ready, p.duration, &ready)) ready = engine::kTimeNever;
    ready_ = sim_.schedule_at(ready, [this] { on_ready(); }, kReadyPriority);
  }

  // Attributes the recovery time spent until `now` to its pieces, in order.
  void close_recovery(Time now) {
    sim_.cancel(ready_);
    Time at = recovery_start_;
    for (const auto& p : pieces_) {
      if (at >= now) break;
      const Time spent = std::min(p.duration, now - at);
      if (spent == 0) continue;
      result_.lost.*p.bucket += engine::to_seconds(spent);
      if (timeline_) timeline_->spans.push_back({p.kind, engine::to_seconds(at), engine::to_seconds(at + spent), 0});
      at += spent;
    }
    pieces_.clear();
  }

  void on_ready() {
    const Time now = sim_.now();
    close_recovery(now);
    if (capacity() <= 0) {  // every replica lost: wait for the next repaired node
      if (returns_.empty()) {
        end_run(now, false);
        return;
      }
      const Time back = returns_.top();
      begin_recovery(now, {Piece{SpanKind::spare_wait, back - now, &TimeLost::spare_wait}});
      return;
    }
    start_segment();
  }

  // ---- training ----
  void start_segment() {
    up_ = true;
    segment_start_ = sim_.now();
    capacity_ = capacity();
    if (m_.token_budget > 0) {
      const Time finish = segment_.finish_offset(tokens_, capacity_, horizon_ - segment_start_);
      if (finish != engine::kTimeNever) finish_ = sim_.schedule_at(segment_start_ + finish, [this] { on_finish(); }, kFinishPriority);
    }
  }

  void close_segment(Time now, bool rollback) {
    sim_.cancel(finish_);
    up_ = false;
    const SegmentProgress p = segment_.progress(now - segment_start_, rollback);
    if (timeline_) segment_.record(*timeline_, segment_start_, now - segment_start_, tokens_, capacity_);
    result_.checkpoints += p.durable_checkpoints;
    result_.lost.lost_work += p.lost_s;
    result_.lost.checkpoint_stalls += p.stall_s;
    result_.lost.degraded += (1.0 - capacity_) * p.kept_s;
    tokens_ = m_.tokens_after(tokens_, p.kept_s, capacity_);
    if (m_.token_budget > 0) tokens_ = std::min(tokens_, m_.token_budget);
  }

  void on_finish() {
    close_segment(sim_.now(), false);
    tokens_ = m_.token_budget;  // the finish time was rounded up to a whole nanosecond
    end_run(sim_.now(), true);
  }

  void on_end() {
    const Time now = sim_.now();
    if (up_) close_segment(now, false);
    else close_recovery(now);
    end_run(now, m_.window_s > 0);
  }

  void end_run(Time now, bool finished) {
    result_.elapsed_s = engine::to_seconds(now);
    result_.finished = finished;
    if (timeline_) timeline_->events.push_back({EventKind::end, engine::to_seconds(now), finished ? "end" : "stopped", ""});
    sim_.stop();
  }

  const RunModel& m_;
  RunTimeline* timeline_;
  engine::Simulation sim_;
  std::vector<RandomStream> streams_;
  RandomStream planned_stream_;
  Segment segment_;
  Time horizon_ = 0;

  bool up_ = false;
  Time segment_start_ = 0;
  double tokens_ = 0;     // durable: trained and checkpointed (or kept at the end)
  double capacity_ = 1;
  engine::EventId finish_, ready_;
  Time recovery_start_ = 0;
  std::vector<Piece> pieces_;

  int pool_ = 0;
  int missing_nodes_ = 0;
  Time nodes_ready_at_ = 0;
  std::priority_queue<Time, std::vector<Time>, std::greater<>> returns_;

  TrialResult result_;
};

}  // namespace

double effective_interval(const RunModel& m, double interval_s) {
  return m.checkpoint_mode == model::CheckpointMode::async ? std::max(interval_s, m.checkpoint.durable_lag_s) : interval_s;
}

TrialResult simulate_trial(const RunModel& model, std::uint64_t seed, std::uint64_t trial, double interval_s,
                           RunTimeline* timeline) {
  return Trial(model, seed, trial, interval_s, timeline).run();
}

}  // namespace herd::sim::run
