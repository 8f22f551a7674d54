// A leaf-spine (two-tier) fabric for the engine benchmarks: each host has an uplink and a
// downlink to its leaf; each leaf has an uplink to and a downlink from every spine. Routes are
// single-path, the spine picked by a hash of (source, destination) as ECMP would.
#pragma once

#include <cstdint>
#include <vector>

#include "herd/engine/max_min_solver.hpp"

namespace herd::engine::bench {

struct TwoTierFabric {
  int hosts = 0;
  int hosts_per_leaf = 0;
  int spines = 0;
  std::vector<ResourceId> host_up, host_down;   // per host
  std::vector<ResourceId> leaf_up, spine_down;  // per (leaf, spine): leaf * spines + spine

  // `sink` is a MaxMinSolver or a FluidSystem. Capacities in bytes/s: 400 Gb/s host ports,
  // 400 Gb/s leaf-spine links.
  template <class Sink>
  TwoTierFabric(Sink& sink, int host_count, int per_leaf, int spine_count)
      : hosts(host_count), hosts_per_leaf(per_leaf), spines(spine_count) {
    constexpr double kPortBytesPerSecond = 50e9;
    for (int h = 0; h < hosts; ++h) {
      host_up.push_back(sink.add_resource(kPortBytesPerSecond));
      host_down.push_back(sink.add_resource(kPortBytesPerSecond));
    }
    for (int link = 0; link < leaves() * spines; ++link) {
      leaf_up.push_back(sink.add_resource(kPortBytesPerSecond));
      spine_down.push_back(sink.add_resource(kPortBytesPerSecond));
    }
  }

  [[nodiscard]] int leaves() const { return (hosts + hosts_per_leaf - 1) / hosts_per_leaf; }
  [[nodiscard]] int leaf_of(int host) const { return host / hosts_per_leaf; }

  // Appends the resources a transfer from `source` to `destination` crosses.
  void route(int source, int destination, std::vector<ResourceUse>& uses) const {
    const auto s = static_cast<std::size_t>(source);
    const auto d = static_cast<std::size_t>(destination);
    uses.push_back({host_up[s]});
    if (leaf_of(source) != leaf_of(destination)) {
      const std::uint64_t hash = (s * 0x9E3779B97F4A7C15ull) ^ (d * 0xC2B2AE3D27D4EB4Full);
      const auto spine =
          static_cast<std::size_t>((hash >> 32) % static_cast<std::uint64_t>(spines));
      const auto per_spine = static_cast<std::size_t>(spines);
      uses.push_back({leaf_up[static_cast<std::size_t>(leaf_of(source)) * per_spine + spine]});
      uses.push_back(
          {spine_down[static_cast<std::size_t>(leaf_of(destination)) * per_spine + spine]});
    }
    uses.push_back({host_down[d]});
  }
};

// 128 ring collectives over 16,384 GPUs: 2,048 nodes of 8 GPUs, one 400 Gb/s NIC per GPU,
// 16 nodes (128 GPUs) per leaf, 32 spines (1:4 oversubscribed). Ring r joins GPU (r mod 8) of
// nodes g, g + 16, g + 32, ... (g = r / 8), one per leaf, as a data-parallel ring across
// pipeline stages would: every hop crosses a spine, so a ring is one activity of 4 uses per
// hop, 512 in all, and the rings share leaf-spine links in one big component.
struct RingWorkload {
  static constexpr int kGpus = 16'384;
  static constexpr int kGpusPerNode = 8;
  static constexpr int kNodesPerLeaf = 16;
  static constexpr int kSpines = 32;
  static constexpr int kRingSize = 128;
  static constexpr int kRings = 128;

  template <class Sink>
  static TwoTierFabric fabric(Sink& sink) {
    return TwoTierFabric(sink, kGpus, kNodesPerLeaf * kGpusPerNode, kSpines);
  }

  static std::vector<ResourceUse> ring_uses(const TwoTierFabric& fabric, int ring) {
    const int local_rank = ring % kGpusPerNode;
    const int node_group = ring / kGpusPerNode;
    auto gpu = [&](int hop) {
      return (node_group + kNodesPerLeaf * hop) * kGpusPerNode + local_rank;
    };
    std::vector<ResourceUse> uses;
    for (int hop = 0; hop < kRingSize; ++hop)
      fabric.route(gpu(hop), gpu((hop + 1) % kRingSize), uses);
    return uses;
  }
};

}  // namespace herd::engine::bench
