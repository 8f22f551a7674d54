#include "herd/sim/plan/planner.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <functional>
#include <set>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "herd/engine/check.hpp"
#include "herd/model/error.hpp"
#include "herd/model/memory.hpp"
#include "herd/sim/plan/step_bound.hpp"

namespace herd::sim::plan {

std::int64_t SearchCounts::invalid_total() const {
  std::int64_t n = 0;
  for (auto v : invalid) n += v;
  return n;
}

bool ranks_before(const Evaluation& a, const Evaluation& b, Ranking by) {
  if (by == Ranking::energy) {
    if (a.energy_per_token_j != b.energy_per_token_j) return a.energy_per_token_j < b.energy_per_token_j;
  } else if (a.tokens_per_s != b.tokens_per_s) {
    return a.tokens_per_s > b.tokens_per_s;
  }
  return a.candidate.index < b.candidate.index;
}

namespace {
// The power comes from the step simulated with a trace: the untraced step (which bound_s bounds),
// with each op's span placed inside its compute run to the nanosecond. The energy bound gives a
// per cent away, far more than the rounding.
constexpr double kTraceSlack = 1e-2;

// Lower bound on the facility energy per token of `e` with a step of `step_s` seconds.
double least_energy_per_token_j(const Evaluation& e, double step_s) {
  if (!(e.tokens_per_step > 0)) return 0;
  return (e.least_power_w * step_s + e.kernel_energy_j) * (1.0 - kTraceSlack) / e.tokens_per_step;
}
}  // namespace

double Evaluation::energy_bound_j() const { return least_energy_per_token_j(*this, bound_s); }

PowerSetup layout_power_setup(const model::Scenario& base, int num_gpus, const StepSimulator& simulator) {
  // The fabric a candidate of num_gpus GPUs runs on (candidate_scenario: no degraded NICs).
  model::ClusterSpec cluster = base.cluster;
  cluster.num_gpus = num_gpus;
  cluster.degraded_nics.clear();
  return power_setup(base, num_gpus, count_switches(simulator.fabric(cluster)->topology()));
}

void bound_energy(Evaluation& e, const PowerSetup& setup, const StepBound& bound) {
  // Every GPU draws at least its least state draw all through the step; while a kernel runs on
  // its compute stream (one at a time), at least that kernel's state draw (communication beside it
  // only adds). The kernels take at least the cost model's time (what the simulation runs them at).
  double least = HUGE_VAL;
  for (int st = 0; st < kPowerStates; ++st) least = std::min(least, setup.gpu_draw(static_cast<PowerState>(st), false));
  const StepBound::KernelSeconds k = bound.kernel_seconds(e.candidate.plan);
  const double per_stage = double(setup.gpus) / e.candidate.plan.pp;
  e.least_power_w = setup.pue * (setup.gpus * least + setup.static_w());
  e.kernel_energy_j = setup.pue * per_stage *
                      (k.compute_bound * (setup.gpu_draw(PowerState::compute, false) - least) +
                       k.memory_bound * (setup.gpu_draw(PowerState::memory, false) - least));
}

void measure_power(const model::Scenario& base, Evaluation& e, const StepSimulator& simulator,
                   const model::CalibrationProfile* calibration, const PowerSetup& setup, const Control& control) {
  StepOptions options;
  options.calibration = calibration;
  options.trace = true;
  const model::Scenario s = candidate_scenario(base, e.candidate);
  const Control stop_only{{}, control.stop};
  StepPower p;
  if (e.simulated_ranks > 0 && e.replicated_periods == 0) {
    // Its periods never repeated untraced, so they will not traced either: the spans stream into
    // the power as they end instead of being kept (the same power, without the trace's memory).
    PowerRecorder recorder(setup, e.simulated_ranks);
    options.trace_sink = &recorder;
    options.skip_repeats = false;
    p = recorder.finish(simulator.simulate(s, options, stop_only));
  } else {
    p = step_power(simulator.simulate(s, options, stop_only), setup);
  }
  e.has_power = true;
  e.energy_per_token_j = p.energy_per_token_j;
  e.peak_power_w = p.peak_w * p.pue;
  e.mean_power_w = p.mean_w * p.pue;
  // The bound at the step's own time (the untraced one), when it has been simulated.
  const double least = least_energy_per_token_j(e, e.simulated ? std::max(e.bound_s, e.step_time_s) : e.bound_s);
  if (e.least_power_w > 0 && e.energy_per_token_j < least)
    engine::invariant_failure("plan: layout " + layout_id(e.candidate.plan, e.candidate.num_gpus) + " used " +
                              std::to_string(e.energy_per_token_j) + " J per token, below its lower bound " +
                              std::to_string(least) + " J");
}

model::Scenario candidate_scenario(const model::Scenario& base, const Candidate& c) {
  model::Scenario s;
  s.name = base.name;
  s.source = base.source;
  s.base_dir = base.base_dir;
  s.calibration = base.calibration;
  s.cluster = base.cluster;
  s.cluster.num_gpus = c.num_gpus;
  s.model = base.model;
  s.plan = c.plan;
  s.run = base.run;
  s.reliability = base.reliability;
  // What-ifs belong to one layout's ranks; a search compares layouts on a healthy cluster.
  s.cluster.degraded_nics.clear();
  return s;
}

Evaluation screen(const model::Scenario& base, const Candidate& c, double memory_headroom, const StepBound& bound) {
  Evaluation e;
  e.candidate = c;
  e.tokens_per_step = double(c.plan.global_batch) * double(base.model.seq_len);
  const model::Scenario s = candidate_scenario(base, c);
  const model::MemoryReport memory = model::analyse_memory(s);
  for (const auto& st : memory.stages)
    if (st.total() > e.memory_peak_bytes) {
      e.memory_peak_bytes = st.total();
      e.memory_stage = st.stage;
    }
  e.memory_capacity_bytes = memory.capacity_bytes;
  e.fits = e.memory_peak_bytes <= memory.capacity_bytes * (1.0 - memory_headroom);
  e.bound_s = bound.lower_bound_s(c.plan);
  return e;
}

void simulate_candidate(const model::Scenario& base, Evaluation& e, const StepSimulator& simulator,
                        const model::CalibrationProfile* calibration, const Control& control) {
  StepOptions options;
  options.calibration = calibration;
  const StepReport r = simulator.simulate(candidate_scenario(base, e.candidate), options, Control{{}, control.stop});
  e.simulated = true;
  e.simulated_ranks = r.simulated_ranks;
  e.replicated_periods = r.replicated_periods;
  e.step_time_s = r.step_time_s;
  e.tokens_per_s = r.tokens_per_s;
  e.tflops_per_gpu = r.tflops_per_gpu;
  e.mfu = r.mfu;
  e.critical_stage = r.critical_stage;
  e.breakdown = r.breakdown;
  e.bottleneck = r.bottleneck;
  if (r.step_time_s < e.bound_s * (1.0 - 1e-9))
    engine::invariant_failure("plan: layout " + layout_id(e.candidate.plan, e.candidate.num_gpus) + " simulated in " +
                              std::to_string(r.step_time_s) + " s, below its lower bound " + std::to_string(e.bound_s) + " s");
}

namespace {

// Tokens per second the bound allows: an upper bound on the layout's throughput.
double best_possible(const Evaluation& e) { return e.bound_s > 0 ? e.tokens_per_step / e.bound_s : HUGE_VAL; }

bool closer_to_fitting(const Evaluation& a, const Evaluation& b) {
  const double ra = a.memory_peak_bytes / a.memory_capacity_bytes, rb = b.memory_peak_bytes / b.memory_capacity_bytes;
  return ra != rb ? ra < rb : a.candidate.index < b.candidate.index;
}

// Rounds of this many candidates are simulated at once; fixed so that which candidates get
// simulated does not depend on the number of threads.
constexpr std::size_t kRound = 32;
// Layouts whose power is measured at once, within a round.
constexpr std::size_t kPowerBatch = 8;

template <class F>
void run_parallel(int threads, std::size_t n, F&& f) {
  if (threads > 0) {
    tbb::task_arena arena(threads);
    arena.execute([&] { tbb::parallel_for(std::size_t{0}, n, f); });
  } else {
    tbb::parallel_for(std::size_t{0}, n, f);
  }
}

}  // namespace

void for_each_index(int threads, std::size_t n, const std::function<void(std::size_t)>& f) {
  run_parallel(threads, n, f);
}

SearchResult search_layouts(const model::Scenario& s, const SearchSpace& space, const PlannerOptions& options,
                            const StepSimulator& simulator, const Control& control) {
  check_stop(control);
  const SearchSpace full = complete_space(s, space);
  if (full.top < 1) throw model::ValueError("/search/top", "must be at least 1");
  if (!(full.memory_headroom >= 0 && full.memory_headroom < 1))
    throw model::ValueError("/search/memory_headroom", "must be a fraction in [0, 1)");
  if (!(full.power_budget_w >= 0 && std::isfinite(full.power_budget_w)))
    throw model::ValueError("/search/power_budget", "must be a power above 0 (e.g. \"25 MW\")");
  Enumeration en = enumerate_layouts(s, full, options.shard, options.shards);
  const bool by_energy = options.rank_by == Ranking::energy;
  const double budget = full.power_budget_w;
  const bool power_all = options.power_all || by_energy || budget > 0;

  SearchResult result;
  result.shard = options.shard;
  result.shards = options.shards;
  result.top = full.top;
  result.rank_by = options.rank_by;
  result.counts.combinations = en.combinations;
  result.counts.invalid = en.invalid;
  result.counts.valid = static_cast<std::int64_t>(en.candidates.size());

  // The power setup of each GPU count (its switches: the fabric the simulation builds anyway).
  std::map<int, PowerSetup> setups;
  for (const auto& c : en.candidates)
    if (!setups.contains(c.num_gpus)) setups.emplace(c.num_gpus, layout_power_setup(s, c.num_gpus, simulator));

  // Screen: memory and bound, every candidate, in parallel (each writes its own slot).
  const StepBound bound(s.model, s.cluster, options.calibration);
  const model::ComputeCostModel cost(s.cluster.gpu, options.calibration);
  std::vector<Evaluation> screened(en.candidates.size());
  constexpr std::size_t kBlock = 2048;
  for (std::size_t begin = 0; begin < screened.size(); begin += kBlock) {
    check_stop(control);
    const std::size_t end = std::min(screened.size(), begin + kBlock);
    run_parallel(options.threads, end - begin, [&](std::size_t i) {
      Evaluation& e = screened[begin + i];
      e = screen(s, en.candidates[begin + i], full.memory_headroom, bound);
      if (power_all && e.fits) bound_energy(e, setups.at(e.candidate.num_gpus), bound);
    });
    if (control.progress) control.progress("screening", static_cast<int>(end), static_cast<int>(screened.size()));
  }
  en.candidates = {};

  std::vector<Evaluation> feasible, oom;
  for (auto& e : screened) {
    if (!e.fits) {
      oom.push_back(std::move(e));
    } else if (budget > 0 && e.least_power_w > budget) {
      // No window of its step can average below its least power: over the budget unsimulated.
      ++result.counts.over_power_budget;
    } else {
      feasible.push_back(std::move(e));
    }
  }
  screened = {};
  result.counts.out_of_memory = static_cast<std::int64_t>(oom.size());
  std::sort(oom.begin(), oom.end(), closer_to_fitting);
  if (oom.size() > static_cast<std::size_t>(full.top)) oom.resize(static_cast<std::size_t>(full.top));
  result.closest_out_of_memory = std::move(oom);

  // Scores, larger better: what a simulated layout achieves, and the most its bound allows.
  const auto score = [&](const Evaluation& e) { return by_energy ? -e.energy_per_token_j : e.tokens_per_s; };
  const auto bound_score = [&](const Evaluation& e) { return by_energy ? -e.energy_bound_j() : best_possible(e); };
  // Simulate in order of the bound until nothing left can enter the top K.
  std::sort(feasible.begin(), feasible.end(), [&](const Evaluation& a, const Evaluation& b) {
    const double ba = bound_score(a), bb = bound_score(b);
    return ba != bb ? ba > bb : a.candidate.index < b.candidate.index;
  });
  const auto k = static_cast<std::size_t>(full.top);
  std::vector<Evaluation>& ranked = result.ranked;
  // The K-th best score so far, per GPU count (a search over several counts ranks the top K of
  // each, for the runs and the Pareto front across counts); -inf until K layouts are known.
  std::map<int, std::vector<double>> best;  // GPU count -> best scores, descending, at most K
  const auto kth = [&](int gpus) {
    const auto it = best.find(gpus);
    return it != best.end() && it->second.size() >= k ? it->second[k - 1] : -HUGE_VAL;
  };
  const auto needed = [&](const Evaluation& e, double threshold) {
    return !options.prune || bound_score(e) >= options.simulate_above_score || bound_score(e) >= threshold;
  };
  std::size_t next = 0, simulated = 0, over_budget_simulated = 0;
  while (next < feasible.size()) {
    check_stop(control);
    // Each GPU count's threshold is fixed for the round, so the same candidates are simulated
    // with any number of threads.
    std::map<int, double> threshold;
    for (const int gpus : full.num_gpus) threshold[gpus] = kth(gpus);
    std::vector<std::size_t> round;
    for (; next < feasible.size() && round.size() < kRound; ++next)
      if (needed(feasible[next], threshold[feasible[next].candidate.num_gpus])) round.push_back(next);
    if (round.empty()) break;  // the scan reached the end: nothing left is needed
    // Each candidate first gets the dearer replay bound; what it rules out is not simulated.
    run_parallel(options.threads, round.size(), [&](std::size_t i) {
      Evaluation& e = feasible[round[i]];
      e.bound_s = std::max(e.bound_s, replay_lower_bound_s(candidate_scenario(s, e.candidate), simulator, cost));
      if (!needed(e, threshold[e.candidate.num_gpus])) return;
      simulate_candidate(s, e, simulator, options.calibration, control);
    });
    const auto accept = [&](std::size_t i) {
      if (feasible[i].over_power_budget) {
        ++result.counts.over_power_budget;
        ++over_budget_simulated;
        return;
      }
      auto& list = best[feasible[i].candidate.num_gpus];
      const double v = score(feasible[i]);
      list.insert(std::upper_bound(list.begin(), list.end(), v, std::greater<>()), v);
      if (list.size() > k) list.resize(k);
      ranked.push_back(std::move(feasible[i]));
    };
    std::vector<std::size_t> done;
    for (std::size_t i : round)
      if (feasible[i].simulated) done.push_back(i);
    simulated += done.size();
    if (!power_all) {
      for (std::size_t i : done) accept(i);
    } else {
      // The round's simulated layouts get their power (a traced simulation each) in batches, most
      // promising first: the score their simulated step allows (tokens/s; for energy the bound at
      // the simulated step time). One that the K-th best known by then already rules out needs no
      // power: it is pruned after all. Order and batches are fixed, so is the outcome.
      const auto after = [&](const Evaluation& e) {
        return by_energy ? -least_energy_per_token_j(e, e.step_time_s) : e.tokens_per_s;
      };
      std::stable_sort(done.begin(), done.end(), [&](std::size_t a, std::size_t b) {
        const double x = after(feasible[a]), y = after(feasible[b]);
        return x != y ? x > y : feasible[a].candidate.index < feasible[b].candidate.index;
      });
      for (std::size_t from = 0; from < done.size(); from += kPowerBatch) {
        std::vector<std::size_t> batch;
        for (std::size_t j = from; j < std::min(done.size(), from + kPowerBatch); ++j) {
          const Evaluation& e = feasible[done[j]];
          if (!options.prune || after(e) >= options.simulate_above_score || after(e) >= kth(e.candidate.num_gpus))
            batch.push_back(done[j]);
        }
        run_parallel(options.threads, batch.size(), [&](std::size_t j) {
          Evaluation& e = feasible[batch[j]];
          measure_power(s, e, simulator, options.calibration, setups.at(e.candidate.num_gpus), control);
          e.over_power_budget = budget > 0 && e.peak_power_w > budget;
        });
        for (std::size_t i : batch) accept(i);
      }
    }
    std::sort(ranked.begin(), ranked.end(),
              [&](const Evaluation& a, const Evaluation& b) { return ranks_before(a, b, options.rank_by); });
    if (control.progress) {
      // Estimate of the layouts still to simulate: those whose bound beats their count's K-th best.
      std::size_t left = 0;
      for (std::size_t j = next; j < feasible.size(); ++j) left += needed(feasible[j], kth(feasible[j].candidate.num_gpus));
      control.progress("simulating", static_cast<int>(simulated), static_cast<int>(simulated + left));
    }
  }
  // Without a power ranking or budget, the power of the layouts shown: the top K.
  if (!power_all) {
    const std::size_t n = std::min(ranked.size(), k);
    run_parallel(options.threads, n, [&](std::size_t i) {
      const PowerSetup& setup = setups.at(ranked[i].candidate.num_gpus);
      bound_energy(ranked[i], setup, bound);
      measure_power(s, ranked[i], simulator, options.calibration, setup, control);
    });
  }
  result.counts.simulated = static_cast<std::int64_t>(ranked.size());
  result.counts.pruned = static_cast<std::int64_t>(feasible.size() - ranked.size() - over_budget_simulated);
  return result;
}

SearchResult merge_shards(std::vector<SearchResult> shards) {
  if (shards.empty()) throw model::ValueError("/shards", "no shard to merge");
  const int n = shards.front().shards;
  const int top = shards.front().top;
  std::set<int> seen;
  for (const auto& r : shards) {
    if (r.rank_by != shards.front().rank_by)
      throw model::ValueError("/objective", "shards ranked by different objectives");
    if (r.shards != n || r.top != top)
      throw model::ValueError("/shards", "shards of different splits or top K (" + std::to_string(r.shards) + " vs " +
                                             std::to_string(n) + " shards, top " + std::to_string(r.top) + " vs " +
                                             std::to_string(top) + ")");
    if (!seen.insert(r.shard).second) throw model::ValueError("/shard", "shard " + std::to_string(r.shard) + " given twice");
  }
  if (static_cast<int>(seen.size()) != n)
    throw model::ValueError("/shards", std::to_string(n - static_cast<int>(seen.size())) + " of " + std::to_string(n) +
                                           " shards missing");
  SearchResult out;
  out.shards = 1;
  out.top = top;
  out.rank_by = shards.front().rank_by;
  // Every shard walks the whole product, so each counts every invalid combination.
  out.counts.combinations = shards.front().counts.combinations;
  out.counts.invalid = shards.front().counts.invalid;
  for (auto& r : shards) {
    out.counts.valid += r.counts.valid;
    out.counts.out_of_memory += r.counts.out_of_memory;
    out.counts.over_power_budget += r.counts.over_power_budget;
    out.counts.pruned += r.counts.pruned;
    out.counts.simulated += r.counts.simulated;
    for (auto& e : r.ranked) out.ranked.push_back(std::move(e));
    for (auto& e : r.closest_out_of_memory) out.closest_out_of_memory.push_back(std::move(e));
  }
  std::sort(out.ranked.begin(), out.ranked.end(),
            [by = out.rank_by](const Evaluation& a, const Evaluation& b) { return ranks_before(a, b, by); });
  std::sort(out.closest_out_of_memory.begin(), out.closest_out_of_memory.end(), closer_to_fitting);
  if (out.closest_out_of_memory.size() > static_cast<std::size_t>(top))
    out.closest_out_of_memory.resize(static_cast<std::size_t>(top));
  return out;
}

}  // namespace herd::sim::plan
