#include "herd/app/plan_use_case.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <sstream>

#include "herd/app/scenario_loading.hpp"
#include "herd/app/train_use_case.hpp"
#include "herd/engine/time_overflow.hpp"
#include "herd/model/csv.hpp"
#include "herd/model/error.hpp"
#include "herd/model/units.hpp"
#include "herd/sim/plan/step_bound.hpp"

namespace herd::app {

namespace sp = sim::plan;
using model::InputError;

std::string_view to_string(Objective o) {
  switch (o) {
    case Objective::throughput: return "throughput";
    case Objective::time_to_train: return "time-to-train";
    case Objective::gpu_hours: return "gpu-hours";
    case Objective::energy: return "energy";
  }
  return "throughput";
}

Objective parse_objective(std::string_view text) {
  for (Objective o : {Objective::throughput, Objective::time_to_train, Objective::gpu_hours, Objective::energy})
    if (to_string(o) == text) return o;
  throw InputError("--objective", "",
                   "\"" + std::string(text) + "\" is not one of throughput, time-to-train, gpu-hours, energy");
}

double parse_power_budget(std::string_view text) {
  const std::optional<double> w = model::parse_quantity(text, model::Dimension::power);
  if (!w || !std::isfinite(*w))
    throw InputError("--power-budget", "", "\"" + std::string(text) + "\" is not a power (e.g. \"25 MW\", \"900 kW\")");
  if (!(*w > 0)) throw InputError("--power-budget", "", "\"" + std::string(text) + "\" must be above 0 W");
  return *w;
}

// ----------------------------------------------------------------------------- space lists

namespace {

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    if (comma != 0) out.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
  }
  return out;
}

long long integer(std::string_view flag, std::string_view item) {
  long long v = 0;
  const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
  if (ec != std::errc{} || end != item.data() + item.size() || v < 0)
    throw InputError("--" + std::string(flag), "", "\"" + std::string(item) + "\" is not a non-negative integer");
  return v;
}

// "1,2,4", "8:64" (powers of two from 8 to 64) or a mix.
template <class T>
std::vector<T> integers(std::string_view flag, std::string_view text) {
  std::vector<T> out;
  for (auto item : split(text)) {
    const auto colon = item.find(':');
    if (colon == std::string_view::npos) {
      out.push_back(static_cast<T>(integer(flag, item)));
      continue;
    }
    const long long lo = integer(flag, item.substr(0, colon)), hi = integer(flag, item.substr(colon + 1));
    if (lo < 1 || hi < lo)
      throw InputError("--" + std::string(flag), "", "range \"" + std::string(item) + "\" must be LOW:HIGH with 1 <= LOW <= HIGH");
    for (long long v = lo; v <= hi; v *= 2) out.push_back(static_cast<T>(v));
  }
  if (out.empty()) throw InputError("--" + std::string(flag), "", "needs at least one value");
  return out;
}

template <class E, std::size_t N>
std::vector<E> names(std::string_view flag, std::string_view text, const std::array<E, N>& options) {
  std::vector<E> out;
  for (auto item : split(text)) {
    bool found = false;
    for (E e : options)
      if (model::to_string(e) == item) out.push_back(e), found = true;
    if (!found) {
      std::string all;
      for (E e : options) all += (all.empty() ? "" : ", ") + std::string(model::to_string(e));
      throw InputError("--" + std::string(flag), "", "\"" + std::string(item) + "\" is not one of " + all);
    }
  }
  if (out.empty()) throw InputError("--" + std::string(flag), "", "needs at least one value");
  return out;
}

}  // namespace

void set_space_list(model::SearchSpace& space, std::string_view key, std::string_view text) {
  using namespace model;
  if (key == "tp") space.tp = integers<int>(key, text);
  else if (key == "cp") space.cp = integers<int>(key, text);
  else if (key == "pp") space.pp = integers<int>(key, text);
  else if (key == "v") space.virtual_stages = integers<int>(key, text);
  else if (key == "mb") space.micro_batch = integers<int>(key, text);
  else if (key == "n") space.round_size = integers<int>(key, text);
  else if (key == "gpus") space.num_gpus = integers<int>(key, text);
  else if (key == "batch") space.global_batch = integers<std::int64_t>(key, text);
  else if (key == "overlap") space.tp_comm_overlap = integers<int>(key, text);
  else if (key == "schedule")
    space.schedules = names(key, text, std::array{Schedule::gpipe, Schedule::one_f_one_b, Schedule::interleaved,
                                                  Schedule::llama3, Schedule::zero_bubble});
  else if (key == "layout") space.layer_layouts = names(key, text, std::array{LayerLayout::uniform, LayerLayout::llama3});
  else if (key == "dp-mode")
    space.dp_sharding = names(key, text, std::array{DpSharding::none, DpSharding::zero1, DpSharding::fsdp, DpSharding::zero3});
  else if (key == "recompute")
    space.recompute = names(key, text, std::array{Recompute::none, Recompute::selective, Recompute::full, Recompute::op});
  else if (key == "order") {
    space.rank_orders.clear();
    for (auto item : split(text)) {
      model::PlanSpec p;
      int gpus = 0;
      try {
        sp::parse_layout("order=" + std::string(item), p, gpus);
      } catch (const model::ValueError& e) {
        throw InputError("--order", "", e.message());
      }
      space.rank_orders.push_back(p.rank_order);
    }
  } else {
    throw InputError("--" + std::string(key), "", "not a search list");
  }
}

// ----------------------------------------------------------------------------- the use case

namespace {

// The scenario's own search section under the request's lists: a list given by the request wins.
model::SearchSpace effective_space(const PlanRequest& r) {
  model::SearchSpace s = r.scenario.search;
  const model::SearchSpace& q = r.space;
  const auto take = [](auto& into, const auto& from) {
    if (!from.empty()) into = from;
  };
  take(s.num_gpus, q.num_gpus);
  take(s.global_batch, q.global_batch);
  take(s.tp, q.tp);
  take(s.cp, q.cp);
  take(s.pp, q.pp);
  take(s.virtual_stages, q.virtual_stages);
  take(s.layer_layouts, q.layer_layouts);
  take(s.schedules, q.schedules);
  take(s.round_size, q.round_size);
  take(s.micro_batch, q.micro_batch);
  take(s.dp_sharding, q.dp_sharding);
  take(s.recompute, q.recompute);
  take(s.tp_comm_overlap, q.tp_comm_overlap);
  take(s.rank_orders, q.rank_orders);
  if (q.memory_headroom > 0) s.memory_headroom = q.memory_headroom;
  if (q.top != model::SearchSpace{}.top) s.top = q.top;
  if (q.power_budget_w > 0) s.power_budget_w = q.power_budget_w;
  return s;
}

// Rethrows a ValueError of the search (bad space, bad shard) as input at fault.
template <class F>
auto as_input(const std::string& source, F&& f) {
  try {
    return f();
  } catch (const model::ValueError& e) {
    throw InputError(source, e.pointer(), e.message());
  }
}

std::string percent(double fraction) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f %%", 100 * fraction);
  return b;
}

std::string seconds(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f s", s);
  return b;
}

// What limits a simulated layout, largest first.
std::vector<std::string> limits_of(const sp::Evaluation& e) {
  const auto& b = e.breakdown;
  std::vector<std::pair<double, std::string>> parts = {
      {b.bubble_s, "pipeline bubble"},          {b.exposed_dp_s, "exposed data-parallel communication"},
      {b.exposed_tp_s, "exposed tensor-parallel communication"}, {b.exposed_pp_s, "exposed pipeline transfers"},
      {b.exposed_cp_s, "exposed context-parallel communication"}, {b.optimizer_s, "optimizer step"}};
  std::sort(parts.begin(), parts.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
  std::vector<std::string> out;
  out.push_back("compute " + seconds(b.compute_s) + " (" + percent(b.compute_s / e.step_time_s) + " of the step, stage " +
                std::to_string(e.critical_stage) + ")");
  for (const auto& [t, what] : parts)
    if (t > 0.005 * e.step_time_s) out.push_back(what + " " + seconds(t) + " (" + percent(t / e.step_time_s) + ")");
  const double use = e.memory_peak_bytes / e.memory_capacity_bytes;
  if (use > 0.85)
    out.push_back("memory: stage " + std::to_string(e.memory_stage) + " uses " + percent(use) +
                  " of the GPU (a faster layout that keeps more activations may not fit)");
  return out;
}

struct Search {
  const PlanRequest& request;
  const sim::Control& control;
  model::SearchSpace space;
  const sim::StepSimulator& simulator;
  const model::CalibrationProfile* calibration;
  sp::StepBound bound;

  bool by_energy() const { return request.objective == Objective::energy; }

  /// Screened and, when it fits, simulated; ranking by energy, with its power too.
  sp::Evaluation evaluate(const model::PlanSpec& p, int gpus) const {
    sp::Candidate c{-1, p, gpus};
    sp::Evaluation e = sp::screen(request.scenario, c, space.memory_headroom, bound);
    if (e.fits) sp::simulate_candidate(request.scenario, e, simulator, calibration, control);
    if (e.simulated && by_energy()) {
      const sim::PowerSetup setup = sp::layout_power_setup(request.scenario, gpus, simulator);
      sp::bound_energy(e, setup, bound);
      sp::measure_power(request.scenario, e, simulator, calibration, setup, control);
    }
    return e;
  }

  /// What the search ranks by, larger better: tokens/s, or minus the energy per token.
  double score(const sp::Evaluation& e) const { return by_energy() ? -e.energy_per_token_j : e.tokens_per_s; }

  // "" when p is a layout of this model and cluster, else why not.
  std::string invalid(const model::PlanSpec& p, int gpus) const {
    model::ClusterSpec c = request.scenario.cluster;
    c.num_gpus = gpus;
    try {
      model::validate_plan(p, request.scenario.model, c);
    } catch (const model::ValueError& e) {
      return e.pointer() + ": " + e.message();
    }
    return "";
  }
};

// Single-key changes of `p` over the searched lists.
std::vector<std::pair<std::string, model::PlanSpec>> neighbours(const model::PlanSpec& p, const model::SearchSpace& s) {
  std::vector<std::pair<std::string, model::PlanSpec>> out;
  const auto vary = [&](const char* key, const auto& list, auto member, auto show) {
    for (const auto& v : list) {
      model::PlanSpec q = p;
      if (q.*member == v) continue;
      q.*member = v;
      out.push_back({std::string(key) + " " + show(p.*member) + " -> " + show(v), q});
    }
  };
  const auto num = [](auto v) { return std::to_string(v); };
  const auto name = [](auto v) { return std::string(model::to_string(v)); };
  vary("tp", s.tp, &model::PlanSpec::tp, num);
  vary("cp", s.cp, &model::PlanSpec::cp, num);
  vary("pp", s.pp, &model::PlanSpec::pp, num);
  vary("v", s.virtual_stages, &model::PlanSpec::virtual_stages, num);
  vary("micro-batch", s.micro_batch, &model::PlanSpec::micro_batch, num);
  vary("schedule", s.schedules, &model::PlanSpec::schedule, name);
  vary("layer layout", s.layer_layouts, &model::PlanSpec::layer_layout, name);
  vary("dp mode", s.dp_sharding, &model::PlanSpec::dp_sharding, name);
  vary("recompute", s.recompute, &model::PlanSpec::recompute, name);
  for (int o : s.tp_comm_overlap) {
    model::PlanSpec q = p;
    if (q.tp_comm_overlap == (o != 0)) continue;
    q.tp_comm_overlap = o != 0;
    out.push_back({std::string("TP overlap ") + (o ? "on" : "off"), q});
  }
  return out;
}

Explanation explain(const Search& search, const sp::SearchResult& result, const model::PlanSpec& p, int gpus,
                    const sp::Evaluation& e, const std::string& invalid) {
  Explanation x;
  x.id = sp::layout_id(p, gpus);
  x.invalid = invalid;
  x.layout = e;
  if (!invalid.empty() || !e.simulated) return x;
  const auto& ranked = result.ranked;
  const std::string id = x.id;
  x.by_energy = search.by_energy();
  // Behind `b` by the ranking: more time per token, or more energy per token.
  const auto behind = [&](const sp::Evaluation& a, const sp::Evaluation& b) {
    return x.by_energy ? a.energy_per_token_j / b.energy_per_token_j - 1.0 : b.tokens_per_s / a.tokens_per_s - 1.0;
  };
  int better = 0;
  for (const auto& r : ranked)
    if (sp::layout_id(r.candidate.plan, r.candidate.num_gpus) != id && search.score(r) > search.score(e)) ++better;
  x.rank = better + 1;
  // Exact when every layout that could beat it was simulated (the search was asked to).
  x.rank_exact = true;
  if (!ranked.empty()) x.behind_best = behind(e, ranked.front());
  if (x.behind_best < 0) x.behind_best = 0;
  x.limits = limits_of(e);

  // Single-key changes, simulated (or taken from the search), best first.
  std::map<std::string, const sp::Evaluation*> known;
  for (const auto& r : ranked) known.emplace(sp::layout_id(r.candidate.plan, r.candidate.num_gpus), &r);
  auto candidates = neighbours(p, search.space);
  std::vector<Explanation::Change> changes(candidates.size());
  std::vector<char> usable(candidates.size(), 0);
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    auto& [what, q] = candidates[i];
    sp::derive_plan(q, gpus);
    if (!search.invalid(q, gpus).empty()) continue;
    const std::string qid = sp::layout_id(q, gpus);
    sim::check_stop(search.control);
    sp::Evaluation ev;
    if (auto it = known.find(qid); it != known.end()) ev = *it->second;
    else ev = search.evaluate(q, gpus);
    if (!ev.simulated || (x.by_energy && !ev.has_power)) continue;
    changes[i] = {what, qid, ev.tokens_per_s, ev.energy_per_token_j, behind(e, ev), ev.fits};
    usable[i] = search.score(ev) > search.score(e);
  }
  for (std::size_t i = 0; i < changes.size(); ++i)
    if (usable[i]) x.changes.push_back(changes[i]);
  std::stable_sort(x.changes.begin(), x.changes.end(), [](const auto& a, const auto& b) { return a.gain > b.gain; });
  if (x.changes.size() > 2) x.changes.resize(2);
  return x;
}

// The run of each of the best layouts per GPU count: time-to-train and GPU-hours.
std::vector<RunEstimate> estimate_runs(const PlanRequest& request, const sp::SearchResult& result,
                                       const sim::StepSimulator& simulator, const sim::Control& control) {
  std::map<int, int> taken;
  std::vector<const sp::Evaluation*> chosen;
  for (const auto& e : result.ranked)
    if (taken[e.candidate.num_gpus]++ < request.run_candidates) chosen.push_back(&e);
  std::vector<RunEstimate> runs;
  int done = 0;
  for (const auto* e : chosen) {
    sim::check_stop(control);
    TrainRequest t;
    t.scenario = model::with_overrides(request.scenario, sp::layout_overrides(e->candidate.plan, e->candidate.num_gpus),
                                       "herd plan");
    t.trials = request.run_trials;
    t.calibration_file = request.calibration_file;
    t.simulator = &simulator;
    const TrainResult r = train(t, sim::Control{{}, control.stop});
    RunEstimate run;
    run.index = e->candidate.index;
    run.layout = sp::layout_id(e->candidate.plan, e->candidate.num_gpus);
    run.num_gpus = e->candidate.num_gpus;
    run.step_time_s = e->step_time_s;
    run.time_to_train_s = r.report.elapsed_s.mean;
    run.p10_s = r.report.elapsed_s.p10;
    run.p90_s = r.report.elapsed_s.p90;
    run.gpu_hours = r.report.gpu_hours;
    runs.push_back(std::move(run));
    if (control.progress) control.progress("runs", ++done, static_cast<int>(chosen.size()));
  }
  // Pareto front: no other run is at least as fast and at least as cheap, and better in one.
  for (auto& a : runs) {
    a.pareto = true;
    for (const auto& b : runs)
      if (&a != &b && b.time_to_train_s <= a.time_to_train_s && b.gpu_hours <= a.gpu_hours &&
          (b.time_to_train_s < a.time_to_train_s || b.gpu_hours < a.gpu_hours))
        a.pareto = false;
  }
  const bool by_hours = request.objective == Objective::gpu_hours;
  std::stable_sort(runs.begin(), runs.end(), [&](const RunEstimate& a, const RunEstimate& b) {
    const double x = by_hours ? a.gpu_hours : a.time_to_train_s, y = by_hours ? b.gpu_hours : b.time_to_train_s;
    return x != y ? x < y : a.index < b.index;
  });
  return runs;
}

// The top layouts re-simulated with one uncertain input moved at a time.
Robustness robustness(const PlanRequest& request, const sp::SearchResult& result, double power_budget_w,
                      const sim::StepSimulator& simulator, const model::CalibrationProfile* calibration,
                      const sim::Control& control) {
  Robustness out;
  const std::size_t n = std::min<std::size_t>(result.ranked.size(), 5);
  if (n < 2) return out;
  struct Move {
    std::string what;
    std::function<void(model::Scenario&, model::PlanSpec&)> apply;
  };
  const double sustained = request.scenario.cluster.gpu.efficiency.sustained;
  const double nic = request.scenario.cluster.nic_efficiency;
  const std::vector<Move> moves = {
      {"GPU sustained speed -10 %", [&](model::Scenario& s, model::PlanSpec&) { s.cluster.gpu.efficiency.sustained = 0.9 * sustained; }},
      {"GPU sustained speed +10 %",
       [&](model::Scenario& s, model::PlanSpec&) { s.cluster.gpu.efficiency.sustained = std::min(1.0, 1.1 * sustained); }},
      {"NIC efficiency -10 %", [&](model::Scenario& s, model::PlanSpec&) { s.cluster.nic_efficiency = 0.9 * nic; }},
      {"NIC efficiency +10 % (at most line rate)",
       [&](model::Scenario& s, model::PlanSpec&) { s.cluster.nic_efficiency = std::min(1.0, 1.1 * nic); }},
      {"gradient sync per round (sharded gradients)",
       [](model::Scenario&, model::PlanSpec& p) { if (p.shards_gradients()) p.grad_sync = model::GradSync::per_round; }},
      {"gradient sync per step (sharded gradients)",
       [](model::Scenario&, model::PlanSpec& p) { if (p.shards_gradients()) p.grad_sync = model::GradSync::per_step; }},
  };
  const std::int64_t winner = result.ranked.front().candidate.index;
  const sp::Ranking by = result.rank_by;
  int done = 0;
  for (const auto& move : moves) {
    model::Scenario base = request.scenario;
    model::PlanSpec ignored;
    move.apply(base, ignored);
    std::vector<sp::Evaluation> evals(result.ranked.begin(), result.ranked.begin() + static_cast<std::ptrdiff_t>(n));
    sim::check_stop(control);
    // Each layout writes its own slot: the same order with any number of threads.
    sp::for_each_index(request.options.threads, evals.size(), [&](std::size_t i) {
      sp::Evaluation& e = evals[i];
      model::Scenario unused;  // the move's scenario part is in `base` already; each task its own
      move.apply(unused, e.candidate.plan);
      sim::StepOptions options;
      options.calibration = calibration;
      const auto r = simulator.simulate(sp::candidate_scenario(base, e.candidate), options, sim::Control{{}, control.stop});
      e.tokens_per_s = r.tokens_per_s;
      // Ranking by energy, or under a power budget (a faster step draws more): its power, moved too.
      if (by == sp::Ranking::energy || power_budget_w > 0) {
        e.least_power_w = e.kernel_energy_j = 0;  // the bound was the unmoved layout's
        sp::measure_power(base, e, simulator, calibration,
                          sp::layout_power_setup(base, e.candidate.num_gpus, simulator), control);
        e.over_power_budget = power_budget_w > 0 && e.peak_power_w > power_budget_w;
      }
    });
    std::stable_sort(evals.begin(), evals.end(),
                     [by](const sp::Evaluation& a, const sp::Evaluation& b) { return sp::ranks_before(a, b, by); });
    Perturbation pert;
    pert.what = move.what;
    for (const auto& e : evals) (e.over_power_budget ? pert.over_power_budget : pert.order).push_back(e.candidate.index);
    pert.winner_holds = !pert.order.empty() && pert.order.front() == winner;
    out.winner_robust = out.winner_robust && pert.winner_holds;
    out.perturbations.push_back(std::move(pert));
    if (control.progress) control.progress("robustness", ++done, static_cast<int>(moves.size()));
  }
  return out;
}

}  // namespace

namespace {

PlanResult search_and_rank(const PlanRequest& given, const sim::Control& control) {
  const std::optional<model::CalibrationProfile> profile = calibration_profile(given.scenario, given.calibration_file);
  const model::CalibrationProfile* calibration = profile ? &*profile : nullptr;
  PlanRequest request = given;
  request.scenario = with_profile(given.scenario, calibration);
  const model::Scenario& s = request.scenario;
  std::optional<sim::StepSimulator> own;
  if (!request.simulator) own.emplace(256);
  const sim::StepSimulator& simulator = request.simulator ? *request.simulator : *own;

  PlanResult out;
  out.scenario = s.name;
  out.resolved_scenario = s.resolved;
  out.level = compute_level(s, calibration);
  out.objective = request.objective;
  const model::SearchSpace asked = effective_space(request);
  out.space = as_input("search", [&] { return sp::complete_space(s, asked); });
  Search search{request, control, out.space, simulator, calibration, sp::StepBound(s.model, s.cluster, calibration)};

  // The layout to explain, evaluated first: the search then simulates everything that might beat it.
  sp::PlannerOptions options = request.options;
  options.calibration = calibration;
  options.rank_by = request.objective == Objective::energy ? sp::Ranking::energy : sp::Ranking::throughput;
  std::optional<std::tuple<model::PlanSpec, int, sp::Evaluation, std::string>> target;
  if (request.explain) {
    model::PlanSpec p = s.plan;
    int gpus = s.cluster.num_gpus;
    if (!request.explain->empty()) as_input("--explain", [&] { sp::parse_layout(*request.explain, p, gpus); return 0; });
    const std::string why = search.invalid(p, gpus);
    sp::Evaluation e;
    if (why.empty()) e = search.evaluate(p, gpus);
    if (e.simulated) options.simulate_above_score = search.score(e);
    target.emplace(p, gpus, e, why);
  }
  out.search = as_input("search", [&] { return sp::search_layouts(s, asked, options, simulator, control); });
  if (target) {
    auto& [p, gpus, e, why] = *target;
    out.explanation = explain(search, out.search, p, gpus, e, why);
  }
  const bool many_counts = out.space.num_gpus.size() > 1;
  if (request.objective == Objective::time_to_train || request.objective == Objective::gpu_hours || many_counts)
    out.runs = estimate_runs(request, out.search, simulator, control);
  if (request.robustness && options.shards == 1)
    out.robustness = robustness(request, out.search, out.space.power_budget_w, simulator, calibration, control);
  return out;
}

}  // namespace

PlanResult plan(const PlanRequest& request, const sim::Control& control) {
  try {
    return search_and_rank(request, control);
  } catch (const engine::TimeOverflow&) {
    // A layout whose step passes 64-bit nanoseconds: the scenario is out of proportion, as in herd simulate.
    time_overflow(request.scenario);
  }
}

// ----------------------------------------------------------------------------- JSON, CSV, merge

namespace {

using nlohmann::json;
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

template <class T>
json list_json(const std::vector<T>& v) {
  json a = json::array();
  for (const auto& x : v) {
    if constexpr (std::is_enum_v<T>) a.push_back(std::string(model::to_string(x)));
    else a.push_back(x);
  }
  return a;
}

json space_json(const model::SearchSpace& s) {
  json orders = json::array();
  for (const auto& o : s.rank_orders) orders.push_back(sp::rank_order_text(o));
  return {{"num_gpus", list_json(s.num_gpus)},       {"global_batch", list_json(s.global_batch)},
          {"tp", list_json(s.tp)},                   {"cp", list_json(s.cp)},
          {"pp", list_json(s.pp)},                   {"virtual_stages", list_json(s.virtual_stages)},
          {"layer_layout", list_json(s.layer_layouts)}, {"schedule", list_json(s.schedules)},
          {"round_size", list_json(s.round_size)},   {"micro_batch", list_json(s.micro_batch)},
          {"dp_sharding", list_json(s.dp_sharding)}, {"recompute", list_json(s.recompute)},
          {"tp_comm_overlap", list_json(s.tp_comm_overlap)}, {"rank_order", orders},
          {"memory_headroom", s.memory_headroom},    {"top", s.top},
          {"power_budget_w", s.power_budget_w}};
}

json evaluation_json(const sp::Evaluation& e) {
  json j = {{"index", e.candidate.index},
            {"layout", sp::layout_id(e.candidate.plan, e.candidate.num_gpus)},
            {"label", sp::layout_label(e.candidate.plan)},
            {"num_gpus", e.candidate.num_gpus},
            {"global_batch", e.candidate.plan.global_batch},
            {"microbatches", e.candidate.plan.microbatches()},
            {"tokens_per_step", e.tokens_per_step},
            {"bound_s", e.bound_s},
            {"memory_peak_gib", e.memory_peak_bytes / kGiB},
            {"memory_capacity_gib", e.memory_capacity_bytes / kGiB},
            {"memory_stage", e.memory_stage},
            {"fits", e.fits},
            {"simulated", e.simulated}};
  if (e.simulated) {
    j["step_time_s"] = e.step_time_s;
    j["tokens_per_s"] = e.tokens_per_s;
    j["tflops_per_gpu"] = e.tflops_per_gpu;
    j["mfu"] = e.mfu;
    j["critical_stage"] = e.critical_stage;
    j["bottleneck"] = e.bottleneck;
    j["breakdown"] = sim::breakdown_json(e.breakdown);
  }
  if (e.least_power_w > 0) {
    j["least_power_w"] = e.least_power_w;
    j["energy_bound_j"] = e.energy_bound_j();
  }
  if (e.has_power) {
    j["energy_per_token_j"] = e.energy_per_token_j;
    j["peak_power_w"] = e.peak_power_w;
    j["mean_power_w"] = e.mean_power_w;
  }
  return j;
}

sp::Evaluation evaluation_from(const json& j, const model::Scenario& s) {
  sp::Evaluation e;
  model::PlanSpec p = s.plan;
  int gpus = s.cluster.num_gpus;
  sp::parse_layout(j.at("layout").get<std::string>(), p, gpus);
  e.candidate = {j.at("index").get<std::int64_t>(), p, gpus};
  e.tokens_per_step = j.at("tokens_per_step");
  e.bound_s = j.at("bound_s");
  e.memory_peak_bytes = j.at("memory_peak_gib").get<double>() * kGiB;
  e.memory_capacity_bytes = j.at("memory_capacity_gib").get<double>() * kGiB;
  e.memory_stage = j.at("memory_stage");
  e.fits = j.at("fits");
  e.simulated = j.at("simulated");
  if (e.simulated) {
    e.step_time_s = j.at("step_time_s");
    e.tokens_per_s = j.at("tokens_per_s");
    e.tflops_per_gpu = j.at("tflops_per_gpu");
    e.mfu = j.at("mfu");
    e.critical_stage = j.at("critical_stage");
    e.bottleneck = j.at("bottleneck");
    e.breakdown = sim::breakdown_from_json(j.at("breakdown"));
  }
  e.has_power = j.contains("energy_per_token_j");
  if (e.has_power) {
    e.energy_per_token_j = j.at("energy_per_token_j");
    e.peak_power_w = j.at("peak_power_w");
    e.mean_power_w = j.at("mean_power_w");
  }
  return e;
}

json counts_json(const sp::SearchCounts& c) {
  json invalid = json::object();
  for (int i = 0; i < sp::kInvalidReasons; ++i)
    invalid[std::string(sp::to_string(static_cast<sp::Invalid>(i)))] = c.invalid[static_cast<std::size_t>(i)];
  return {{"combinations", c.combinations},
          {"invalid", invalid},
          {"invalid_total", c.invalid_total()},
          {"valid", c.valid},
          {"out_of_memory", c.out_of_memory},
          {"over_power_budget", c.over_power_budget},
          {"pruned", c.pruned},
          {"simulated", c.simulated}};
}

}  // namespace

json to_json(const PlanResult& r) {
  json j = {{"scenario", r.scenario},
            {"objective", std::string(to_string(r.objective))},
            {"space", space_json(r.space)},
            {"shard", r.search.shard},
            {"shards", r.search.shards},
            {"top", r.search.top},
            {"counts", counts_json(r.search.counts)},
            {"compute_level", to_json(r.level)}};
  json ranked = json::array();
  for (std::size_t i = 0; i < r.search.ranked.size(); ++i) {
    json e = evaluation_json(r.search.ranked[i]);
    e["rank"] = i + 1;
    ranked.push_back(std::move(e));
  }
  j["ranked"] = std::move(ranked);
  json oom = json::array();
  for (const auto& e : r.search.closest_out_of_memory) oom.push_back(evaluation_json(e));
  j["closest_out_of_memory"] = std::move(oom);
  json runs = json::array();
  for (const auto& run : r.runs)
    runs.push_back({{"index", run.index},
                    {"layout", run.layout},
                    {"num_gpus", run.num_gpus},
                    {"step_time_s", run.step_time_s},
                    {"time_to_train_s", run.time_to_train_s},
                    {"time_to_train_p10_s", run.p10_s},
                    {"time_to_train_p90_s", run.p90_s},
                    {"gpu_hours", run.gpu_hours},
                    {"pareto", run.pareto}});
  j["runs"] = std::move(runs);
  if (r.robustness) {
    json perts = json::array();
    for (const auto& p : r.robustness->perturbations)
      perts.push_back({{"what", p.what}, {"order", p.order}, {"over_power_budget", p.over_power_budget}, {"winner_holds", p.winner_holds}});
    j["robustness"] = {{"winner_robust", r.robustness->winner_robust}, {"perturbations", perts}};
  }
  if (r.explanation) {
    const auto& x = *r.explanation;
    json changes = json::array();
    for (const auto& c : x.changes)
      changes.push_back({{"what", c.what},
                         {"layout", c.id},
                         {"tokens_per_s", c.tokens_per_s},
                         {"energy_per_token_j", x.by_energy ? json(c.energy_per_token_j) : json(nullptr)},
                         {"gain", c.gain},
                         {"fits", c.fits}});
    j["explanation"] = {{"layout", x.id},       {"invalid", x.invalid},  {"evaluation", evaluation_json(x.layout)},
                        {"ranked_by", x.by_energy ? "energy" : "throughput"},
                        {"rank", x.rank},       {"rank_exact", x.rank_exact}, {"behind_best", x.behind_best},
                        {"limits", x.limits},   {"changes", changes}};
  }
  if (!r.resolved_scenario.is_null()) j["resolved_scenario"] = r.resolved_scenario;
  return j;
}

std::string to_csv(const PlanResult& r) {
  using model::csv_number;
  using std::to_string;
  model::CsvTable table({"rank", "index", "layout", "tp", "cp", "pp", "v", "dp", "micro_batch", "schedule",
                         "dp_sharding", "recompute", "tp_comm_overlap", "num_gpus", "global_batch", "step_time_s",
                         "tokens_per_s", "tflops_per_gpu", "mfu", "memory_peak_gib", "memory_capacity_gib", "bound_s",
                         "bottleneck", "energy_per_token_j", "peak_power_w"});
  int rank = 0;
  for (const auto& e : r.search.ranked) {
    const auto& p = e.candidate.plan;
    table.add_row({to_string(++rank), to_string(e.candidate.index), sp::layout_id(p, e.candidate.num_gpus),
                   to_string(p.tp), to_string(p.cp), to_string(p.pp), to_string(p.virtual_stages), to_string(p.dp),
                   to_string(p.micro_batch), std::string(model::to_string(p.schedule)),
                   std::string(model::to_string(p.dp_sharding)), std::string(model::to_string(p.recompute)),
                   p.tp_comm_overlap ? "1" : "0", to_string(e.candidate.num_gpus), to_string(p.global_batch),
                   csv_number(e.step_time_s), csv_number(e.tokens_per_s), csv_number(e.tflops_per_gpu),
                   csv_number(e.mfu), csv_number(e.memory_peak_bytes / kGiB), csv_number(e.memory_capacity_bytes / kGiB),
                   csv_number(e.bound_s), e.bottleneck, e.has_power ? csv_number(e.energy_per_token_j) : "",
                   e.has_power ? csv_number(e.peak_power_w) : ""});
  }
  return table.text();
}

PlanResult merge(const model::Scenario& scenario, const std::vector<std::pair<std::string, nlohmann::json>>& files) {
  if (files.empty()) throw InputError("--merge", "", "no shard file given");
  std::vector<sp::SearchResult> parts;
  const json& first = files.front().second;
  for (const auto& [file, j] : files) {
    try {
      for (const char* key : {"scenario", "space", "shard", "shards", "top", "counts", "ranked", "closest_out_of_memory"})
        if (!j.contains(key)) throw InputError(file, std::string("/") + key, "missing: not a `herd plan --shard` result");
      if (j.at("scenario") != first.at("scenario") || j.at("space") != first.at("space") ||
          j.value("objective", std::string("throughput")) != first.value("objective", std::string("throughput")) ||
          j.at("counts").at("combinations") != first.at("counts").at("combinations"))
        throw InputError(file, "/space",
                         "a shard of another search (scenario, space or objective differ from " + files.front().first +
                             ")");
      if (j.at("scenario") != scenario.name)
        throw InputError(file, "/scenario", "searched \"" + j.at("scenario").get<std::string>() + "\", not \"" + scenario.name + "\"");
      sp::SearchResult part;
      part.shard = j.at("shard");
      part.shards = j.at("shards");
      part.top = j.at("top");
      const auto& c = j.at("counts");
      part.counts.combinations = c.at("combinations");
      for (int i = 0; i < sp::kInvalidReasons; ++i)
        part.counts.invalid[static_cast<std::size_t>(i)] = c.at("invalid").at(std::string(sp::to_string(static_cast<sp::Invalid>(i))));
      part.counts.valid = c.at("valid");
      part.counts.out_of_memory = c.at("out_of_memory");
      part.counts.over_power_budget = c.value("over_power_budget", std::int64_t{0});
      part.counts.pruned = c.at("pruned");
      part.counts.simulated = c.at("simulated");
      for (const auto& e : j.at("ranked")) part.ranked.push_back(evaluation_from(e, scenario));
      for (const auto& e : j.at("closest_out_of_memory")) part.closest_out_of_memory.push_back(evaluation_from(e, scenario));
      parts.push_back(std::move(part));
    } catch (const json::exception& e) {
      throw InputError(file, "", std::string("not a `herd plan --shard` result: ") + e.what());
    } catch (const model::ValueError& e) {
      throw InputError(file, e.pointer(), e.message());
    }
  }
  PlanResult out;
  out.scenario = scenario.name;
  out.resolved_scenario = scenario.resolved;
  if (first.contains("compute_level") && first["compute_level"].is_object()) {
    const json& level = first["compute_level"];
    out.level = {level.value("sustained", 1.0), level.value("origin", std::string())};
  }
  out.objective = parse_objective(first.contains("objective") ? first.at("objective").get<std::string>() : std::string("throughput"));
  for (auto& part : parts)
    part.rank_by = out.objective == Objective::energy ? sp::Ranking::energy : sp::Ranking::throughput;
  out.search = as_input("--merge", [&] { return sp::merge_shards(std::move(parts)); });
  // The space, as the shards searched it.
  model::SearchSpace space;
  const auto& js = first.at("space");
  const auto text = [](const json& a) {
    std::string t;
    for (const auto& v : a) t += (t.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : v.dump());
    return t;
  };
  const std::pair<const char*, const char*> lists[] = {
      {"num_gpus", "gpus"},       {"global_batch", "batch"},      {"tp", "tp"},         {"cp", "cp"},
      {"pp", "pp"},               {"virtual_stages", "v"},        {"layer_layout", "layout"}, {"schedule", "schedule"},
      {"round_size", "n"},        {"micro_batch", "mb"},          {"dp_sharding", "dp-mode"}, {"recompute", "recompute"},
      {"tp_comm_overlap", "overlap"}, {"rank_order", "order"}};
  for (const auto& [key, flag] : lists) set_space_list(space, flag, text(js.at(key)));
  space.memory_headroom = js.at("memory_headroom");
  space.top = js.at("top");
  space.power_budget_w = js.value("power_budget_w", 0.0);
  out.space = space;
  return out;
}

bool is_saved_plan(const nlohmann::json& doc) {
  return doc.is_object() && doc.contains("ranked") && doc.contains("counts") && doc.contains("space");
}

SavedPlan read_saved_plan(const nlohmann::json& doc, const std::string& source) {
  if (!is_saved_plan(doc)) throw InputError(source, "", "not a `herd plan --json` result");
  if (!doc.contains("resolved_scenario") || !doc.at("resolved_scenario").is_object())
    throw InputError(source, "/resolved_scenario",
                     "missing: this plan result does not carry its scenario; write it again with `herd plan --json`");
  SavedPlan saved{PlanResult{}, load_resolved_scenario(doc.at("resolved_scenario"), source + " (its resolved_scenario)")};
  saved.result = merge(saved.scenario, {{source, doc}});
  return saved;
}

}  // namespace herd::app
