// Preparing a step's network operations on the fabric, and the cache that shares them.
#include "herd/sim/step/comm_plan.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <type_traits>
#include <limits>
#include <list>
#include <map>
#include <mutex>
#include <span>
#include <unordered_map>

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
      fabric_.add_route(from, to, 1.0, traffic_);
      const double latency = fabric_.latency_s(from, to);
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

// Per-slot scratch arrays, kept per thread and cleaned after each use: a step's loads touch a few
// thousand of a 16K-GPU fabric's ~10^5 slots, and fresh arrays would cost more in page faults than
// the passes themselves.
struct SlotScratch {
  static constexpr int kNone = -1, kMany = -2;
  std::vector<int> user;            // kNone, a user, or kMany
  std::vector<double> most, peak;
  std::vector<std::uint32_t> local;  // index among the contended slots
  std::vector<SlotId> touched;
  void reserve(std::size_t slots) {
    if (user.size() >= slots) return;
    user.resize(slots, kNone);
    most.resize(slots, 0.0);
    peak.resize(slots, 0.0);
    local.resize(slots, 0);
  }
  void clean() {
    for (const SlotId s : touched) {
      user[s] = kNone;
      most[s] = peak[s] = 0;
      local[s] = 0;
    }
    touched.clear();
  }
};

// Splits contended slots from the rest (see the header): a slot only one user loads bounds that
// user's operations instead; a shared slot whose users' peak loads cannot fill it never binds.
// Contended slots that impose the same constraint (same capacity, same traffic at the same
// weights: the copies of a symmetric step each load their own NIC alike) become one resource.
// Operations sharing a Traffic (one user's operations of different sizes) are analysed as one;
// every pass is linear in the distinct traffic's loads.
ContendedNetwork finalize(const Fabric& fabric, std::span<const PreparedOp* const> ops) {
  constexpr int kNone = SlotScratch::kNone, kMany = SlotScratch::kMany;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  thread_local SlotScratch sc;
  sc.reserve(fabric.slot_count());
  const std::span<const double> capacity = fabric.slot_capacities();
  // The distinct traffic, each with its user.
  struct Distinct {
    const Traffic* loads;
    int user;
    double exclusive_bound = kInf;  // capacity / weight over the slots only its user loads
    double any_bound = kInf;        // ... over all its slots
    double fastest = 0;             // the fastest any of its operations can go
  };
  std::vector<Distinct> distinct;
  std::vector<std::uint32_t> traffic_of(ops.size());
  {
    std::unordered_map<const Traffic*, std::uint32_t> index;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const auto [it, added] = index.emplace(ops[i]->loads.get(), static_cast<std::uint32_t>(distinct.size()));
      if (added) distinct.push_back({ops[i]->loads.get(), ops[i]->user});
      traffic_of[i] = it->second;
    }
  }
  for (const Distinct& d : distinct)
    for (const auto& l : *d.loads) {
      int& u = sc.user[l.slot];
      if (u == kNone) sc.touched.push_back(l.slot);
      u = u == kNone || u == d.user ? d.user : kMany;
    }
  for (Distinct& d : distinct)
    for (const auto& l : *d.loads) {
      if (l.weight <= 0) continue;
      const double bound = capacity[l.slot] / l.weight;
      d.any_bound = std::min(d.any_bound, bound);
      if (sc.user[l.slot] != kMany) d.exclusive_bound = std::min(d.exclusive_bound, bound);
    }
  ContendedNetwork out;
  out.rate_bound.resize(ops.size());
  out.uses.resize(ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    Distinct& d = distinct[traffic_of[i]];
    out.rate_bound[i] = std::min(ops[i]->rate_bound, d.exclusive_bound);
    d.fastest = std::max(d.fastest, std::min(ops[i]->rate_bound, d.any_bound));
  }
  // On a shared slot, the most each user can put on it is its largest weight x the fastest its
  // operations go; the slot can bind only when those together exceed its capacity.
  std::vector<std::uint32_t> by_user(distinct.size());
  for (std::uint32_t k = 0; k < by_user.size(); ++k) by_user[k] = k;
  std::stable_sort(by_user.begin(), by_user.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return distinct[a].user < distinct[b].user; });
  std::vector<SlotId> peaked;
  for (std::size_t k = 0; k < by_user.size();) {
    const int user = distinct[by_user[k]].user;
    for (; k < by_user.size() && distinct[by_user[k]].user == user; ++k) {
      const Distinct& d = distinct[by_user[k]];
      for (const auto& l : *d.loads) {
        if (sc.user[l.slot] != kMany) continue;
        if (sc.peak[l.slot] == 0) peaked.push_back(l.slot);
        sc.peak[l.slot] = std::max(sc.peak[l.slot], l.weight * d.fastest);
      }
    }
    for (const SlotId slot : peaked) {
      sc.most[slot] += sc.peak[slot];
      sc.peak[slot] = 0;
    }
    peaked.clear();
  }
  // The contended slots in slot order, and the constraint of each as (traffic, weight) in traffic
  // order (CSR layout).
  std::vector<SlotId> contended;
  for (const SlotId slot : sc.touched)
    if (sc.user[slot] == kMany && sc.most[slot] > capacity[slot] * (1 - 1e-9)) contended.push_back(slot);
  std::sort(contended.begin(), contended.end());
  for (std::uint32_t k = 0; k < contended.size(); ++k) sc.local[contended[k]] = k + 1;  // 0: not contended
  std::vector<std::uint32_t> start(contended.size() + 1, 0);
  for (const Distinct& d : distinct)
    for (const auto& l : *d.loads)
      if (l.weight > 0 && sc.local[l.slot] > 0) ++start[sc.local[l.slot]];
  for (std::size_t k = 0; k < contended.size(); ++k) start[k + 1] += start[k];
  std::vector<std::pair<std::uint32_t, double>> users(start.back());
  std::vector<std::uint32_t> fill(start.begin(), start.end() - 1);
  for (std::uint32_t t = 0; t < distinct.size(); ++t)
    for (const auto& l : *distinct[t].loads)
      if (l.weight > 0 && sc.local[l.slot] > 0) users[fill[sc.local[l.slot] - 1]++] = {t, l.weight};
  sc.clean();
  // One resource per distinct constraint.
  struct Constraint {
    double capacity;
    std::span<const std::pair<std::uint32_t, double>> users;
    bool operator==(const Constraint& o) const {
      return capacity == o.capacity && std::equal(users.begin(), users.end(), o.users.begin(), o.users.end());
    }
  };
  struct Hash {
    static std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
      h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
      return h * 0xff51afd7ed558ccdULL;
    }
    std::size_t operator()(const Constraint& c) const {
      std::uint64_t h = std::bit_cast<std::uint64_t>(c.capacity);
      for (const auto& [t, weight] : c.users) h = mix(mix(h, t), std::bit_cast<std::uint64_t>(weight));
      return static_cast<std::size_t>(h);
    }
  };
  std::unordered_map<Constraint, std::uint32_t, Hash> resource_of;
  std::vector<std::vector<std::pair<std::uint32_t, double>>> uses_of(distinct.size());
  for (std::size_t k = 0; k < contended.size(); ++k) {
    const Constraint c{capacity[contended[k]], std::span(users).subspan(start[k], start[k + 1] - start[k])};
    if (resource_of.contains(c)) continue;  // the same constraint as a slot already kept
    const auto resource = static_cast<std::uint32_t>(out.resources.size());
    resource_of.emplace(c, resource);
    out.resources.push_back(contended[k]);
    for (const auto& [t, weight] : c.users) uses_of[t].emplace_back(resource, weight);
  }
  for (std::size_t i = 0; i < ops.size(); ++i) out.uses[i] = uses_of[traffic_of[i]];
  return out;
}

}  // namespace

struct CommCache::Key {
  LayoutKey layout;
  NetKey net;
};

struct CommCache::NetworkKey {
  LayoutKey layout;
  std::vector<NetKey> ops;  // the operations that leave their node, in plan order
};

class CommCache::Store {
 public:
  explicit Store(std::size_t layouts) : capacity_(std::max<std::size_t>(1, layouts)) {}

  template <class Value, class K>
  std::shared_ptr<const Value> find(const LayoutKey& layout, const K& key) {
    const std::lock_guard lock(mutex_);
    const auto it = touch(layout);
    if (it == lru_.end()) return nullptr;
    auto& map = maps<Value>(*it);
    const auto found = map.find(key);
    if (found == map.end()) return nullptr;
    ++hits_;
    return found->second;
  }
  template <class Value, class K>
  std::shared_ptr<const Value> insert(const LayoutKey& layout, const K& key, std::shared_ptr<const Value> value) {
    const std::lock_guard lock(mutex_);
    ++misses_;
    auto it = touch(layout);
    if (it == lru_.end()) {
      lru_.emplace_front();
      lru_.front().key = layout;
      if (lru_.size() > capacity_) lru_.pop_back();
      it = lru_.begin();
    }
    return maps<Value>(*it).emplace(key, std::move(value)).first->second;
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
  struct Layout {
    LayoutKey key;
    std::map<NetKey, std::shared_ptr<const PreparedBlock>> blocks;
    std::map<std::vector<NetKey>, std::shared_ptr<const ContendedNetwork>> networks;
  };
  using Layouts = std::list<Layout>;
  template <class Value>
  static auto& maps(Layout& l) {
    if constexpr (std::is_same_v<Value, PreparedBlock>) return l.blocks;
    else return l.networks;
  }
  // Moves the layout to the front (most recently used); end() when absent.
  Layouts::iterator touch(const LayoutKey& key) {
    const auto it = std::find_if(lru_.begin(), lru_.end(), [&](const Layout& l) { return l.key == key; });
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

std::shared_ptr<const PreparedBlock> CommCache::block(const Key& key, const std::function<PreparedBlock()>& make) {
  if (auto found = store_->find<PreparedBlock>(key.layout, key.net)) return found;
  return store_->insert(key.layout, key.net, std::make_shared<const PreparedBlock>(make()));
}
std::shared_ptr<const ContendedNetwork> CommCache::network(const NetworkKey& key,
                                                           const std::function<ContendedNetwork()>& make) {
  if (auto found = store_->find<ContendedNetwork>(key.layout, key.ops)) return found;
  return store_->insert(key.layout, key.ops, std::make_shared<const ContendedNetwork>(make()));
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
      out->entries.push_back({&op, op.inside_node ? -1 : static_cast<int>(network.size())});
      if (op.inside_node) continue;
      network.push_back(&op);
      leaves_node = true;
    }
    if (leaves_node) network_key.ops.push_back(key.net);
  }
  auto contended = [&] { return finalize(fabric, network); };
  out->network = cache ? cache->network(network_key, contended) : std::make_shared<const ContendedNetwork>(contended());
  return out;
}

}  // namespace herd::sim
