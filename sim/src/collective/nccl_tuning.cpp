// NCCL's latency and protocol model (src/graph/tuning.cc, NVIDIA/nccl commit b6475625, unless
// a line says otherwise) and its pipeline model for NVLS (src/tuning/pipeline_model of later
// releases). Units: microseconds and GB/s as in NCCL, converted at the boundary.
#include "herd/sim/collective/nccl_tuning.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace herd::sim {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kGB = 1e9;

int proto_index(Protocol p) { return p == Protocol::ll ? 0 : p == Protocol::ll128 ? 1 : 2; }

// baseLat[algorithm][protocol], us: Tree {6.8, 14.0, 0}, Ring {6.6, 14.0, 8.4}, NVLS {0, 0, 0}.
constexpr double kBaseLat[3][3] = {{6.8, 14.0, 0}, {6.6, 14.0, 8.4}, {0, 0, 0}};
// hwLat[NVLink | PCI | network][algorithm][protocol], us; NVLS row of NVLink: 23, network: 18.
constexpr double kHwLat[3][3][3] = {
    {{.6, 1.25, 28}, {.6, 1.9, 3.4}, {0, 0, 23}},
    {{1.0, 1.9, 28}, {1.0, 2.5, 5.7}, {0, 0, 0}},
    {{5.0, 8.5, 28}, {2.7, 4.0, 14.0}, {0, 0, 18}},
};
// NVLS tree (our hierarchical with NVLS inside nodes), network step, us.
constexpr double kNvlsTreeNetLat = 14;
// Network post overhead per step of an inter-node ring, us (x3 for Simple): Intel hosts 1.0.
constexpr double kNetOverheadUs = 1.0;

// Per-channel bandwidth ceilings, GB/s, by node count bucket (1, 2, more).
constexpr double kLlMaxBw[2][3] = {{87.7, 39.0, 20.4}, {87.7, 39.0, 20.4}};  // Hopper/Ampere N1; Intel N2/N4
constexpr double kPerChMaxRingLL128[2] = {36.7, 20.0};                        // Hopper, Ampere
constexpr double kPerChMaxTree[2][3] = {{38.7, 41.4, 36.0}, {24.0, 23.6, 17.8}};
constexpr double kPerChMaxTreeLL128[2][3] = {{36.7, 36.7, 29.0}, {20.0, 20.0, 20.0}};

// treeCorrectionFactor[protocol][log2(bytes / 64)], measured by NCCL's maintainers (64 B .. 256 MiB).
constexpr double kTreeCorrection[3][23] = {
    {1.0, 1.0, 1.0, 1.0, .9, .8, .7, .7, .7, .7, .6, .5, .4, .4, .5, .6, .7, .8, .9, 1.0, 1.0, 1.0, 1.0},
    {1.0, 1.0, 1.0, 1.0, 1.0, .9, .8, .8, .8, .7, .6, .6, .6, .6, .6, .6, .8, .9, .9, .9, .9, 1.0, 1.0},
    {.9, .9, .9, .9, .9, .9, .9, .8, .7, .6, .6, .5, .5, .5, .5, .6, .7, .8, .7, .7, .8, .9, .9},
};

// NCCL's Simple buffer per connection, DEFAULT_BUFFSIZE = 4 MiB (src/init.cc), split into
// NCCL_STEPS = 8 slots (src/include/device.h): one 512 KiB step is the nominal chunk of every
// algorithm but the ring (coll_sizes.h ncclGetChunkSteps / ncclGetChunkSize: chunkSteps 1), and
// the pipeline model's slice (pipeline_model.h ncclTuningPipelineComputeChunkSize, lines 74-87,
// and ncclTuningPipelineComputeSliceSize, lines 51-72; NVIDIA/nccl commit 10354992).
constexpr double kSimpleBufferBytes = 4.0 * 1024 * 1024;
constexpr double kNcclSteps = 8;

// Threads per channel (NCCL device.h: SIMPLE and LL 512, LL128 640) and bytes per thread below
// which NCCL drops a channel (comm.h: LL 8 x ranks for rings, LL128 8, Simple 64).
constexpr int kThreads[3] = {512, 640, 512};
constexpr int kThreadThreshold[3] = {8, 8, 64};

int node_bucket(int nodes) { return nodes <= 1 ? 0 : nodes == 2 ? 1 : 2; }

int table_algorithm(Algorithm a) {
  switch (a) {
    case Algorithm::tree: return 0;
    case Algorithm::nvls: return 2;
    default: return 1;  // ring, hierarchical (ring between nodes), direct
  }
}

int log2_floor(double x) { return x < 1 ? 0 : static_cast<int>(std::floor(std::log2(x))); }

}  // namespace

NcclTuning::NcclTuning(const Fabric& fabric)
    : spec_(fabric.cluster().collectives),
      hopper_(fabric.hopper_class()),
      nvlink_(fabric.cluster().nvswitch),
      nvls_(fabric.topology().nvls()) {}

bool NcclTuning::enabled(Algorithm algorithm, Protocol protocol) const {
  if (algorithm == Algorithm::nvls || algorithm == Algorithm::hierarchical || algorithm == Algorithm::direct)
    return protocol == Protocol::simple;
  // LL128 is on by default only over NVLink (tuning.cc: typeIntra <= PATH_NVB).
  if (protocol == Protocol::ll128) return nvlink_;
  return true;
}

int NcclTuning::channels(Algorithm algorithm, Protocol protocol, const GroupShape& shape, double bytes) const {
  if (spec_.channels > 0) return spec_.channels;
  if (algorithm == Algorithm::nvls) return spec_.nvls_channels;
  const int p = proto_index(protocol);
  long long threshold = kThreadThreshold[p];
  if (algorithm == Algorithm::ring && protocol == Protocol::ll) threshold *= shape.ranks;
  int nc = spec_.max_channels;
  // A group with one rank per node talks only through that rank's NIC: NCCL starts from 2 channels
  // per NIC (search.cc) and its init log reports "2 coll channels" for such communicators
  // (NVIDIA/nccl-tests#133), where full nodes on NVLink get up to MAXCHANNELS.
  if (shape.nodes > 1 && shape.max_per_node == 1) nc = std::min(nc, 2);
  while (nc > 1 && bytes < static_cast<double>(nc) * kThreads[p] * static_cast<double>(threshold)) --nc;
  return nc;
}

double NcclTuning::base_latency_us(Algorithm a, Protocol p) const {
  if (spec_.base_latency_s >= 0) return spec_.base_latency_s * 1e6;
  return kBaseLat[table_algorithm(a)][proto_index(p)];
}

double NcclTuning::intra_step_us(Algorithm a, Protocol p) const {
  if (spec_.intra_step_latency_s >= 0) return spec_.intra_step_latency_s * 1e6;
  return kHwLat[nvlink_ ? 0 : 1][table_algorithm(a)][proto_index(p)];
}

double NcclTuning::inter_step_us(Algorithm a, Protocol p) const {
  if (spec_.inter_step_latency_s >= 0) return spec_.inter_step_latency_s * 1e6;
  return kHwLat[2][table_algorithm(a)][proto_index(p)];
}

double NcclTuning::latency_s(model::Collective op, Algorithm a, Protocol p, const GroupShape& s, double bytes,
                             int channels) const {
  const int n = s.ranks, nodes = s.nodes;
  if (n <= 1) return 0;
  const double path_us = s.inter_node_latency_s * 1e6;
  // NCCL adds the network's own latency to each step between nodes, twice for Simple (flush).
  const double inter = inter_step_us(a, p) + path_us * (p == Protocol::simple ? 2 : 1);
  double intra = intra_step_us(a, p);
  const double base = base_latency_us(a, p);
  double us = 0;
  switch (a) {
    case Algorithm::ring: {
      if (op == model::Collective::broadcast || op == model::Collective::reduce) {
        // A pipeline from the root: n - 1 hops.
        const int inter_hops = nodes - 1;
        us = base + (n - 1 - inter_hops) * intra + inter_hops * inter;
        break;
      }
      const int steps = op == model::Collective::all_reduce ? 2 * (n - 1) : n - 1;
      const int inter_steps = op == model::Collective::all_reduce ? 2 * (nodes - 1) : nodes - 1;
      if (nodes > 1) intra = std::max(intra, kNetOverheadUs * (p == Protocol::simple ? 3 : 1));
      us = base + (steps - inter_steps) * intra + inter_steps * inter;
      // "Plateau effect of ring": multi-node Simple all-reduce once each rank gets >= 64 B per channel.
      if (op == model::Collective::all_reduce && p == Protocol::simple && nodes > 1 && bytes / (channels * n) >= 64)
        us *= 1.4;
      break;
    }
    case Algorithm::tree:
      us = base + 2 * ((s.max_per_node - 1) * intra + log2_floor(nodes) * inter);
      break;
    case Algorithm::nvls:
      us = intra;
      break;
    case Algorithm::hierarchical: {
      // NCCL's NVLS tree: intraLat + 2 log2(nodes) x interLat; rings between nodes for
      // all-gather and reduce-scatter (nodes - 1 steps). Without NVLS, a ring inside the node.
      const int m = s.max_per_node;
      const int intra_steps = op == model::Collective::all_reduce ? 2 * (m - 1) : m - 1;
      const double inside = nvls_ ? intra_step_us(Algorithm::nvls, p) : intra_steps * intra_step_us(Algorithm::ring, p);
      const double net = spec_.inter_step_latency_s >= 0 ? spec_.inter_step_latency_s * 1e6 : kNvlsTreeNetLat;
      const double between = net + path_us * (p == Protocol::simple ? 2 : 1);
      const int inter_steps = op == model::Collective::all_reduce ? 2 * log2_floor(nodes) : nodes - 1;
      us = (nvls_ ? 0.0 : base) + inside + inter_steps * between;
      break;
    }
    case Algorithm::direct:
      us = base_latency_us(Algorithm::ring, p) + (nodes > 1 ? inter : intra);
      break;
    case Algorithm::automatic: break;
  }
  return us * 1e-6;
}

double NcclTuning::nvls_scale(int channels) const {
  const double channel_share = channels > 1 ? static_cast<double>(channels - 1) / channels : 1.0;
  return 1.0 / (spec_.nvls_efficiency * channel_share);
}

// NCCL's pipeline model (src/tuning/pipeline_model/pipeline_model.cc pipelineModel, lines 16-30,
// commit 623aa029): a channel's time is T_first + (slices - 1) x T_delay, where the first slice
// crosses all `steps` of the algorithm, T_first = steps x (latency / 2 + slice / bw), and every
// later slice adds its own time at the slowest step. NVLS has 2 steps for all-reduce (into the
// switch and out), 1 for all-gather and reduce-scatter (pipeline_model/nvls.cc getNVLSSteps,
// lines 42-44, commit 53947894). The latency term is latency_s(); what is left, over the time of
// the channel's share at its rate, is (share + (steps - 1) x slice) / share. NCCL counts the last,
// partial slice in full (DIVUP); this counts its bytes, which agrees at whole slices and spares
// a jump of one slice-time just past them. NCCL runs this model for its newest GPUs
// (src/tuning/platforms/rubin.h) and latency + size / bandwidth for Hopper, whose measured NVLS
// curve nonetheless ramps up as the model says (docs/validation.md, Collectives).
double NcclTuning::pipeline_factor(model::Collective op, Algorithm a, int channels, double bytes) const {
  if (a != Algorithm::nvls || !(bytes > 0)) return 1.0;
  const double share = bytes / std::max(1, channels);  // ncclSizePerChannel
  const double slice = std::min(kSimpleBufferBytes / kNcclSteps, share);
  const double steps = op == model::Collective::all_reduce ? 2 : 1;
  return (share + (steps - 1) * slice) / share;
}

ProtocolCost NcclTuning::protocol_cost(model::Collective op, Algorithm a, Protocol p, const GroupShape& s, double bytes,
                                       int nc) const {
  ProtocolCost cost{1.0, kInf};
  const int arch = hopper_ ? 0 : 1;
  const int bucket = node_bucket(s.nodes);
  const double ll_max = kLlMaxBw[arch][bucket] * kGB;
  const double ppn = static_cast<double>(s.ranks) / std::max(1, s.nodes);
  if (a == Algorithm::ring) {
    // NCCL's bus bandwidth of a ring is per-link; as algorithm bandwidth: x n / steps.
    const int n = s.ranks;
    const double steps = op == model::Collective::all_reduce ? 2.0 * (n - 1)
                         : (op == model::Collective::broadcast || op == model::Collective::reduce) ? n
                                                                                          : n - 1.0;
    const double to_alg = steps > 0 ? n / steps : 1.0;
    if (p == Protocol::ll) {
      const bool quarter = s.nodes > 1 || op == model::Collective::all_reduce || op == model::Collective::reduce;
      cost.load_scale = quarter ? 4.0 : 3.0;
      cost.algbw_cap = ll_max * to_alg;
    } else if (p == Protocol::ll128) {
      cost.load_scale = 1.0 / (ppn < 2 ? 0.7 : 0.92);
      cost.algbw_cap = nc * kPerChMaxRingLL128[arch] * kGB * to_alg;
    }
  } else if (a == Algorithm::tree) {
    // Tree: 0.92 of the links, a per-channel ceiling, algorithm bandwidth = 1/2 bus bandwidth;
    // and the measured correction for medium sizes.
    double busbw_cap = nc * kPerChMaxTree[arch][bucket] * kGB;
    double efficiency = 0.92;
    if (p == Protocol::ll) {
      efficiency /= 3.8;
      busbw_cap = std::min(busbw_cap / 3.8, ll_max);
    } else if (p == Protocol::ll128) {
      efficiency *= s.nodes == 1 ? 7.0 / 9.0 : 120.0 / 128.0;
      busbw_cap = std::min(busbw_cap, nc * kPerChMaxTreeLL128[arch][bucket] * kGB);
    }
    const int log_size = log2_floor(bytes / 64);
    const double correction = log_size < 23 ? kTreeCorrection[proto_index(p)][log_size] : 1.0;
    cost.load_scale = 1.0 / (efficiency * correction);
    cost.algbw_cap = 0.5 * busbw_cap * correction;
  } else if (a == Algorithm::nvls) {
    // Each channel gets an equal share of the links, so the pipeline's slice-times become bytes
    // at the link-bound rate: the fill costs link time, and contention stretches it too.
    cost.load_scale = pipeline_factor(op, a, nc, bytes);
  }
  return cost;
}

}  // namespace herd::sim
