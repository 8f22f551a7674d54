#pragma once
// Internal pieces of the step's network preparation (comm_plan.cpp, comm_cache.cpp,
// contended_network.cpp): what the cache keys prepared operations by, and the analysis that finds
// the contended slots.
#include <array>
#include <compare>
#include <span>
#include <vector>

#include "herd/sim/step/comm_plan.hpp"

namespace herd::sim::detail {

/// What a rank layout is, for the cache: the degrees, the rank order and the mode.
struct LayoutKey {
  std::array<int, 4> degree{};
  std::array<model::Axis, 4> order{};
  bool per_rank = false;
  auto operator<=>(const LayoutKey&) const = default;
};

/// A network operation, for the cache: a transfer's traffic is per byte whatever its size.
struct NetKey {
  bool transfer = false;
  CommGroup group = CommGroup::tp;
  model::Collective op = model::Collective::all_reduce;
  int stage = 0, to_stage = -1;
  double bytes = 0;  // collectives only: a transfer's loads are per byte whatever its size
  auto operator<=>(const NetKey&) const = default;
};

}  // namespace herd::sim::detail

namespace herd::sim {

struct CommCache::Key {
  detail::LayoutKey layout;
  detail::NetKey net;
};

struct CommCache::NetworkKey {
  detail::LayoutKey layout;
  std::vector<detail::NetKey> ops;  // the operations that leave their node, in plan order
};

namespace detail {

/// The contended part of the network of `ops` (the operations that leave their node, in order):
/// their rate bounds and the fluid resources they use (see comm_plan.hpp).
ContendedNetwork find_contended(const Fabric& fabric, std::span<const PreparedOp* const> ops);

}  // namespace detail
}  // namespace herd::sim
