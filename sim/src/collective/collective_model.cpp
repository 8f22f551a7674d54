// The NCCL-style choice: every applicable (algorithm, protocol) pair is costed as latency +
// bytes / bandwidth and the cheapest wins (NCCL's ncclTopoGetAlgoTime and getAlgoInfo), except
// that bandwidth comes from the links the pattern loads rather than from NCCL's tables.
#include "herd/sim/collective/collective_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "herd/model/calibration_profile.hpp"

namespace herd::sim {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr Algorithm kAlgorithms[] = {Algorithm::nvls, Algorithm::ring, Algorithm::tree, Algorithm::hierarchical,
                                     Algorithm::direct};
constexpr Protocol kProtocols[] = {Protocol::ll, Protocol::ll128, Protocol::simple};

// Whether NCCL itself would weigh this algorithm: its hierarchical algorithm is the NVLS tree,
// for all-reduce on NVLS nodes only. Forcing can still pick hierarchical elsewhere.
bool nccl_candidate(const Fabric& fabric, model::Collective op, Algorithm a) {
  return a != Algorithm::hierarchical || (op == model::Collective::all_reduce && fabric.topology().nvls());
}

}  // namespace

double CollectivePlan::uncontended_time_s() const {
  return latency_s + (bytes > 0 ? bytes / uncontended_algbw : 0.0);  // x / inf = 0: nothing limits it
}

CollectiveModel::CollectiveModel(const Fabric& fabric, bool remember_groups)
    : fabric_(fabric), tuning_(fabric), traffic_(fabric.slot_count()), remember_(remember_groups) {}

std::size_t CollectiveModel::GroupHash::operator()(std::span<const int> g) const noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const int r : g) h = (h ^ static_cast<std::uint32_t>(r)) * 0x100000001b3ULL;
  return static_cast<std::size_t>(h);
}

CollectiveModel::Group& CollectiveModel::group_of(std::span<const int> group) {
  if (remember_) {
    if (auto it = groups_.find(group); it != groups_.end()) return it->second;
    Group g{shape_of(fabric_, group), {}};
    return groups_.emplace(std::vector<int>(group.begin(), group.end()), std::move(g)).first->second;
  }
  fresh_ = Group{shape_of(fabric_, group), {}};
  return fresh_;
}

CollectivePlan CollectiveModel::build(model::Collective op, Algorithm a, Protocol p, int channels_forced,
                                      std::span<const int> group, const GroupShape& shape, double bytes, int root) {
  CollectivePlan plan;
  plan.op = op;
  plan.algorithm = a;
  plan.protocol = p;
  plan.bytes = bytes;
  plan.channels = channels_forced > 0 ? channels_forced : tuning_.channels(a, p, shape, bytes);
  if (shape.ranks <= 1) {
    plan.algbw_cap = kInf;
    plan.uncontended_algbw = kInf;
    return plan;
  }
  // Protocols of one algorithm share its pattern (they scale it): build it once per group.
  const int nvls_channels = a == Algorithm::nvls ? plan.channels : tuning_.channels(Algorithm::nvls, p, shape, bytes);
  plan.loads = pattern(op, a, group, shape, root, tuning_.nvls_scale(nvls_channels));
  const ProtocolCost cost = tuning_.protocol_cost(op, a, p, shape, bytes, plan.channels);
  plan.algbw_cap = cost.algbw_cap;
  plan.latency_s = tuning_.latency_s(op, a, p, shape, bytes, plan.channels);
  plan.uncontended_algbw = cost.algbw_cap;
  for (SlotLoad& load : plan.loads) {
    load.weight *= cost.load_scale;
    const double rate = fabric_.slot_capacity(load.slot) / load.weight;
    if (rate < plan.uncontended_algbw) {
      plan.uncontended_algbw = rate;
      plan.uncontended_bottleneck = load.slot;
    }
  }
  return plan;
}

const std::vector<SlotLoad>& CollectiveModel::pattern(model::Collective op, Algorithm a, std::span<const int> group,
                                                      const GroupShape& shape, int root, double nvls_scale) {
  // A ring moves (n-1)/n of the buffer over every hop for all-gather and reduce-scatter alike.
  if (a == Algorithm::ring && op == model::Collective::reduce_scatter) op = model::Collective::all_gather;
  auto& patterns = current_->patterns;
  auto it = std::find_if(patterns.begin(), patterns.end(), [&](const Pattern& x) {
    return x.algorithm == a && x.op == op && x.root == root && x.nvls_scale == nvls_scale;
  });
  if (it != patterns.end()) return it->loads;
  add_pattern(fabric_, op, a, group, shape, root, nvls_scale, traffic_);
  patterns.push_back({a, op, root, nvls_scale, traffic_.take()});
  return patterns.back().loads;
}

CollectiveModel::GroupCost CollectiveModel::add_group_loads(const CollectivePlan& like, std::span<const int> group,
                                                            TrafficBuilder* out) {
  current_ = &group_of(group);
  const GroupShape& shape = current_->shape;
  const model::Collective op = like.op;
  const Algorithm a = like.algorithm;
  const Protocol p = like.protocol;
  const bool rooted = op == model::Collective::broadcast || op == model::Collective::reduce;  // root: plan() knows it
  if (shape.ranks <= 1 || rooted || !algorithm_applies(fabric_, op, a, shape)) {
    CollectiveOptions same;
    same.algorithm = a;
    same.protocol = p;
    same.channels = like.channels;
    const CollectivePlan own = plan(op, group, like.bytes, same);
    if (out)
      for (const auto& l : own.loads) out->add(l.slot, l.weight);
    return {own.latency_s, own.algbw_cap, 1.0, 1.0, true};
  }
  const ProtocolCost cost = tuning_.protocol_cost(op, a, p, shape, like.bytes, like.channels);
  const int nvls_channels = a == Algorithm::nvls ? like.channels : tuning_.channels(Algorithm::nvls, p, shape, like.bytes);
  const double nvls_scale = tuning_.nvls_scale(nvls_channels);
  const double f = like.calibration;  // groups of one call run alike, measured curve included
  const double load_scale = cost.load_scale * f;
  if (out)
    for (const auto& l : pattern(op, a, group, shape, 0, nvls_scale)) out->add(l.slot, l.weight * load_scale);
  return {f * tuning_.latency_s(op, a, p, shape, like.bytes, like.channels), cost.algbw_cap / f, load_scale, nvls_scale,
          false};
}

void CollectiveModel::apply_measured(CollectivePlan& plan, const GroupShape& shape) const {
  const auto& fits = fabric_.cluster().measured_collectives;
  if (!fits || shape.ranks <= 1 || !(plan.bytes > 0)) return;
  const model::CollectiveFit* fit = model::find_collective_fit(*fits, model::to_string(plan.op), shape.ranks, shape.nodes);
  if (!fit) return;
  const double modelled = plan.uncontended_time_s();
  const double measured = model::collective_seconds(*fit, plan.bytes);
  if (!(modelled > 0) || !std::isfinite(modelled) || !(measured > 0) || !std::isfinite(measured)) return;
  // The measured time replaces the modelled one alone; the ratio scales latency and the bytes each
  // slot carries per byte alike, so the time under contention stretches as the model's would.
  const double f = measured / modelled;
  plan.latency_s *= f;
  for (SlotLoad& load : plan.loads) load.weight *= f;
  plan.algbw_cap /= f;
  plan.uncontended_algbw /= f;
  plan.calibration = f;
  plan.measured_s = measured;
}

CollectivePlan CollectiveModel::plan(model::Collective op, std::span<const int> group, double bytes,
                                     const CollectiveOptions& options) {
  if (!(bytes >= 0) || !std::isfinite(bytes))
    throw std::invalid_argument("herd::sim: collective size " + std::to_string(bytes) + " bytes must be finite and >= 0");
  current_ = &group_of(group);
  const GroupShape& shape = current_->shape;
  const model::CollectiveSpec& spec = fabric_.cluster().collectives;
  // Forced settings apply where they can; like NCCL, an algorithm that cannot run this op on
  // this group falls back to the automatic choice.
  const Algorithm forced_a = options.algorithm != Algorithm::automatic ? options.algorithm : from_model(spec.algorithm);
  const Protocol forced_p = options.protocol != Protocol::automatic ? options.protocol : from_model(spec.protocol);
  const int forced_channels = options.channels > 0 ? options.channels : spec.channels;
  const bool algorithm_forced = forced_a != Algorithm::automatic && algorithm_applies(fabric_, op, forced_a, shape);

  CollectivePlan best;
  bool found = false;
  for (const Algorithm a : kAlgorithms) {
    if (algorithm_forced ? a != forced_a
                         : !algorithm_applies(fabric_, op, a, shape) || !nccl_candidate(fabric_, op, a))
      continue;
    const bool protocol_forced = forced_p != Protocol::automatic && tuning_.enabled(a, forced_p);
    for (const Protocol p : kProtocols) {
      if (protocol_forced ? p != forced_p : !tuning_.enabled(a, p)) continue;
      CollectivePlan candidate = build(op, a, p, forced_channels, group, shape, bytes, options.root);
      if (!found || candidate.uncontended_time_s() < best.uncontended_time_s()) {
        best = std::move(candidate);
        found = true;
      }
    }
  }
  if (!found)  // a single rank: nothing applies, nothing moves
    return build(op, Algorithm::ring, Protocol::simple, forced_channels, group, shape, bytes, options.root);
  // A measured curve is what NCCL's own choice did; a scenario that forces another choice asks
  // what that choice would do, which the curve does not say.
  const bool scenario_forces = spec.algorithm != model::CollectiveAlgorithm::automatic ||
                               spec.protocol != model::CollectiveProtocol::automatic || spec.channels > 0;
  if (!scenario_forces) apply_measured(best, shape);
  return best;
}

CollectiveEstimate CollectiveModel::estimate(model::Collective op, std::span<const int> group, double bytes,
                                             const CollectiveOptions& options) {
  const CollectivePlan p = plan(op, group, bytes, options);
  CollectiveEstimate e{p.algorithm, p.protocol, p.channels, p.uncontended_time_s(), 0, 0, p.uncontended_bottleneck};
  e.algbw = e.time_s > 0 ? bytes / e.time_s : kInf;
  e.busbw = e.algbw * bus_factor(op, static_cast<int>(group.size()));
  return e;
}

std::vector<CollectiveEstimate> CollectiveModel::candidates(model::Collective op, std::span<const int> group, double bytes) {
  current_ = &group_of(group);
  const GroupShape& shape = current_->shape;
  std::vector<CollectiveEstimate> out;
  for (const Algorithm a : kAlgorithms) {
    if (!algorithm_applies(fabric_, op, a, shape) || !nccl_candidate(fabric_, op, a)) continue;
    for (const Protocol p : kProtocols) {
      if (!tuning_.enabled(a, p)) continue;
      const CollectivePlan c = build(op, a, p, 0, group, shape, bytes, 0);
      CollectiveEstimate e{a, p, c.channels, c.uncontended_time_s(), 0, 0, c.uncontended_bottleneck};
      e.algbw = e.time_s > 0 ? bytes / e.time_s : kInf;
      e.busbw = e.algbw * bus_factor(op, shape.ranks);
      out.push_back(e);
    }
  }
  return out;
}

}  // namespace herd::sim
