// Chrome trace-event JSON (https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU):
// "X" complete events with microsecond timestamps, "i" instant events, "M" names.
#include "herd/sim/run/timeline.hpp"

#include "herd/sim/run/report_json.hpp"

#include <nlohmann/json.hpp>

namespace herd::sim::run {

std::string_view to_string(SpanKind k) {
  switch (k) {
    case SpanKind::train: return "train";
    case SpanKind::checkpoint: return "checkpoint";
    case SpanKind::detection: return "detection";
    case SpanKind::spare_wait: return "spare_wait";
    case SpanKind::restart: return "restart";
    case SpanKind::checkpoint_load: return "checkpoint_load";
    case SpanKind::planned: return "planned";
  }
  return "train";
}

std::string_view to_string(EventKind k) {
  switch (k) {
    case EventKind::failure: return "failure";
    case EventKind::planned: return "planned";
    case EventKind::phase_start: return "phase_start";
    case EventKind::end: return "end";
  }
  return "failure";
}

namespace {

using nlohmann::json;
constexpr int kTrainingThread = 1, kDowntimeThread = 2, kEventThread = 3;

int thread_of(SpanKind k) { return k == SpanKind::train || k == SpanKind::checkpoint ? kTrainingThread : kDowntimeThread; }

json thread_name(int tid, const char* name) {
  return {{"ph", "M"}, {"pid", 1}, {"tid", tid}, {"name", "thread_name"}, {"args", {{"name", name}}}};
}

}  // namespace

std::string timeline_chrome_json(const RunTimeline& t, const std::string& title) {
  json events = json::array();
  events.push_back({{"ph", "M"}, {"pid", 1}, {"name", "process_name"}, {"args", {{"name", title}}}});
  events.push_back(thread_name(kTrainingThread, "training"));
  events.push_back(thread_name(kDowntimeThread, "downtime"));
  events.push_back(thread_name(kEventThread, "events"));
  for (const auto& s : t.spans) {
    std::string name(to_string(s.kind));
    if (s.kind == SpanKind::train) name += " phase " + std::to_string(s.phase);
    events.push_back({{"ph", "X"}, {"pid", 1}, {"tid", thread_of(s.kind)}, {"name", name}, {"cat", to_string(s.kind)},
                      {"ts", s.start_s * 1e6}, {"dur", (s.end_s - s.start_s) * 1e6}});
  }
  for (const auto& e : t.events)
    events.push_back({{"ph", "i"}, {"s", "p"}, {"pid", 1}, {"tid", kEventThread}, {"name", e.label},
                      {"cat", to_string(e.kind)}, {"ts", e.time_s * 1e6}, {"args", {{"category", e.category}}}});
  json data = run_timeline_json(t);
  data["title"] = title;
  const json doc = {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ms"}, {"herd_run_timeline", std::move(data)}};
  return doc.dump() + "\n";
}

}  // namespace herd::sim::run
