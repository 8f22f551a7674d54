#include "herd/sim/power/step_power.hpp"

#include <algorithm>
#include <cmath>

#include "herd/model/error.hpp"
#include "herd/sim/step/step_simulator.hpp"

namespace herd::sim {

std::string_view to_string(PowerState s) {
  switch (s) {
    case PowerState::compute: return "compute";
    case PowerState::memory: return "memory";
    case PowerState::communication: return "communication";
    case PowerState::wait: return "wait";
  }
  return "?";
}

double PowerSetup::gpu_draw(PowerState state, bool comm_beside) const {
  double w = draws.wait;
  switch (state) {
    case PowerState::compute: w = draws.compute; break;
    case PowerState::memory: w = draws.memory; break;
    case PowerState::communication: w = draws.communication; break;
    case PowerState::wait: w = draws.wait; break;
  }
  if (comm_beside && (state == PowerState::compute || state == PowerState::memory))
    w += std::max(0.0, draws.communication - draws.wait);
  w = std::min(w, limit_w);
  return std::max(w, floor_w);
}

int count_switches(const model::Topology& topology) {
  int n = 0;
  const auto& g = topology.graph();
  for (auto v : boost::make_iterator_range(boost::vertices(g))) {
    const auto kind = g[v].kind;
    n += kind == model::VertexKind::leaf || kind == model::VertexKind::spine || kind == model::VertexKind::core;
  }
  return n;
}

PowerSetup power_setup(const model::Scenario& s, int gpus, int switches) {
  const auto& gpu = s.cluster.gpu;
  PowerSetup p;
  p.draws = gpu.power;
  p.limit_w = s.whatif.power_cap_w > 0 ? std::min(s.whatif.power_cap_w, gpu.tdp_watts) : gpu.tdp_watts;
  p.floor_w = s.whatif.power_floor_w;
  p.peak_flops = gpu.peak_bf16_flops;
  p.hbm_bandwidth = gpu.hbm_bandwidth;
  p.gpus = gpus;
  p.servers = (p.gpus + s.cluster.gpus_per_node - 1) / s.cluster.gpus_per_node;
  p.switches = switches;
  p.server_other_w = s.cluster.power.node_other_w;
  p.switch_w = s.cluster.power.switch_w;
  p.pue = s.cluster.power.pue;
  p.window_s = s.cluster.power.window_s;
  return p;
}

PowerSetup power_setup(const model::Scenario& s, const StepSimulator& simulator) {
  return power_setup(s, s.plan.gpus(), count_switches(simulator.fabric(s.cluster)->topology()));
}

namespace {

using Change = PowerRecorder::Change;

PowerState state_of(const TraceOp& op, const PowerSetup& setup) {
  // Roofline: compute-bound when the FLOPs at peak take longer than the bytes at full bandwidth.
  const double flop_time = op.flops / std::max(setup.peak_flops, 1.0);
  const double byte_time = op.hbm_bytes / std::max(setup.hbm_bandwidth, 1.0);
  return op.flops > 0 && flop_time >= byte_time ? PowerState::compute : PowerState::memory;
}

/// Adds `watts` over [a, b) to the bins' energy.
void deposit(std::vector<double>& bins, double bin_s, double a, double b, double watts) {
  if (b <= a) return;
  const auto n = static_cast<std::ptrdiff_t>(bins.size());
  auto i = std::clamp(static_cast<std::ptrdiff_t>(a / bin_s), std::ptrdiff_t{0}, n - 1);
  while (a < b && i < n) {
    const double edge = i == n - 1 ? b : std::min(b, double(i + 1) * bin_s);
    bins[static_cast<std::size_t>(i)] += watts * (edge - a);
    a = edge;
    ++i;
  }
}

/// Mean of the periodic series over windows of k bins ending at each bin.
std::vector<double> window_means(const std::vector<double>& x, std::size_t k) {
  const std::size_t n = x.size();
  std::vector<double> out(n);
  if (k >= n) {
    double total = 0;
    for (double v : x) total += v;
    std::fill(out.begin(), out.end(), total / double(n));
    return out;
  }
  double sum = 0;
  for (std::size_t j = 0; j < k; ++j) sum += x[(n - k + 1 + j) % n];  // window ending at bin 0
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = sum / double(k);
    sum += x[(i + 1) % n] - x[(i + 1 + n - k) % n];
  }
  return out;
}

}  // namespace

StepPower step_power(const StepReport& report, const PowerSetup& setup) {
  PowerRecorder recorder(setup, report.simulated_ranks);
  for (const TraceSpan& span : report.trace) recorder.span(span, report.trace_ops[static_cast<std::size_t>(span.op)]);
  return recorder.finish(report);
}

PowerRecorder::PowerRecorder(const PowerSetup& setup, int ranks)
    : setup_(setup), changes_(static_cast<std::size_t>(std::max(1, ranks))) {}

void PowerRecorder::span(const TraceSpan& span, const TraceOp& op) {
  if (span.rank < 0 || span.rank >= static_cast<int>(changes_.size()) || !(span.end_s > span.start_s)) return;
  int what = 2;
  if (span.stream == model::Stream::compute) what = state_of(op, setup_) == PowerState::compute ? 0 : 1;
  auto& c = changes_[static_cast<std::size_t>(span.rank)];
  c.push_back({span.start_s, what, +1});
  c.push_back({span.end_s, what, -1});
}

StepPower PowerRecorder::finish(const StepReport& report) {
  const PowerSetup& setup = setup_;
  StepPower p;
  const double T = report.step_time_s;
  if (!(T > 0)) throw model::ValueError("", "a step of no time has no power");
  const int ranks = std::max(1, report.simulated_ranks);
  p.step_time_s = T;
  p.window_s = setup.window_s;
  p.pue = setup.pue;
  p.gpus = setup.gpus;
  p.servers = setup.servers;
  p.switches = setup.switches;
  p.static_w = setup.static_w();
  p.gpus_per_rank = double(setup.gpus) / ranks;
  // Ten bins per window, at most 20,000 over the step.
  p.bin_s = std::max(setup.window_s / 10, T / 20000);
  const auto bins = static_cast<std::size_t>(std::max(1.0, std::ceil(T / p.bin_s - 1e-6)));

  // Every bin is bin_s wide but the last, which ends at the step's end.
  auto width = [&](std::size_t i) { return i + 1 == bins ? T - double(i) * p.bin_s : p.bin_s; };

  std::vector<std::vector<Change>>& changes = changes_;
  changes.resize(static_cast<std::size_t>(ranks));
  for (auto& c : changes)
    for (Change& ch : c) ch.t = std::clamp(ch.t, 0.0, T);

  const bool keep_ranks = ranks <= StepPower::kMaxRankSeries;
  std::vector<double> total(bins, 0.0), one(bins, 0.0);
  for (int r = 0; r < ranks; ++r) {
    auto& c = changes[static_cast<std::size_t>(r)];
    std::sort(c.begin(), c.end(), [](const Change& a, const Change& b) { return a.t < b.t || (a.t == b.t && a.delta < b.delta); });
    std::fill(one.begin(), one.end(), 0.0);
    int count[3] = {0, 0, 0};
    double t = 0;
    auto segment = [&](double until) {
      if (until <= t) return;
      const bool comm = count[2] > 0;
      const PowerState state = count[0] > 0   ? PowerState::compute
                               : count[1] > 0 ? PowerState::memory
                               : comm         ? PowerState::communication
                                              : PowerState::wait;
      const double w = setup.gpu_draw(state, comm);
      deposit(one, p.bin_s, t, until, w);
      // Energy by state: the communication beside a kernel is the communication's.
      const double base = setup.gpu_draw(state, false);
      p.gpu_energy_by_state_j[static_cast<std::size_t>(state)] += base * (until - t) * p.gpus_per_rank;
      if (w != base) p.gpu_energy_by_state_j[static_cast<std::size_t>(PowerState::communication)] += (w - base) * (until - t) * p.gpus_per_rank;
      t = until;
    };
    for (const Change& ch : c) {
      segment(ch.t);
      count[ch.what] = std::max(0, count[ch.what] + ch.delta);
    }
    segment(T);
    std::vector<Change>().swap(c);  // done with this rank
    for (std::size_t i = 0; i < bins; ++i) total[i] += one[i] * p.gpus_per_rank;
    if (keep_ranks) {
      std::vector<double> w(bins);
      for (std::size_t i = 0; i < bins; ++i) w[i] = one[i] / width(i);
      p.rank_w.push_back(std::move(w));
    }
  }
  for (double e : p.gpu_energy_by_state_j) p.gpu_energy_j += e;
  p.it_energy_j = p.gpu_energy_j + p.static_w * T;
  p.facility_energy_j = p.it_energy_j * setup.pue;
  p.energy_per_token_j = report.tokens_per_step > 0 ? p.facility_energy_j / report.tokens_per_step : 0;
  p.mean_w = p.it_energy_j / T;

  p.cluster_w.resize(bins);
  for (std::size_t i = 0; i < bins; ++i) {
    p.cluster_w[i] = total[i] / width(i) + p.static_w;
  }
  // Windows over whole bins; the last, partial bin weighs as a whole one (at most 1/20,000 of the step).
  const auto k = static_cast<std::size_t>(std::max(1.0, std::round(setup.window_s / p.bin_s)));
  const std::vector<double> m = window_means(p.cluster_w, k);
  const auto peak = std::max_element(m.begin(), m.end()), low = std::min_element(m.begin(), m.end());
  p.peak_w = *peak;
  p.peak_at_s = std::min(T, double(peak - m.begin() + 1) * p.bin_s);
  p.min_w = *low;
  p.min_at_s = std::min(T, double(low - m.begin() + 1) * p.bin_s);
  p.swing_w = p.peak_w - p.min_w;
  const std::size_t n = m.size();
  if (k < n) {
    for (std::size_t i = 0; i < n; ++i) {
      const double change = m[i] - m[(i + n - k) % n];
      if (std::fabs(change) > std::fabs(p.ramp_w)) {
        p.ramp_w = change;
        p.ramp_at_s = std::min(T, double(i + 1) * p.bin_s);
      }
    }
  }
  return p;
}

nlohmann::json step_power_json(const StepPower& p, bool series) {
  nlohmann::json by_state = nlohmann::json::object();
  for (int s = 0; s < kPowerStates; ++s)
    by_state[std::string(to_string(static_cast<PowerState>(s)))] = p.gpu_energy_by_state_j[static_cast<std::size_t>(s)];
  nlohmann::json j{{"step_time_s", p.step_time_s},
                   {"gpus", p.gpus},
                   {"servers", p.servers},
                   {"switches", p.switches},
                   {"static_w", p.static_w},
                   {"pue", p.pue},
                   {"window_s", p.window_s},
                   {"gpu_energy_j", p.gpu_energy_j},
                   {"gpu_energy_by_state_j", by_state},
                   {"it_energy_j", p.it_energy_j},
                   {"facility_energy_j", p.facility_energy_j},
                   {"energy_per_token_j", p.energy_per_token_j},
                   {"mean_w", p.mean_w},
                   {"peak_w", p.peak_w},
                   {"peak_at_s", p.peak_at_s},
                   {"min_w", p.min_w},
                   {"min_at_s", p.min_at_s},
                   {"swing_w", p.swing_w},
                   {"ramp_w", p.ramp_w},
                   {"ramp_w_per_s", p.ramp_w_per_s()},
                   {"ramp_at_s", p.ramp_at_s}};
  if (series) {
    j["series"] = {{"bin_s", p.bin_s}, {"cluster_w", p.cluster_w}, {"gpus_per_rank", p.gpus_per_rank}};
    if (!p.rank_w.empty()) j["series"]["rank_w"] = p.rank_w;
  }
  return j;
}

}  // namespace herd::sim
