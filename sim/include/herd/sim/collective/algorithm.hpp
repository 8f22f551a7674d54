#pragma once
// NCCL's algorithms and protocols, and what a caller may force. The operations themselves are
// model::Collective (herd/model/collective.hpp), one vocabulary for the workload and the network.
#include <string_view>

#include "herd/model/collective.hpp"
#include "herd/model/hardware.hpp"

namespace herd::sim {

/// ring: NCCL's ring (rings enter and leave each node once per channel, NVLink inside).
/// tree: NCCL's double binary tree over nodes with a chain inside each node (all-reduce only).
/// nvls: in-switch reduction and multicast inside one NVSwitch domain (NVLink SHARP).
/// hierarchical: inside each node (NVLS or ring), then between nodes on rank-aligned rails.
/// direct: one transfer per peer, all at once (all-to-all, send/recv).
enum class Algorithm { automatic, ring, tree, nvls, hierarchical, direct };

/// NCCL protocols: LL (8-byte stores, 4 bytes of data and a flag), LL128 (128-byte lines, 120 of
/// data), Simple (bulk copies with a fence per chunk).
enum class Protocol { automatic, ll, ll128, simple };

std::string_view to_string(Algorithm algorithm);
std::string_view to_string(Protocol protocol);

Algorithm from_model(model::CollectiveAlgorithm algorithm);
Protocol from_model(model::CollectiveProtocol protocol);

/// What a caller may force; anything left automatic falls back to the cluster's
/// `cluster.collectives.*` setting, then to the NCCL-style choice.
struct CollectiveOptions {
  Algorithm algorithm = Algorithm::automatic;
  Protocol protocol = Protocol::automatic;
  int channels = 0;  ///< 0: automatic
  int root = 0;      ///< broadcast / reduce: index of the root within each group
};

}  // namespace herd::sim
