#pragma once
// One trial of a training run: a discrete-event simulation (herd::engine) of failures, planned
// maintenance, recoveries and spare nodes; between interruptions the job trains in checkpoint
// cycles (train interval_s, stall), handled in closed form so a trial costs O(interruptions).
#include <cstdint>
#include <vector>

#include "herd/sim/run/run_model.hpp"
#include "herd/sim/run/timeline.hpp"

namespace herd::sim::run {

/// Where the time that was not useful training went, seconds. With `ideal` (failure-free time of
/// the tokens trained) it adds up to the elapsed time.
struct TimeLost {
  double lost_work = 0;          ///< training since the last durable checkpoint, redone
  double checkpoint_stalls = 0;  ///< training stopped for checkpoints
  double detection = 0;          ///< failure until the job is stopped
  double spare_wait = 0;         ///< waiting for a repaired node, swapping in a spare
  double restart = 0;            ///< relaunch and communicator set-up
  double checkpoint_load = 0;
  double planned = 0;            ///< planned maintenance: final checkpoint, relaunch, load
  double degraded = 0;           ///< training on fewer DP replicas (the share they would have done)
  double total() const {
    return lost_work + checkpoint_stalls + detection + spare_wait + restart + checkpoint_load + planned + degraded;
  }
};

struct TrialResult {
  double elapsed_s = 0;
  double ideal_s = 0;            ///< failure-free time to train `tokens`
  double tokens = 0;             ///< trained and kept
  bool finished = false;         ///< reached the budget (or the window's end)
  int planned = 0;
  int unexpected = 0;
  int during_recovery = 0;       ///< unexpected ones that struck while the job was down
  std::vector<int> by_class;     ///< unexpected, per RunModel::failures entry
  std::int64_t checkpoints = 0;  ///< made durable (a 1 ns interval makes billions)
  int fewest_replicas = 0;       ///< smallest DP width trained on
  TimeLost lost;
};

/// Simulates one trial. Same (seed, trial) gives the same result. `interval_s` > 0 is the training
/// time between checkpoints (async: raised to the write time if shorter). Records the events in
/// `timeline` when given.
TrialResult simulate_trial(const RunModel& model, std::uint64_t seed, std::uint64_t trial, double interval_s,
                           RunTimeline* timeline = nullptr);

/// The interval a trial uses: `interval_s`, raised to the write time for async checkpoints (a
/// checkpoint cannot start before the previous one is written).
double effective_interval(const RunModel& model, double interval_s);

}  // namespace herd::sim::run
