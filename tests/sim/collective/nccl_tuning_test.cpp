// The NCCL-style choice: protocol by size, algorithm by group shape, channel count by NCCL's
// per-thread threshold, and forcing through cluster.collectives.* or per call.
#include <catch2/catch.hpp>

#include "../network/test_fabrics.hpp"
#include "herd/sim/collective/collective_model.hpp"

using namespace herd;
using herd::test::kGiB;

TEST_CASE("small messages take a low-latency protocol, large ones NVLS inside a node", "[collective][tuning]") {
  const auto fabric = test::fabric_from(test::nodes_of("dgx-h100-superpod", 1));
  sim::CollectiveModel model(*fabric);
  const auto group = test::first_ranks(8);
  const auto small = model.estimate(model::Collective::all_reduce, group, 8 * 1024);
  CHECK(small.protocol == sim::Protocol::ll);
  const auto large = model.estimate(model::Collective::all_reduce, group, kGiB);
  CHECK(large.algorithm == sim::Algorithm::nvls);
  CHECK(large.protocol == sim::Protocol::simple);
  CHECK(large.channels == 16);
  // The chosen candidate is the cheapest of all NCCL would weigh.
  for (const auto& c : model.candidates(model::Collective::all_reduce, group, kGiB)) CHECK(large.time_s <= c.time_s);
}

TEST_CASE("channels drop while each would get less than threads x threshold bytes", "[collective][tuning]") {
  // NCCL enqueue.cc: while (bytes < nc * threads * threshold) nc--; Simple: 512 threads x 64 B.
  const auto fabric = test::fabric_from(test::nodes_of("llama3-roce", 2));
  const sim::NcclTuning tuning(*fabric);
  const sim::GroupShape shape = sim::shape_of(*fabric, test::first_ranks(16));
  CHECK(tuning.channels(sim::Algorithm::ring, sim::Protocol::simple, shape, kGiB) == 32);
  CHECK(tuning.channels(sim::Algorithm::ring, sim::Protocol::simple, shape, 512 * 1024) == 16);  // = 16 x 32 KiB
  CHECK(tuning.channels(sim::Algorithm::ring, sim::Protocol::simple, shape, 512 * 1024 - 1) == 15);
  CHECK(tuning.channels(sim::Algorithm::ring, sim::Protocol::simple, shape, 1024) == 1);
}

TEST_CASE("NVLS all-reduce pipelines 512 KiB slices through two steps", "[collective][tuning]") {
  // NCCL's pipeline model: (share + (steps - 1) x slice) / share, share = bytes / channels,
  // slice = min(NCCL_BUFFSIZE / NCCL_STEPS = 512 KiB, share), steps = 2 for an NVLS all-reduce.
  const auto fabric = test::fabric_from(test::nodes_of("dgx-h100-superpod", 1));
  const sim::NcclTuning tuning(*fabric);
  using sim::Algorithm, model::Collective;
  const double MiB = test::kMiB;
  // Up to one slice per channel (16 x 512 KiB = 8 MiB) the first slice is the whole share: x 2.
  CHECK(tuning.pipeline_factor(model::Collective::all_reduce, Algorithm::nvls, 16, 1 * MiB) == Approx(2.0));
  CHECK(tuning.pipeline_factor(model::Collective::all_reduce, Algorithm::nvls, 16, 8 * MiB) == Approx(2.0));
  CHECK(tuning.pipeline_factor(model::Collective::all_reduce, Algorithm::nvls, 16, 16 * MiB) == Approx(1.5));
  CHECK(tuning.pipeline_factor(model::Collective::all_reduce, Algorithm::nvls, 16, kGiB) == Approx(129.0 / 128));
  CHECK(tuning.pipeline_factor(model::Collective::all_reduce, Algorithm::nvls, 8, 8 * MiB) == Approx(1.5));
  // Continuous past a whole slice: a partial last slice costs its bytes only.
  CHECK(tuning.pipeline_factor(model::Collective::all_reduce, Algorithm::nvls, 16, 8 * MiB + 16) ==
        Approx(2.0).epsilon(1e-6));
  // One step (all-gather, reduce-scatter), other algorithms and empty calls: no fill.
  CHECK(tuning.pipeline_factor(model::Collective::all_gather, Algorithm::nvls, 16, 4 * MiB) == 1.0);
  CHECK(tuning.pipeline_factor(model::Collective::reduce_scatter, Algorithm::nvls, 16, 4 * MiB) == 1.0);
  CHECK(tuning.pipeline_factor(model::Collective::all_reduce, Algorithm::ring, 16, 4 * MiB) == 1.0);
  CHECK(tuning.pipeline_factor(model::Collective::all_reduce, Algorithm::nvls, 16, 0) == 1.0);
}

TEST_CASE("cluster.collectives.* forces algorithm and protocol where they apply", "[collective][tuning]") {
  nlohmann::json doc = test::nodes_of("dgx-h100-superpod", 1);
  doc["cluster"]["collectives"] = {{"algorithm", "ring"}, {"protocol", "ll128"}};
  const auto fabric = test::fabric_from(doc);
  sim::CollectiveModel model(*fabric);
  const auto forced = model.estimate(model::Collective::all_reduce, test::first_ranks(8), kGiB);
  CHECK(forced.algorithm == sim::Algorithm::ring);
  CHECK(forced.protocol == sim::Protocol::ll128);
  // Per-call options win over the cluster's.
  sim::CollectiveOptions tree;
  tree.algorithm = sim::Algorithm::tree;
  tree.protocol = sim::Protocol::simple;
  CHECK(model.estimate(model::Collective::all_reduce, test::first_ranks(8), kGiB, tree).algorithm == sim::Algorithm::tree);
  // Like NCCL, an algorithm that cannot run the op falls back: all-gather has no tree.
  CHECK(model.estimate(model::Collective::all_gather, test::first_ranks(8), kGiB, tree).algorithm != sim::Algorithm::tree);
}

TEST_CASE("NVLS needs one NVSwitch domain, hierarchical needs several nodes", "[collective][tuning]") {
  const auto two = test::fabric_from(test::nodes_of("dgx-h100-superpod", 2));
  const auto shape = sim::shape_of(*two, test::first_ranks(16));
  CHECK_FALSE(sim::algorithm_applies(*two, model::Collective::all_reduce, sim::Algorithm::nvls, shape));
  CHECK(sim::algorithm_applies(*two, model::Collective::all_reduce, sim::Algorithm::hierarchical, shape));
  const auto one_node = sim::shape_of(*two, test::first_ranks(8));
  CHECK(sim::algorithm_applies(*two, model::Collective::all_gather, sim::Algorithm::nvls, one_node));
  CHECK_FALSE(sim::algorithm_applies(*two, model::Collective::all_gather, sim::Algorithm::hierarchical, one_node));
  const std::vector<int> repeated{0, 1, 1};
  CHECK_THROWS_AS(sim::shape_of(*two, repeated), std::invalid_argument);
}

TEST_CASE("uncontended estimate equals the simulation of one group", "[collective][tuning]") {
  const auto fabric = test::fabric_from(test::nodes_of("llama3-roce", 4));
  sim::CollectiveModel model(*fabric);
  for (const auto op : {model::Collective::all_reduce, model::Collective::all_gather, model::Collective::broadcast,
                        model::Collective::all_to_all, model::Collective::send_recv}) {
    for (const double bytes : {4096.0, 1e6, 1e9}) {
      const auto estimate = model.estimate(op, test::first_ranks(32), bytes);
      const auto simulated = test::run_collective(fabric, {op, {test::first_ranks(32)}, bytes});
      INFO(to_string(op) << " " << bytes);
      CHECK(simulated.time_s() == Approx(estimate.time_s).epsilon(1e-6).margin(2e-9));
      CHECK(simulated.algorithm == estimate.algorithm);
    }
  }
}
