#pragma once
// The events of one simulated run: training spans (per phase), checkpoint stalls, failures,
// detection, restarts, checkpoint loads, planned maintenance. Plain data for any front end, and Chrome
// trace-event JSON (opens in Perfetto) with the same data under "herd_run_timeline".
#include <string>
#include <vector>

namespace herd::sim::run {

enum class SpanKind { train, checkpoint, detection, spare_wait, restart, checkpoint_load, planned };
enum class EventKind { failure, planned, phase_start, end };

std::string_view to_string(SpanKind);
std::string_view to_string(EventKind);

struct TimelineSpan {
  SpanKind kind = SpanKind::train;
  double start_s = 0, end_s = 0;
  int phase = 0;         ///< batch-schedule phase (train spans)
};

struct TimelineEvent {
  EventKind kind = EventKind::failure;
  double time_s = 0;
  std::string label;     ///< failure class, "planned", phase number
  std::string category;  ///< failure category
};

struct RunTimeline {
  std::vector<TimelineSpan> spans;     ///< in time order, not overlapping
  std::vector<TimelineEvent> events;   ///< in time order
};

/// Chrome trace-event JSON: one process "run", a thread for training and checkpoints, one for
/// downtime, instant events for failures; times in microseconds. `title` names the process.
std::string timeline_chrome_json(const RunTimeline& timeline, const std::string& title);

}  // namespace herd::sim::run
