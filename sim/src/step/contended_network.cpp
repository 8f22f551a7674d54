// The contended slots of a step's network, found in linear passes over the loads.
#include <algorithm>
#include <bit>
#include <limits>
#include <unordered_map>

#include "comm_keys.hpp"

namespace herd::sim::detail {

namespace {

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

}  // namespace

// Splits contended slots from the rest (see the header): a slot only one user loads bounds that
// user's operations instead; a shared slot whose users' peak loads cannot fill it never binds.
// Contended slots that impose the same constraint (same capacity, same traffic at the same
// weights: the copies of a symmetric step each load their own NIC alike) become one resource.
// Operations sharing a Traffic (one user's operations of different sizes) are analysed as one;
// every pass is linear in the distinct traffic's loads.
ContendedNetwork find_contended(const Fabric& fabric, std::span<const PreparedOp* const> ops) {
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

}  // namespace herd::sim::detail
