#include "herd/sim/run/report_json.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "herd/model/error.hpp"

namespace herd::sim::run {

namespace {

using nlohmann::json;

// JSON has no infinity: a quantity that does not exist (no failures: no MTBF) is null.
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json stats(const Distribution4& d, double scale = 1.0) {
  return {{"mean", number(d.mean * scale)}, {"p10", number(d.p10 * scale)}, {"p50", number(d.p50 * scale)},
          {"p90", number(d.p90 * scale)}};
}

json counts(const std::vector<CategoryCount>& list) {
  json o = json::object();
  for (const auto& c : list) o[c.name] = c.mean;
  return o;
}

}  // namespace

json run_report_json(const RunReport& r) {
  json phases = json::array();
  for (const auto& p : r.phases)
    phases.push_back({{"start_tokens", p.start_tokens}, {"end_tokens", number(p.end_tokens)}, {"seq_len", p.seq_len},
                      {"global_batch", p.global_batch}, {"tokens_per_step", p.tokens_per_step()},
                      {"step_time_s", p.step_time_s}, {"gpus", p.gpus}});
  constexpr double kDay = 86400.0, kHour = 3600.0;
  const TimeLost& l = r.lost;
  return {
      {"scenario", r.name},
      {"step_time_source", r.step_time_source},
      {"phases", phases},
      {"trials", r.trials},
      {"seed", r.seed},
      {"token_budget", r.token_budget},
      {"window_days", r.window_s / kDay},
      {"ideal_days", r.ideal_s / kDay},
      {"time_to_train_days", stats(r.elapsed_s, 1.0 / kDay)},
      {"effective_training_time", stats(r.effective_training_time)},
      {"tokens_trained", stats(r.tokens)},
      {"interruptions",
       {{"planned", r.planned},
        {"unexpected", r.unexpected},
        {"unexpected_stderr", r.unexpected_stderr},
        {"during_recovery", r.during_recovery},
        {"by_category", counts(r.by_category)},
        {"by_class", counts(r.by_class)}}},
      {"time_lost_hours",
       {{"lost_work", l.lost_work / kHour},
        {"checkpoint_stalls", l.checkpoint_stalls / kHour},
        {"detection", l.detection / kHour},
        {"spare_wait", l.spare_wait / kHour},
        {"restart", l.restart / kHour},
        {"checkpoint_load", l.checkpoint_load / kHour},
        {"planned", l.planned / kHour},
        {"degraded", l.degraded / kHour},
        {"total", l.total() / kHour}}},
      {"gpu_hours", r.gpu_hours},
      {"gpus", r.allocated_gpus},
      {"checkpoint",
       {{"mode", r.checkpoint_mode == model::CheckpointMode::async ? "async" : "sync"},
        {"size_bytes", r.checkpoint.total_bytes},
        {"per_gpu_bytes", r.checkpoint.per_gpu_bytes},
        {"write_s", r.checkpoint.write_s},
        {"stall_s", r.checkpoint.stall_s},
        {"load_s", r.checkpoint.load_s},
        {"durable_checkpoints", r.checkpoints}}},
      {"checkpoint_interval_s", r.checkpoint_interval_s},
      {"checkpoint_interval_given", r.interval_given},
      {"optimal_checkpoint_interval_s", number(r.optimal_interval_s)},
      {"young_interval_s", number(r.young_interval_s)},
      {"daly_interval_s", number(r.daly_interval_s)},
      {"mtbf_hours", number(r.mtbf_s / kHour)},
      {"recovery_s", r.recovery_s},
      {"fewest_dp_replicas", r.fewest_replicas},
      {"unfinished_trials", r.unfinished_trials},
  };
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double number_from(const json& j, const char* key) {
  const json& v = j.at(key);
  return v.is_null() ? kInf : v.get<double>();
}

Distribution4 stats_from(const json& j, double scale = 1.0) {
  return {number_from(j, "mean") * scale, number_from(j, "p10") * scale, number_from(j, "p50") * scale, number_from(j, "p90") * scale};
}

std::vector<CategoryCount> counts_from(const json& j) {
  std::vector<CategoryCount> out;
  for (const auto& [name, mean] : j.items()) out.push_back({name, mean.get<double>()});
  return out;
}

template <class Kind>
Kind kind_from(const json& j, const std::string& pointer, std::initializer_list<Kind> kinds) {
  const std::string name = j.get<std::string>();
  for (Kind k : kinds)
    if (to_string(k) == name) return k;
  throw model::ValueError(pointer, "unknown kind \"" + name + "\"");
}

}  // namespace

RunReport run_report_from_json(const json& j) {
  constexpr double kDay = 86400.0, kHour = 3600.0;
  RunReport r;
  r.name = j.at("scenario").get<std::string>();
  r.step_time_source = j.at("step_time_source").get<std::string>();
  for (const auto& p : j.at("phases")) {
    Phase phase;
    phase.start_tokens = p.at("start_tokens").get<double>();
    phase.end_tokens = number_from(p, "end_tokens");
    phase.seq_len = p.at("seq_len").get<std::int64_t>();
    phase.global_batch = p.at("global_batch").get<std::int64_t>();
    phase.step_time_s = p.at("step_time_s").get<double>();
    phase.gpus = p.at("gpus").get<int>();
    r.phases.push_back(phase);
  }
  r.trials = j.at("trials").get<int>();
  r.seed = j.at("seed").get<std::uint64_t>();
  r.token_budget = j.at("token_budget").get<double>();
  r.window_s = j.at("window_days").get<double>() * kDay;
  r.ideal_s = j.at("ideal_days").get<double>() * kDay;
  r.elapsed_s = stats_from(j.at("time_to_train_days"), kDay);
  r.effective_training_time = stats_from(j.at("effective_training_time"));
  r.tokens = stats_from(j.at("tokens_trained"));
  const json& in = j.at("interruptions");
  r.planned = in.at("planned").get<double>();
  r.unexpected = in.at("unexpected").get<double>();
  r.unexpected_stderr = in.at("unexpected_stderr").get<double>();
  r.during_recovery = in.at("during_recovery").get<double>();
  r.by_category = counts_from(in.at("by_category"));
  r.by_class = counts_from(in.at("by_class"));
  const json& lost = j.at("time_lost_hours");
  TimeLost& l = r.lost;
  l.lost_work = lost.at("lost_work").get<double>() * kHour;
  l.checkpoint_stalls = lost.at("checkpoint_stalls").get<double>() * kHour;
  l.detection = lost.at("detection").get<double>() * kHour;
  l.spare_wait = lost.at("spare_wait").get<double>() * kHour;
  l.restart = lost.at("restart").get<double>() * kHour;
  l.checkpoint_load = lost.at("checkpoint_load").get<double>() * kHour;
  l.planned = lost.at("planned").get<double>() * kHour;
  l.degraded = lost.at("degraded").get<double>() * kHour;
  r.gpu_hours = j.at("gpu_hours").get<double>();
  r.allocated_gpus = j.at("gpus").get<double>();
  const json& c = j.at("checkpoint");
  const std::string mode = c.at("mode").get<std::string>();
  if (mode != "sync" && mode != "async") throw model::ValueError("/checkpoint/mode", "not \"sync\" or \"async\": \"" + mode + "\"");
  r.checkpoint_mode = mode == "async" ? model::CheckpointMode::async : model::CheckpointMode::sync;
  r.checkpoint.total_bytes = c.at("size_bytes").get<double>();
  r.checkpoint.per_gpu_bytes = c.at("per_gpu_bytes").get<double>();
  r.checkpoint.write_s = c.at("write_s").get<double>();
  r.checkpoint.stall_s = c.at("stall_s").get<double>();
  r.checkpoint.load_s = c.at("load_s").get<double>();
  r.checkpoints = c.at("durable_checkpoints").get<double>();
  r.checkpoint_interval_s = j.at("checkpoint_interval_s").get<double>();
  r.interval_given = j.at("checkpoint_interval_given").get<bool>();
  r.optimal_interval_s = number_from(j, "optimal_checkpoint_interval_s");
  r.young_interval_s = number_from(j, "young_interval_s");
  r.daly_interval_s = number_from(j, "daly_interval_s");
  r.mtbf_s = number_from(j, "mtbf_hours") * kHour;
  r.recovery_s = j.at("recovery_s").get<double>();
  r.fewest_replicas = j.at("fewest_dp_replicas").get<double>();
  r.unfinished_trials = j.at("unfinished_trials").get<int>();
  return r;
}

json run_timeline_json(const RunTimeline& t) {
  json spans = json::array(), events = json::array();
  for (const auto& s : t.spans)
    spans.push_back({{"kind", to_string(s.kind)}, {"start_s", s.start_s}, {"end_s", s.end_s}, {"phase", s.phase}});
  for (const auto& e : t.events)
    events.push_back({{"kind", to_string(e.kind)}, {"time_s", e.time_s}, {"label", e.label}, {"category", e.category}});
  return {{"spans", std::move(spans)}, {"events", std::move(events)}};
}

RunTimeline run_timeline_from_json(const json& j) {
  RunTimeline t;
  const json& spans = j.at("spans");
  for (std::size_t i = 0; i < spans.size(); ++i) {
    const json& s = spans.at(i);
    const std::string at = "/spans/" + std::to_string(i);
    TimelineSpan span;
    span.kind = kind_from(s.at("kind"), at + "/kind",
                          {SpanKind::train, SpanKind::checkpoint, SpanKind::detection, SpanKind::spare_wait, SpanKind::restart,
                           SpanKind::checkpoint_load, SpanKind::planned});
    span.start_s = s.at("start_s").get<double>();
    span.end_s = s.at("end_s").get<double>();
    span.phase = s.at("phase").get<int>();
    if (!(span.end_s >= span.start_s) || (!t.spans.empty() && span.start_s < t.spans.back().start_s))
      throw model::ValueError(at, "spans must be in time order, each ending after it starts");
    t.spans.push_back(span);
  }
  const json& events = j.at("events");
  for (std::size_t i = 0; i < events.size(); ++i) {
    const json& e = events.at(i);
    const std::string at = "/events/" + std::to_string(i);
    TimelineEvent event;
    event.kind = kind_from(e.at("kind"), at + "/kind", {EventKind::failure, EventKind::planned, EventKind::phase_start, EventKind::end});
    event.time_s = e.at("time_s").get<double>();
    event.label = e.at("label").get<std::string>();
    event.category = e.at("category").get<std::string>();
    t.events.push_back(std::move(event));
  }
  return t;
}

}  // namespace herd::sim::run
