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
  p.limit_w = s.whatif.power_cap_w > 0 ? std::min(s.whatif.power_cap_w, gpu.power_limit_w) : gpu.power_limit_w;
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


PowerState state_of(const TraceOp& op, const PowerSetup& setup) {
  // Roofline: compute-bound when the FLOPs at peak take longer than the bytes at full bandwidth.
  const double flop_time = op.flops / std::max(setup.peak_flops, 1.0);
  const double byte_time = op.hbm_bytes / std::max(setup.hbm_bandwidth, 1.0);
  return op.flops > 0 && flop_time >= byte_time ? PowerState::compute : PowerState::memory;
}

using Energy = PowerRecorder::Energy;
constexpr double kUnitsPerJoule = 1e9;
Energy to_energy(double joules) { return static_cast<Energy>(std::nearbyint(joules * kUnitsPerJoule)); }
double to_joules(Energy e) { return static_cast<double>(e) / kUnitsPerJoule; }

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
    : setup_(setup),
      ranks_(std::max(1, ranks)),
      gpus_per_rank_(double(setup.gpus) / std::max(1, ranks)),
      // A tenth of the window, doubled by cover() as the step grows.
      fine_s_(std::max(setup.window_s / 10, kMinBinS)),
      rank_(static_cast<std::size_t>(ranks_)) {
  if (ranks_ <= StepPower::kMaxRankSeries) kept_.resize(static_cast<std::size_t>(ranks_));
}

int PowerRecorder::what_of(model::Stream stream, const TraceOp& op) const {
  if (stream != model::Stream::compute) return 2;
  return state_of(op, setup_) == PowerState::compute ? 0 : 1;
}

void PowerRecorder::started(int rank, model::Stream stream, const TraceOp& op, double t) {
  if (rank < 0 || rank >= ranks_) return;
  streaming_ = true;
  apply(rank, Change{t, what_of(stream, op), +1});
}

void PowerRecorder::span(const TraceSpan& span, const TraceOp& op) {
  if (span.rank < 0 || span.rank >= ranks_) return;
  const int what = what_of(span.stream, op);
  if (streaming_) return apply(span.rank, Change{span.end_s, what, -1});  // its start came as it started
  if (!(span.end_s > span.start_s)) return;
  auto& held = rank_[static_cast<std::size_t>(span.rank)].held;
  held.push_back({span.start_s, what, +1});
  held.push_back({span.end_s, what, -1});
}

std::size_t PowerRecorder::held_changes() const {
  std::size_t n = 0;
  for (const Rank& r : rank_) n += r.held.size();
  return n;
}

void PowerRecorder::cover(double until) {
  while (until / bin_s() - 1e-6 > double(kMaxBins)) {
    // Two bins become one: the energies add, their edges stay edges.
    auto merge = [](std::vector<Energy>& bins) {
      for (std::size_t i = 0; i < bins.size(); i += 2) bins[i / 2] = bins[i] + (i + 1 < bins.size() ? bins[i + 1] : 0);
      bins.resize((bins.size() + 1) / 2);
    };
    merge(total_);
    for (auto& k : kept_) merge(k);
    ++doublings_;
  }
  const auto n = static_cast<std::size_t>(std::max(1.0, std::ceil(until / bin_s())));
  if (n > total_.size()) {
    total_.resize(n, 0);
    for (auto& k : kept_) k.resize(n, 0);
  }
}

// Split at the first bins' edges whatever the bins are now: the same span gives the same
// nanojoules in the same places, however many doublings came before it.
void PowerRecorder::deposit(std::vector<Energy>& bins, double a, double b, double watts) const {
  if (!(b > a) || bins.empty()) return;
  const auto last = static_cast<std::int64_t>(bins.size()) - 1;
  auto add = [&](std::int64_t fine, Energy e) { bins[static_cast<std::size_t>(std::min(fine >> doublings_, last))] += e; };
  const auto i = static_cast<std::int64_t>(a / fine_s_), j = static_cast<std::int64_t>(b / fine_s_);
  if (i >= j) return add(i, to_energy(watts * (b - a)));
  add(i, to_energy(watts * (double(i + 1) * fine_s_ - a)));
  // Whole first bins i+1 .. j-1, the same energy each, counted per bin.
  const Energy whole = to_energy(watts * fine_s_);
  for (std::int64_t k = i + 1; k < j;) {
    const std::int64_t end = std::min(j, ((k >> doublings_) + 1) << doublings_);
    add(k, whole * (end - k));
    k = end;
  }
  if (b > double(j) * fine_s_) add(j, to_energy(watts * (b - double(j) * fine_s_)));
}

void PowerRecorder::advance(int r, double until) {
  Rank& rank = rank_[static_cast<std::size_t>(r)];
  if (!(until > rank.t)) return;
  const double t = rank.t;
  const bool comm = rank.count[2] > 0;
  const PowerState state = rank.count[0] > 0   ? PowerState::compute
                           : rank.count[1] > 0 ? PowerState::memory
                           : comm              ? PowerState::communication
                                               : PowerState::wait;
  const double w = setup_.gpu_draw(state, comm);
  cover(until);
  deposit(total_, t, until, w * gpus_per_rank_);
  if (!kept_.empty()) deposit(kept_[static_cast<std::size_t>(r)], t, until, w);
  // Energy by state: the communication beside a kernel is the communication's.
  const double base = setup_.gpu_draw(state, false);
  by_state_[static_cast<std::size_t>(state)] += to_energy(base * (until - t) * gpus_per_rank_);
  if (w != base) by_state_[static_cast<std::size_t>(PowerState::communication)] += to_energy((w - base) * (until - t) * gpus_per_rank_);
  rank.t = until;
}

void PowerRecorder::apply(int r, const Change& change) {
  advance(r, std::max(0.0, change.t));
  int& count = rank_[static_cast<std::size_t>(r)].count[static_cast<std::size_t>(change.what)];
  count = std::max(0, count + change.delta);
}

StepPower PowerRecorder::finish(const StepReport& report) {
  const PowerSetup& setup = setup_;
  StepPower p;
  const double T = report.step_time_s;
  if (!(T > 0)) throw model::ValueError("", "a step of no time has no power");
  p.step_time_s = T;
  p.window_s = setup.window_s;
  p.pue = setup.pue;
  p.gpus = setup.gpus;
  p.servers = setup.servers;
  p.switches = setup.switches;
  p.static_w = setup.static_w();
  p.gpus_per_rank = gpus_per_rank_;

  // Every rank's changes into the series (those held, in the order of time), then on to the end.
  cover(T);
  for (int r = 0; r < ranks_; ++r) {
    auto& held = rank_[static_cast<std::size_t>(r)].held;
    for (Change& ch : held) ch.t = std::clamp(ch.t, 0.0, T);
    std::sort(held.begin(), held.end(), [](const Change& a, const Change& b) { return a.t < b.t || (a.t == b.t && a.delta < b.delta); });
    for (const Change& ch : held) apply(r, ch);
    std::vector<Change>().swap(held);
    advance(r, T);
  }
  // Every bin is bin_s wide but the last, which ends at the step's end (and holds anything after).
  p.bin_s = bin_s();
  const auto bins = static_cast<std::size_t>(std::max(1.0, std::ceil(T / p.bin_s - 1e-6)));
  auto fold = [bins](std::vector<Energy>& x) {
    for (std::size_t i = bins; i < x.size(); ++i) x[bins - 1] += x[i];
    x.resize(bins, 0);
  };
  fold(total_);
  for (auto& k : kept_) fold(k);
  auto width = [&](std::size_t i) { return i + 1 == bins ? T - double(i) * p.bin_s : p.bin_s; };
  for (const auto& k : kept_) {
    std::vector<double> w(bins);
    for (std::size_t i = 0; i < bins; ++i) w[i] = to_joules(k[i]) / width(i);
    p.rank_w.push_back(std::move(w));
  }
  Energy gpu = 0;
  for (std::size_t s = 0; s < by_state_.size(); ++s) {
    p.gpu_energy_by_state_j[s] = to_joules(by_state_[s]);
    gpu += by_state_[s];
  }
  p.gpu_energy_j = to_joules(gpu);
  p.it_energy_j = p.gpu_energy_j + p.static_w * T;
  p.facility_energy_j = p.it_energy_j * setup.pue;
  p.energy_per_token_j = report.tokens_per_step > 0 ? p.facility_energy_j / report.tokens_per_step : 0;
  p.mean_w = p.it_energy_j / T;

  p.cluster_w.resize(bins);
  for (std::size_t i = 0; i < bins; ++i) {
    p.cluster_w[i] = to_joules(total_[i]) / width(i) + p.static_w;
  }
  // Windows over whole bins; the last, partial bin weighs as a whole one.
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
