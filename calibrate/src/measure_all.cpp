#include "herd/calibrate/backend.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace herd::calibrate {

MeasurementSet measure_all(MeasurementBackend& backend, std::vector<Record> records, const TimingPolicy& policy,
                           const Progress& progress) {
  MeasurementSet set;
  for (std::size_t i = 0; i < records.size(); ++i) {
    Record& r = records[i];
    TimingPolicy p = policy;
    const bool sustained = r.kind == RecordKind::layer && policy.layer_sustain_s > 0;
    if (sustained) p.min_total_s = policy.layer_sustain_s;
    backend.measure(r, p);
    if (sustained) r.mark_sustained(policy.layer_sustain_s);
    if (progress) progress(i, records.size(), r);
  }
  set.records = std::move(records);
  set.device = backend.device();
  set.notes.push_back("each record: " + std::to_string(policy.warmup) + " warm-up runs, then " +
                      std::to_string(policy.repetitions) + " timed runs; median_s is their median");
  if (policy.layer_sustain_s > 0) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%g", policy.layer_sustain_s);
    set.notes.push_back(std::string("whole layers: run back to back for at least ") + seconds +
                        " s (sustained_s); their median_s is the median of the second half of the runs");
  }
  return set;
}

std::vector<double> time_on_host(const TimingPolicy& policy, const std::function<void()>& run) {
  for (int i = 0; i < policy.warmup; ++i) run();
  std::vector<double> times;
  times.reserve(static_cast<std::size_t>(policy.repetitions));
  double total = 0;
  for (int i = 0; i < policy.repetitions || total < policy.min_total_s; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    total += times.back();
  }
  return times;
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace herd::calibrate
