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

bool ranks_before(const Evaluation& a, const Evaluation& b) {
  if (a.tokens_per_s != b.tokens_per_s) return a.tokens_per_s > b.tokens_per_s;
  return a.candidate.index < b.candidate.index;
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

SearchResult search_layouts(const model::Scenario& s, const SearchSpace& space, const PlannerOptions& options,
                            const StepSimulator& simulator, const Control& control) {
  check_stop(control);
  const SearchSpace full = complete_space(s, space);
  if (full.top < 1) throw model::ValueError("/search/top", "must be at least 1");
  if (!(full.memory_headroom >= 0 && full.memory_headroom < 1))
    throw model::ValueError("/search/memory_headroom", "must be a fraction in [0, 1)");
  Enumeration en = enumerate_layouts(s, full, options.shard, options.shards);

  SearchResult result;
  result.shard = options.shard;
  result.shards = options.shards;
  result.top = full.top;
  result.counts.combinations = en.combinations;
  result.counts.invalid = en.invalid;
  result.counts.valid = static_cast<std::int64_t>(en.candidates.size());

  // Screen: memory and bound, every candidate, in parallel (each writes its own slot).
  const StepBound bound(s.model, s.cluster, options.calibration);
  const model::ComputeCostModel cost(s.cluster.gpu, options.calibration);
  std::vector<Evaluation> screened(en.candidates.size());
  constexpr std::size_t kBlock = 2048;
  for (std::size_t begin = 0; begin < screened.size(); begin += kBlock) {
    check_stop(control);
    const std::size_t end = std::min(screened.size(), begin + kBlock);
    run_parallel(options.threads, end - begin, [&](std::size_t i) {
      screened[begin + i] = screen(s, en.candidates[begin + i], full.memory_headroom, bound);
    });
    if (control.progress) control.progress("screening", static_cast<int>(end), static_cast<int>(screened.size()));
  }
  en.candidates = {};

  std::vector<Evaluation> feasible, oom;
  for (auto& e : screened) (e.fits ? feasible : oom).push_back(std::move(e));
  screened = {};
  result.counts.out_of_memory = static_cast<std::int64_t>(oom.size());
  std::sort(oom.begin(), oom.end(), closer_to_fitting);
  if (oom.size() > static_cast<std::size_t>(full.top)) oom.resize(static_cast<std::size_t>(full.top));
  result.closest_out_of_memory = std::move(oom);

  // Simulate in order of the bound until nothing left can enter the top K.
  std::sort(feasible.begin(), feasible.end(), [](const Evaluation& a, const Evaluation& b) {
    const double ba = best_possible(a), bb = best_possible(b);
    return ba != bb ? ba > bb : a.candidate.index < b.candidate.index;
  });
  const auto k = static_cast<std::size_t>(full.top);
  std::vector<Evaluation>& ranked = result.ranked;
  // The K-th best throughput so far, per GPU count (a search over several counts ranks the top K
  // of each, for the runs and the Pareto front across counts); 0 until K layouts are known.
  std::map<int, std::vector<double>> best;  // GPU count -> best tokens/s, descending, at most K
  const auto kth = [&](int gpus) {
    const auto it = best.find(gpus);
    return it != best.end() && it->second.size() >= k ? it->second[k - 1] : 0.0;
  };
  const auto needed = [&](const Evaluation& e, double threshold) {
    return !options.prune || best_possible(e) >= options.simulate_above_tokens_per_s || best_possible(e) >= threshold;
  };
  std::size_t next = 0;
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
    // Each candidate first gets the dearer stream bound; what it rules out is not simulated.
    run_parallel(options.threads, round.size(), [&](std::size_t i) {
      Evaluation& e = feasible[round[i]];
      e.bound_s = std::max(e.bound_s, stream_lower_bound_s(candidate_scenario(s, e.candidate), simulator, cost));
      if (!needed(e, threshold[e.candidate.num_gpus])) return;
      simulate_candidate(s, e, simulator, options.calibration, control);
    });
    for (std::size_t i : round) {
      if (!feasible[i].simulated) continue;
      auto& list = best[feasible[i].candidate.num_gpus];
      list.insert(std::upper_bound(list.begin(), list.end(), feasible[i].tokens_per_s, std::greater<>()), feasible[i].tokens_per_s);
      if (list.size() > k) list.resize(k);
      ranked.push_back(std::move(feasible[i]));
    }
    std::sort(ranked.begin(), ranked.end(), ranks_before);
    if (control.progress) {
      // Estimate of the layouts still to simulate: those whose bound beats their count's K-th best.
      std::size_t left = 0;
      for (std::size_t j = next; j < feasible.size(); ++j) left += needed(feasible[j], kth(feasible[j].candidate.num_gpus));
      const std::size_t done = ranked.size();
      control.progress("simulating", static_cast<int>(done), static_cast<int>(done + left));
    }
  }
  result.counts.simulated = static_cast<std::int64_t>(ranked.size());
  result.counts.pruned = static_cast<std::int64_t>(feasible.size()) - result.counts.simulated;
  return result;
}

SearchResult merge_shards(std::vector<SearchResult> shards) {
  if (shards.empty()) throw model::ValueError("/shards", "no shard to merge");
  const int n = shards.front().shards;
  const int top = shards.front().top;
  std::set<int> seen;
  for (const auto& r : shards) {
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
  // Every shard walks the whole product, so each counts every invalid combination.
  out.counts.combinations = shards.front().counts.combinations;
  out.counts.invalid = shards.front().counts.invalid;
  for (auto& r : shards) {
    out.counts.valid += r.counts.valid;
    out.counts.out_of_memory += r.counts.out_of_memory;
    out.counts.pruned += r.counts.pruned;
    out.counts.simulated += r.counts.simulated;
    for (auto& e : r.ranked) out.ranked.push_back(std::move(e));
    for (auto& e : r.closest_out_of_memory) out.closest_out_of_memory.push_back(std::move(e));
  }
  std::sort(out.ranked.begin(), out.ranked.end(), ranks_before);
  std::sort(out.closest_out_of_memory.begin(), out.closest_out_of_memory.end(), closer_to_fitting);
  if (out.closest_out_of_memory.size() > static_cast<std::size_t>(top))
    out.closest_out_of_memory.resize(static_cast<std::size_t>(top));
  return out;
}

}  // namespace herd::sim::plan
