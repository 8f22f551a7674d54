// Preparing a step's network operations on the fabric, and the cache that shares them.
#include "herd/sim/step/comm_plan.hpp"

#include <algorithm>
#include <array>
#include <list>
#include <map>
#include <mutex>

#include "herd/sim/collective/collective_model.hpp"
#include "step_groups.hpp"

namespace herd::sim {

namespace {

struct LayoutKey {
  std::array<int, 4> degree{};
  std::array<model::Axis, 4> order{};
  bool per_rank = false;
  auto operator<=>(const LayoutKey&) const = default;
};

struct NetKey {
  bool transfer = false;
  CommGroup group = CommGroup::tp;
  model::Collective op = model::Collective::all_reduce;
  int stage = 0, to_stage = -1;
  double bytes = 0;  // collectives only: a transfer's loads are per byte whatever its size
  auto operator<=>(const NetKey&) const = default;
};

// What issues operations one at a time. Symmetric mode: a stage's stream. Per-rank mode: a group
// (or a sending rank) on its stream; users of different groups may overlap, which only means
// fewer slots are proven uncontended.
int user_of(const NetOp& net, int ordinal, int ordinals, bool per_rank) {
  const CommGroup kind = net.transfer ? CommGroup::pp : net.group;
  if (!per_rank) return net.stage * model::kStreams + model::index_of(stream_of(kind));
  return (net.stage * kCommGroups + static_cast<int>(kind)) * ordinals + ordinal;
}

// Prepares blocks on one thread (the collective model holds scratch buffers).
class Preparer {
 public:
  Preparer(const Fabric& fabric, const detail::StepGroups& groups, bool per_rank)
      : fabric_(fabric), groups_(groups), per_rank_(per_rank), model_(fabric), traffic_(fabric.slot_count()) {}

  PreparedBlock block(const NetOp& net) { return net.transfer ? transfer(net) : collective(net); }

 private:
  bool inside_node(const std::vector<int>& members) const {
    const int node = fabric_.node_of(members.front());
    return std::all_of(members.begin(), members.end(), [&](int r) { return fabric_.node_of(r) == node; });
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
        block.push_back(from_plan(plan, user_of(net, i, count, true), inside_node(m)));
      }
      return block;
    }
    // Symmetric: the first group decides algorithm, protocol and channels for all; the operation
    // loads every group's links. Inside a node the representative's time is enough.
    const CollectivePlan first = model_.plan(net.op, members.front(), net.bytes);
    PreparedOp op = from_plan(first, user_of(net, 0, count, false), all_inside);
    if (!all_inside) {
      CollectiveOptions same;
      same.algorithm = first.algorithm;
      same.protocol = first.protocol;
      same.channels = first.channels;
      for (const auto& l : first.loads) traffic_.add(l.slot, l.weight);
      for (std::size_t i = 1; i < members.size(); ++i) {
        const CollectivePlan plan = model_.plan(net.op, members[i], net.bytes, same);
        op.latency_s = std::max(op.latency_s, plan.latency_s);
        op.rate_bound = std::min(op.rate_bound, plan.algbw_cap);
        for (const auto& l : plan.loads) traffic_.add(l.slot, l.weight);
      }
      op.loads = traffic_.take();
    }
    block.push_back(std::move(op));
    return block;
  }

  static PreparedOp from_plan(const CollectivePlan& plan, int user, bool inside) {
    PreparedOp op;
    op.user = user;
    op.inside_node = inside;
    op.seconds = plan.uncontended_time_s();
    op.channels = plan.channels;
    op.latency_s = plan.latency_s;
    op.rate_bound = plan.algbw_cap;
    if (!inside) op.loads = plan.loads;
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
      fabric_.add_route(from, to, 1.0, traffic_);
      const double latency = fabric_.latency_s(from, to);
      if (per_rank_) {
        PreparedOp op;
        op.user = user_of(net, i, count, true);
        op.latency_s = latency;
        op.loads = traffic_.take();
        block.push_back(std::move(op));
      } else {
        sum.latency_s = std::max(sum.latency_s, latency);
      }
    }
    if (!per_rank_) {
      sum.loads = traffic_.take();
      block.push_back(std::move(sum));
    }
    return block;
  }

  const Fabric& fabric_;
  const detail::StepGroups& groups_;
  bool per_rank_;
  CollectiveModel model_;
  TrafficBuilder traffic_;
};

// Splits contended slots from the rest (see the header): a slot only one user loads bounds that
// user's operations instead; a shared slot whose users' peak loads cannot fill it never binds.
// Contended slots that impose the same constraint (same capacity, same operations at the same
// weights: the copies of a symmetric step each load their own NIC alike) become one resource.
void finalize(const Fabric& fabric, CommPlan& plan) {
  constexpr int kNone = -1, kMany = -2;
  std::vector<int> user_of_slot(fabric.slot_count(), kNone);
  for (const auto& e : plan.entries) {
    if (e.op->inside_node) continue;
    for (const auto& l : e.op->loads) {
      int& u = user_of_slot[l.slot];
      u = u == kNone || u == e.op->user ? e.op->user : kMany;
    }
  }
  for (auto& e : plan.entries) {
    if (e.op->inside_node) continue;
    e.rate_bound = e.op->rate_bound;
    for (const auto& l : e.op->loads)
      if (l.weight > 0 && user_of_slot[l.slot] != kMany)
        e.rate_bound = std::min(e.rate_bound, fabric.slot_capacity(l.slot) / l.weight);
  }
  // On a shared slot, the most each user can put on it is its largest weight x the fastest its
  // operation can go, which no slot it crosses lets exceed capacity / weight.
  std::map<std::pair<SlotId, int>, double> peak;
  for (const auto& e : plan.entries) {
    if (e.op->inside_node) continue;
    double fastest = e.rate_bound;
    for (const auto& l : e.op->loads)
      if (l.weight > 0) fastest = std::min(fastest, fabric.slot_capacity(l.slot) / l.weight);
    for (const auto& l : e.op->loads)
      if (user_of_slot[l.slot] == kMany) {
        double& v = peak[{l.slot, e.op->user}];
        v = std::max(v, l.weight * fastest);
      }
  }
  std::vector<double> most(fabric.slot_count(), 0.0);
  for (const auto& [slot_user, v] : peak) most[slot_user.first] += v;
  // The constraint of each contended slot: which entries load it, how much.
  std::map<SlotId, std::vector<std::pair<std::uint32_t, double>>> users;
  for (std::uint32_t i = 0; i < plan.entries.size(); ++i) {
    const auto& e = plan.entries[i];
    if (e.op->inside_node) continue;
    for (const auto& l : e.op->loads)
      if (l.weight > 0 && user_of_slot[l.slot] == kMany && most[l.slot] > fabric.slot_capacity(l.slot) * (1 - 1e-9))
        users[l.slot].emplace_back(i, l.weight);
  }
  std::map<std::pair<double, std::vector<std::pair<std::uint32_t, double>>>, std::uint32_t> resource_of;
  for (auto& [slot, constraint] : users) {
    const auto [it, added] = resource_of.emplace(std::pair{fabric.slot_capacity(slot), std::move(constraint)},
                                                 static_cast<std::uint32_t>(plan.contended.size()));
    if (!added) continue;  // the same constraint as a slot already kept
    plan.contended.push_back(slot);
    for (const auto& [entry, weight] : it->first.second) plan.entries[entry].uses.emplace_back(it->second, weight);
  }
}

}  // namespace

struct CommCache::Key {
  LayoutKey layout;
  NetKey net;
};

class CommCache::Store {
 public:
  explicit Store(std::size_t layouts) : capacity_(std::max<std::size_t>(1, layouts)) {}

  std::shared_ptr<const PreparedBlock> find(const Key& key) {
    const std::lock_guard lock(mutex_);
    auto layout = touch(key.layout);
    if (layout == lru_.end()) return nullptr;
    const auto it = layout->second.find(key.net);
    if (it == layout->second.end()) return nullptr;
    ++hits_;
    return it->second;
  }
  std::shared_ptr<const PreparedBlock> insert(const Key& key, std::shared_ptr<const PreparedBlock> block) {
    const std::lock_guard lock(mutex_);
    ++misses_;
    auto layout = touch(key.layout);
    if (layout == lru_.end()) {
      lru_.emplace_front(key.layout, std::map<NetKey, std::shared_ptr<const PreparedBlock>>{});
      if (lru_.size() > capacity_) lru_.pop_back();
      layout = lru_.begin();
    }
    return layout->second.emplace(key.net, std::move(block)).first->second;
  }
  std::uint64_t hits() const {
    const std::lock_guard lock(mutex_);
    return hits_;
  }
  std::uint64_t misses() const {
    const std::lock_guard lock(mutex_);
    return misses_;
  }

 private:
  using Layouts = std::list<std::pair<LayoutKey, std::map<NetKey, std::shared_ptr<const PreparedBlock>>>>;
  // Moves the layout to the front (most recently used); end() when absent.
  Layouts::iterator touch(const LayoutKey& key) {
    const auto it = std::find_if(lru_.begin(), lru_.end(), [&](const auto& l) { return l.first == key; });
    if (it != lru_.end() && it != lru_.begin()) lru_.splice(lru_.begin(), lru_, it);
    return it == lru_.end() ? it : lru_.begin();
  }

  mutable std::mutex mutex_;
  std::size_t capacity_;
  Layouts lru_;
  std::uint64_t hits_ = 0, misses_ = 0;
};

CommCache::CommCache(std::size_t layouts) : store_(std::make_unique<Store>(layouts)) {}
CommCache::~CommCache() = default;

std::shared_ptr<const PreparedBlock> CommCache::get(const Key& key, const std::function<PreparedBlock()>& make) {
  if (auto found = store_->find(key)) return found;
  return store_->insert(key, std::make_shared<const PreparedBlock>(make()));
}
std::uint64_t CommCache::hits() const { return store_->hits(); }
std::uint64_t CommCache::misses() const { return store_->misses(); }

std::shared_ptr<const CommPlan> prepare_comm(const Fabric& fabric, const model::Scenario& s, const StepPlan& plan,
                                             bool per_rank, CommCache* cache) {
  const detail::StepGroups groups(s.plan, fabric.cluster());
  auto out = std::make_shared<CommPlan>();
  out->per_rank = per_rank;
  out->sms = std::max(1, s.cluster.gpu.sms);
  std::optional<Preparer> preparer;
  auto make = [&](const NetOp& net) {
    if (!preparer) preparer.emplace(fabric, groups, per_rank);
    return preparer->block(net);
  };
  CommCache::Key key;
  key.layout.degree = {s.plan.tp, s.plan.cp, s.plan.pp, s.plan.dp};
  key.layout.order = s.plan.rank_order;
  key.layout.per_rank = per_rank;
  out->blocks.reserve(plan.net_ops.size());
  for (const NetOp& net : plan.net_ops) {
    if (cache) {
      key.net = NetKey{net.transfer, net.group, net.op, net.stage, net.to_stage, net.transfer ? 0.0 : net.bytes};
      out->blocks.push_back(cache->get(key, [&] { return make(net); }));
    } else {
      out->blocks.push_back(std::make_shared<const PreparedBlock>(make(net)));
    }
  }
  for (const auto& block : out->blocks) {
    out->first.push_back(static_cast<std::uint32_t>(out->entries.size()));
    for (const PreparedOp& op : *block) out->entries.push_back({&op, op.rate_bound, {}});
  }
  finalize(fabric, *out);
  return out;
}

}  // namespace herd::sim
