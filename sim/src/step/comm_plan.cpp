// Preparing a step's network operations on the fabric, and the cache that shares them.
#include "herd/sim/step/comm_plan.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <type_traits>
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

// Prepares blocks on one thread (the collective model holds scratch buffers).
class Preparer {
 public:
  Preparer(const Fabric& fabric, const detail::StepGroups& groups, bool per_rank)
      : fabric_(fabric), groups_(groups), per_rank_(per_rank), model_(fabric, true), traffic_(fabric.slot_count()) {}

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
      for (const auto& l : first.loads) traffic_.add(l.slot, l.weight);
      for (std::size_t i = 1; i < members.size(); ++i) {
        const auto cost = model_.add_group_loads(first, members[i], traffic_);
        op.latency_s = std::max(op.latency_s, cost.latency_s);
        op.rate_bound = std::min(op.rate_bound, cost.algbw_cap);
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
// Contended slots that impose the same constraint (same capacity, same operations at the same
// weights: the copies of a symmetric step each load their own NIC alike) become one resource.
// Every pass is linear in the loads (a 16K-GPU step has ~10^5).
ContendedNetwork finalize(const Fabric& fabric, std::span<const PreparedOp* const> ops) {
  constexpr int kNone = SlotScratch::kNone, kMany = SlotScratch::kMany;
  thread_local SlotScratch sc;
  sc.reserve(fabric.slot_count());
  const std::span<const double> capacity = fabric.slot_capacities();
  ContendedNetwork out;
  const auto n = static_cast<std::uint32_t>(ops.size());
  out.rate_bound.resize(n);
  out.uses.resize(n);
  for (const PreparedOp* op_ptr : ops) {
    const PreparedOp& op = *op_ptr;
    for (const auto& l : op.loads) {
      int& u = sc.user[l.slot];
      if (u == kNone) sc.touched.push_back(l.slot);
      u = u == kNone || u == op.user ? op.user : kMany;
    }
  }
  // Rate bounds from exclusive slots, and the fastest each operation could ever go.
  std::vector<double> fastest(n, 0.0);
  for (std::uint32_t i = 0; i < n; ++i) {
    double& bound_i = out.rate_bound[i];
    bound_i = ops[i]->rate_bound;
    double top = ops[i]->rate_bound;
    for (const auto& l : ops[i]->loads) {
      if (l.weight <= 0) continue;
      const double bound = capacity[l.slot] / l.weight;
      top = std::min(top, bound);
      if (sc.user[l.slot] != kMany) bound_i = std::min(bound_i, bound);
    }
    fastest[i] = top;
  }
  // On a shared slot, the most each user can put on it is its largest weight x the fastest its
  // operations go; the slot can bind only when those together exceed its capacity.
  std::vector<std::uint32_t> by_user(n);
  for (std::uint32_t i = 0; i < n; ++i) by_user[i] = i;
  std::stable_sort(by_user.begin(), by_user.end(), [&](std::uint32_t a, std::uint32_t b) { return ops[a]->user < ops[b]->user; });
  std::vector<SlotId> peaked;
  for (std::size_t k = 0; k < by_user.size();) {
    const int user = ops[by_user[k]]->user;
    for (; k < by_user.size() && ops[by_user[k]]->user == user; ++k) {
      const std::uint32_t i = by_user[k];
      for (const auto& l : ops[i]->loads) {
        if (sc.user[l.slot] != kMany) continue;
        if (sc.peak[l.slot] == 0) peaked.push_back(l.slot);
        sc.peak[l.slot] = std::max(sc.peak[l.slot], l.weight * fastest[i]);
      }
    }
    for (const SlotId slot : peaked) {
      sc.most[slot] += sc.peak[slot];
      sc.peak[slot] = 0;
    }
    peaked.clear();
  }
  // The contended slots in slot order, and the constraint of each as (entry, weight) in entry
  // order (CSR layout).
  std::vector<SlotId> contended;
  for (const SlotId slot : sc.touched)
    if (sc.user[slot] == kMany && sc.most[slot] > capacity[slot] * (1 - 1e-9)) contended.push_back(slot);
  std::sort(contended.begin(), contended.end());
  for (std::uint32_t k = 0; k < contended.size(); ++k) sc.local[contended[k]] = k + 1;  // 0: not contended
  std::vector<std::uint32_t> start(contended.size() + 1, 0);
  for (std::uint32_t i = 0; i < n; ++i)
    for (const auto& l : ops[i]->loads)
      if (l.weight > 0 && sc.local[l.slot] > 0) ++start[sc.local[l.slot]];
  for (std::size_t k = 0; k < contended.size(); ++k) start[k + 1] += start[k];
  std::vector<std::pair<std::uint32_t, double>> users(start.back());
  std::vector<std::uint32_t> fill(start.begin(), start.end() - 1);
  for (std::uint32_t i = 0; i < n; ++i)
    for (const auto& l : ops[i]->loads)
      if (l.weight > 0 && sc.local[l.slot] > 0) users[fill[sc.local[l.slot] - 1]++] = {i, l.weight};
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
      for (const auto& [op, weight] : c.users) h = mix(mix(h, op), std::bit_cast<std::uint64_t>(weight));
      return static_cast<std::size_t>(h);
    }
  };
  std::unordered_map<Constraint, std::uint32_t, Hash> resource_of;
  for (std::size_t k = 0; k < contended.size(); ++k) {
    const Constraint c{capacity[contended[k]], std::span(users).subspan(start[k], start[k + 1] - start[k])};
    if (resource_of.contains(c)) continue;  // the same constraint as a slot already kept
    const auto resource = static_cast<std::uint32_t>(out.resources.size());
    resource_of.emplace(c, resource);
    out.resources.push_back(contended[k]);
    for (const auto& [op, weight] : c.users) out.uses[op].emplace_back(resource, weight);
  }
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
