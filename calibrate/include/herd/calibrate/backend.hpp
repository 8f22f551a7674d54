#pragma once
// A measurement backend times records one at a time: each op alone on freshly filled buffers,
// `warmup` untimed runs, then `repetitions` timed runs whose times are all kept.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "herd/calibrate/measurement.hpp"

namespace herd::calibrate {

struct TimingPolicy {
  int warmup = 2;
  int repetitions = 7;
  /// Keep timing runs until their times add up to at least this (seconds; 0: just `repetitions`).
  double min_total_s = 0;
  /// measure_all: whole-layer records run back to back for at least this long (a sustained run
  /// that shows the clocks settling under the power and thermal limits); 0: like other records.
  double layer_sustain_s = 0;
};

class MeasurementBackend {
 public:
  virtual ~MeasurementBackend() = default;
  /// The device, its peaks and where they come from, versions, clocks, date.
  virtual DeviceInfo device() = 0;
  /// Runs and times `r` (filling times_s, median_s and impl). Throws std::runtime_error when the
  /// device fails, model::ValueError when the record cannot be run (unknown op, bad shape).
  virtual void measure(Record& r, const TimingPolicy& policy) = 0;
};

/// Progress callback: (index, count, record just measured).
using Progress = std::function<void(std::size_t, std::size_t, const Record&)>;

/// Measures every record in order, then asks for the device info (so clocks read after the run
/// show any throttling). The set's notes say what policy was used.
MeasurementSet measure_all(MeasurementBackend& backend, std::vector<Record> records, const TimingPolicy& policy,
                           const Progress& progress = {});

/// Calls `run` `policy.warmup` times, then times `policy.repetitions` calls (and more until they add
/// up to `policy.min_total_s`) on a steady clock (s).
std::vector<double> time_on_host(const TimingPolicy& policy, const std::function<void()>& run);

/// The UTC date and time now, ISO 8601 ("2026-11-27T21:07:21Z").
std::string utc_now();

}  // namespace herd::calibrate
