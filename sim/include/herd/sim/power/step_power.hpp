#pragma once
// What the cluster draws through one training step, from the step's timeline (docs/models/power.md).
//
// Each GPU's draw at any moment follows from what its streams run: a compute-bound kernel draws
// `compute` (the board's limit), a memory-bound one `memory`, communication alone `communication`,
// nothing `wait`; communication beside a kernel adds (communication - wait). The draw is held under
// the power limit (cluster.gpu.power_limit, the TDP by default, or whatif.power_cap) and over whatif.power_floor. Servers and switches draw
// a constant. The step repeats with its period, so averages over a window wrap around the step's
// end: the step boundary lies inside the series, not at its edge.
#include <array>
#include <vector>

#include <nlohmann/json.hpp>

#include "herd/model/scenario.hpp"
#include "herd/model/topology.hpp"
#include "herd/sim/step/step_report.hpp"
#include "herd/sim/step/trace_sink.hpp"

namespace herd::sim {

/// What a GPU does at a moment, for its draw.
enum class PowerState { compute, memory, communication, wait };
inline constexpr int kPowerStates = 4;
std::string_view to_string(PowerState s);

/// The cluster a step's power is summed over and the draws, after the what-ifs.
struct PowerSetup {
  model::GpuPowerDraws draws;  ///< per GPU, watts
  double limit_w = 0;          ///< TDP, or the power cap
  double floor_w = 0;          ///< least a GPU in the job draws; 0: none
  double peak_flops = 0;       ///< dense BF16 peak: with HBM bandwidth, tells compute- from memory-bound ops
  double hbm_bandwidth = 0;
  int gpus = 0;                ///< GPUs of the job
  int servers = 0;
  int switches = 0;            ///< scale-out switches of the topology
  double server_other_w = 0;   ///< per server, besides its GPUs
  double switch_w = 0;
  double pue = 1;
  double window_s = 0.1;
  /// Servers and switches: the draw that does not follow the step.
  double static_w() const { return servers * server_other_w + switches * switch_w; }
  /// A GPU's draw in `state`, `comm_beside`: communication runs beside a kernel.
  double gpu_draw(PowerState state, bool comm_beside) const;
  /// Every GPU of the job in `state` plus servers and switches (IT power), watts.
  double cluster_w(PowerState state) const { return gpus * gpu_draw(state, false) + static_w(); }
  /// Every GPU idle (no job: a restart, a repair) plus servers and switches.
  double idle_cluster_w() const { return gpus * draws.idle + static_w(); }
};

class StepSimulator;

/// Leaf, spine and core switches of the topology.
int count_switches(const model::Topology& topology);
/// The setup of scenario `s`'s cluster, draws and what-ifs for a job of `gpus` GPUs (and the
/// servers they fill) with `switches` switches.
PowerSetup power_setup(const model::Scenario& s, int gpus, int switches);
/// The setup of `s`'s own job (its plan's GPUs), its switches counted on `simulator`'s fabric of
/// s.cluster (the one its steps run on).
PowerSetup power_setup(const model::Scenario& s, const StepSimulator& simulator);

struct StepPower {
  double step_time_s = 0;
  double bin_s = 0;            ///< the series' resolution
  double window_s = 0;
  double pue = 1;
  int gpus = 0, servers = 0, switches = 0;
  double static_w = 0;         ///< servers and switches
  double gpus_per_rank = 1;    ///< GPUs each simulated rank stands for
  std::vector<double> cluster_w;            ///< IT power per bin (mean over the bin)
  std::vector<std::vector<double>> rank_w;  ///< one GPU of each simulated rank per bin; empty above kMaxRankSeries ranks
  static constexpr int kMaxRankSeries = 64;
  // One step, the whole cluster.
  double gpu_energy_j = 0;
  double it_energy_j = 0;        ///< GPUs, servers, switches
  double facility_energy_j = 0;  ///< x PUE
  double energy_per_token_j = 0; ///< facility
  std::array<double, kPowerStates> gpu_energy_by_state_j{};  ///< communication beside a kernel counted under communication
  // IT power, windows of window_s wrapping around the step.
  double mean_w = 0;
  double peak_w = 0, peak_at_s = 0;  ///< highest window mean and where its window ends
  double min_w = 0, min_at_s = 0;
  double swing_w = 0;                ///< peak - min
  double ramp_w = 0;                 ///< largest change of the window mean within one window (signed: a rise > 0)
  double ramp_at_s = 0;
  double ramp_w_per_s() const { return window_s > 0 ? ramp_w / window_s : 0; }
};

/// The power of the step `report` describes; needs its trace (StepOptions::trace).
StepPower step_power(const StepReport& report, const PowerSetup& setup);

/// The same from spans as they stream (StepOptions::trace_sink), without the trace. While the
/// executor streams, starts and ends come in the order of time (TraceSink::started), and the
/// recorder follows each rank through time, adding its draw to the series as it goes: it keeps a
/// few words per rank and the series, however many spans the step has. Spans handed over without
/// starts (a step whose steady-state periods were replicated, or a report's trace) are kept as
/// their starts and ends (32 bytes a span) until finish(). Either way finish() gives what
/// step_power() gives from the report of the same spans, to the bit: energies add up in integer
/// nanojoules, so the order the ranks come in does not matter.
class PowerRecorder : public TraceSink {
 public:
  PowerRecorder(const PowerSetup& setup, int ranks);
  void span(const TraceSpan& span, const TraceOp& op) override;
  void started(int rank, model::Stream stream, const TraceOp& op, double t) override;
  /// The step's power, once it has ended (its time and tokens, from its report). Once: it uses
  /// up what was recorded.
  StepPower finish(const StepReport& report);
  /// Changes kept for finish(): none while spans stream with their starts.
  std::size_t held_changes() const;

  /// A change of what one rank runs: `what` (0 compute-bound, 1 memory-bound, 2 communication)
  /// starts (+1) or ends (-1) at `t`.
  struct Change {
    double t;
    int what;
    int delta;
  };
  /// Most bins over a step: bins of a tenth of the window (at least kMinBinS) are doubled until
  /// the step fits.
  static constexpr std::size_t kMaxBins = 20000;
  static constexpr double kMinBinS = 1e-6;
  /// Energy, in nanojoules: sums of these do not depend on their order.
  __extension__ typedef __int128 Energy;

 private:
  struct Rank {
    std::array<int, 3> count{};  ///< ops running, by `what`
    double t = 0;                ///< what came before is in the series
    std::vector<Change> held;    ///< changes handed over without starts, until finish()
  };
  int what_of(model::Stream stream, const TraceOp& op) const;
  /// Rank `r`'s draw from its last change until `until` into the series.
  void advance(int r, double until);
  void apply(int r, const Change& change);
  /// Bins up to `until`, doubled while more than kMaxBins would be needed.
  void cover(double until);
  double bin_s() const { return fine_s_ * double(std::int64_t{1} << doublings_); }
  /// `watts` over [a, b) into `bins`.
  void deposit(std::vector<Energy>& bins, double a, double b, double watts) const;

  PowerSetup setup_;
  int ranks_ = 1;
  double gpus_per_rank_ = 1;
  bool streaming_ = false;
  double fine_s_ = 0;  ///< the first bins' width: every energy is split at their edges
  int doublings_ = 0;  ///< a bin is 2^doublings_ first bins
  std::vector<Energy> total_;              ///< every GPU's, per bin
  std::vector<std::vector<Energy>> kept_;  ///< one GPU's of each rank per bin, up to kMaxRankSeries ranks
  std::array<Energy, kPowerStates> by_state_{};
  std::vector<Rank> rank_;
};

/// The summary, and the series when `series`.
nlohmann::json step_power_json(const StepPower& p, bool series = true);

}  // namespace herd::sim
