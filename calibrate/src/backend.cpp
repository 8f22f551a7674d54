#include "herd/calibrate/backend.hpp"

#include <chrono>
#include <ctime>

namespace herd::calibrate {

MeasurementSet measure_all(MeasurementBackend& backend, std::vector<Record> records, const TimingPolicy& policy,
                           const Progress& progress) {
  MeasurementSet set;
  for (std::size_t i = 0; i < records.size(); ++i) {
    backend.measure(records[i], policy);
    if (progress) progress(i, records.size(), records[i]);
  }
  set.records = std::move(records);
  set.device = backend.device();
  set.notes.push_back("each record: " + std::to_string(policy.warmup) + " warm-up runs, then " +
                      std::to_string(policy.repetitions) + " timed runs; median_s is their median");
  return set;
}

std::vector<double> time_on_host(const TimingPolicy& policy, const std::function<void()>& run) {
  for (int i = 0; i < policy.warmup; ++i) run();
  std::vector<double> times;
  times.reserve(static_cast<std::size_t>(policy.repetitions));
  for (int i = 0; i < policy.repetitions; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
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
