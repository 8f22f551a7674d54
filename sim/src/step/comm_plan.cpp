// Preparing a step's network operations on the fabric (symmetric or per rank).
#include "herd/sim/step/comm_plan.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "comm_keys.hpp"
#include "herd/sim/collective/collective_model.hpp"
#include "step_groups.hpp"

namespace herd::sim {

namespace {

using detail::NetKey;

// What issues operations one at a time. Symmetric mode: a stage's stream. Per-rank mode: a group
// (or a sending rank) on its stream; users of different groups may overlap, which only means
// fewer slots are proven uncontended.
int user_of(const NetOp& net, int ordinal, int ordinals, bool per_rank) {
  const CommGroup kind = net.transfer ? CommGroup::pp : net.group;
  if (!per_rank) return net.stage * model::kStreams + model::index_of(stream_of(kind));
  return (net.stage * kCommGroups + static_cast<int>(kind)) * ordinals + ordinal;
}

// Prepares blocks on one thread (the collective model holds scratch buffers). Within one layout
// it shares the traffic of operations that load the fabric alike: the same groups (a stage's
// groups of a kind, or one group per rank) running the same algorithm, protocol and channels at
// the same load scales, whatever their sizes.
class Preparer {
 public:
  Preparer(const Fabric& fabric, const detail::StepGroups& groups, bool per_rank)
      : fabric_(fabric), groups_(groups), per_rank_(per_rank), model_(fabric, true), traffic_(fabric.slot_count()) {}

  PreparedBlock block(const NetOp& net) { return net.transfer ? transfer(net) : collective(net); }

 private:
  struct TrafficKey {
    int stage, group, ordinal, op, algorithm, protocol, channels;
    std::vector<double> scales;  // load and NVLS scale of every group
    auto operator<=>(const TrafficKey&) const = default;
  };

  bool inside_node(const std::vector<int>& members) const {
    const int node = fabric_.node_of(members.front());
    return std::all_of(members.begin(), members.end(), [&](int r) { return fabric_.node_of(r) == node; });
  }

  // The traffic for `key`, built by `build` (which leaves it in traffic_) unless already known;
  // `shareable` false builds it afresh.
  template <class Build>
  std::shared_ptr<const Traffic> traffic(TrafficKey key, bool shareable, Build&& build) {
    if (shareable)
      if (auto it = known_.find(key); it != known_.end()) return it->second;
    build();
    auto loads = std::make_shared<const Traffic>(traffic_.take());
    if (shareable) known_.emplace(std::move(key), loads);
    return loads;
  }

  PreparedBlock collective(const NetOp& net) {
    const int count = groups_.groups_per_stage(net.group);
    std::vector<std::vector<int>> members(static_cast<std::size_t>(count));
    bool all_inside = true;
    for (int i = 0; i < count; ++i) {
      auto& m = members[static_cast<std::size_t>(i)];
      m = groups_.group_members(groups_.group_at(net.stage, net.group, i), net.group);
      all_inside = all_inside && inside_node(m);
    }
    PreparedBlock block;
    if (per_rank_) {
      // Each group is its own communicator and chooses for itself, as NCCL does.
      for (int i = 0; i < count; ++i) {
        const auto& m = members[static_cast<std::size_t>(i)];
        const CollectivePlan plan = model_.plan(net.op, m, net.bytes);
        PreparedOp op = from_plan(plan, user_of(net, i, count, true), inside_node(m));
        if (!op.inside_node) {
          const auto cost = model_.add_group_loads(plan, m, nullptr);
          op.loads = traffic(key_of(net, plan, i, {cost}), !cost.own_plan,
                             [&] { for (const auto& l : plan.loads) traffic_.add(l.slot, l.weight); });
        }
        block.push_back(std::move(op));
      }
      return block;
    }
    // Symmetric: the first group decides algorithm, protocol and channels for all; the operation
    // loads every group's links. Inside a node the representative's time is enough.
    const CollectivePlan first = model_.plan(net.op, members.front(), net.bytes);
    PreparedOp op = from_plan(first, user_of(net, 0, count, false), all_inside);
    if (!all_inside) {
      std::vector<CollectiveModel::GroupCost> costs;
      bool shareable = true;
      for (std::size_t i = 0; i < members.size(); ++i) {
        costs.push_back(model_.add_group_loads(first, members[i], nullptr));
        shareable = shareable && !costs.back().own_plan;
        if (i == 0) continue;
        op.latency_s = std::max(op.latency_s, costs.back().latency_s);
        op.rate_bound = std::min(op.rate_bound, costs.back().algbw_cap);
      }
      op.loads = traffic(key_of(net, first, -1, costs), shareable, [&] {
        for (const auto& l : first.loads) traffic_.add(l.slot, l.weight);
        for (std::size_t i = 1; i < members.size(); ++i) model_.add_group_loads(first, members[i], &traffic_);
      });
    }
    block.push_back(std::move(op));
    return block;
  }

  static TrafficKey key_of(const NetOp& net, const CollectivePlan& plan, int ordinal,
                           const std::vector<CollectiveModel::GroupCost>& costs) {
    TrafficKey key{net.stage,           static_cast<int>(net.group), ordinal, static_cast<int>(net.op),
                   static_cast<int>(plan.algorithm), static_cast<int>(plan.protocol), plan.channels, {}};
    for (const auto& c : costs) key.scales.insert(key.scales.end(), {c.load_scale, c.nvls_scale});
    return key;
  }

  PreparedOp from_plan(const CollectivePlan& plan, int user, bool inside) const {
    PreparedOp op;
    op.user = user;
    op.inside_node = inside;
    op.seconds = plan.uncontended_time_s();
    op.channels = plan.channels;
    op.latency_s = plan.latency_s;
    op.rate_bound = plan.algbw_cap;
    op.loads = empty_;
    return op;
  }

  // Every rank of the stage sends to its peer on the other stage.
  PreparedBlock transfer(const NetOp& net) {
    const int count = groups_.groups_per_stage(CommGroup::pp);
    PreparedBlock block;
    PreparedOp sum;
    sum.user = user_of(net, 0, count, false);
    for (int i = 0; i < count; ++i) {
      const int from = groups_.group_at(net.stage, CommGroup::pp, i);
      const int to = groups_.with_stage(from, net.to_stage);
      const double latency = fabric_.add_route(from, to, 1.0, traffic_);
      if (per_rank_) {
        PreparedOp op;
        op.user = user_of(net, i, count, true);
        op.latency_s = latency;
        op.loads = std::make_shared<const Traffic>(traffic_.take());
        block.push_back(std::move(op));
      } else {
        sum.latency_s = std::max(sum.latency_s, latency);
      }
    }
    if (!per_rank_) {
      sum.loads = std::make_shared<const Traffic>(traffic_.take());
      block.push_back(std::move(sum));
    }
    return block;
  }

  const Fabric& fabric_;
  const detail::StepGroups& groups_;
  bool per_rank_;
  CollectiveModel model_;
  TrafficBuilder traffic_;
  std::map<TrafficKey, std::shared_ptr<const Traffic>> known_;
  std::shared_ptr<const Traffic> empty_ = std::make_shared<const Traffic>();
};

}  // namespace

std::shared_ptr<const CommPlan> prepare_comm(const Fabric& fabric, const model::Scenario& s, const StepPlan& plan,
                                             bool per_rank, CommCache* cache) {
  const detail::StepGroups groups(s.plan, fabric.cluster());
  auto out = std::make_shared<CommPlan>();
  out->per_rank = per_rank;
  const double sms = std::max(1, s.cluster.gpu.sms);
  std::optional<Preparer> preparer;
  auto make = [&](const NetOp& net) {
    if (!preparer) preparer.emplace(fabric, groups, per_rank);
    return preparer->block(net);
  };
  CommCache::Key key;
  key.layout.degree = {s.plan.tp, s.plan.cp, s.plan.pp, s.plan.dp};
  key.layout.order = s.plan.rank_order;
  key.layout.per_rank = per_rank;
  CommCache::NetworkKey network_key{key.layout, {}};
  std::vector<const PreparedOp*> network;
  out->blocks.reserve(plan.net_ops.size());
  for (const NetOp& net : plan.net_ops) {
    key.net = NetKey{net.transfer, net.group, net.op, net.stage, net.to_stage, net.transfer ? 0.0 : net.bytes};
    out->blocks.push_back(cache ? cache->block(key, [&] { return make(net); })
                                : std::make_shared<const PreparedBlock>(make(net)));
    out->first.push_back(static_cast<std::uint32_t>(out->entries.size()));
    bool leaves_node = false;
    for (const PreparedOp& op : *out->blocks.back()) {
      out->entries.push_back({&op, op.inside_node ? -1 : static_cast<int>(network.size()), std::min(1.0, op.channels / sms)});
      if (op.inside_node) continue;
      network.push_back(&op);
      leaves_node = true;
    }
    if (leaves_node) network_key.ops.push_back(key.net);
  }
  auto contended = [&] { return detail::find_contended(fabric, network); };
  out->network = cache ? cache->network(network_key, contended) : std::make_shared<const ContendedNetwork>(contended());
  return out;
}

}  // namespace herd::sim
