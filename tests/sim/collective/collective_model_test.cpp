// A measured curve in the cluster (ClusterSpec::measured_collectives, from a calibration profile)
// sets the time of the collective it measured when that collective runs alone, and leaves the
// contention physics in place: concurrent calls still share the links the pattern loads.
#include <catch2/catch.hpp>

#include <cmath>

#include "herd/model/calibration_profile.hpp"
#include "herd/sim/collective/collective_model.hpp"
#include "../network/test_fabrics.hpp"

using namespace herd;
using test::kGiB;
using test::kMiB;

namespace {

// Two points of the published DGX H100 NVLS all-reduce curve (tests/data/calibration), 8 ranks.
model::CollectiveFit all_reduce_fit() {
  model::CollectiveFit f;
  f.points = {{1 * kGiB, 4032.3e-6}, {4 * kGiB, 15757.2e-6}};
  f.min_bytes = f.points.front().first;
  f.max_bytes = f.points.back().first;
  f.alpha_s = 20e-6;
  f.bandwidth = (f.max_bytes - f.min_bytes) / (f.points.back().second - f.points.front().second);
  f.ranks = 8;
  f.nodes = 1;
  return f;
}

std::shared_ptr<const sim::Fabric> dgx(bool measured, const nlohmann::json& set = {}) {
  nlohmann::json doc = test::nodes_of("dgx-h100-superpod", 2);
  if (!set.is_null()) doc["cluster"]["collectives"] = set;
  model::ClusterSpec cluster = model::scenario_from_json(doc, "test fabric").cluster;
  if (measured)
    cluster.measured_collectives =
        std::make_shared<const model::CollectiveFits>(model::CollectiveFits{{"all_reduce/intra_node", all_reduce_fit()}});
  return std::make_shared<const sim::Fabric>(cluster);
}

}  // namespace

TEST_CASE("a measured collective alone takes the measured time: the points, log-log between them", "[collective][calibration]") {
  const auto fabric = dgx(true);
  sim::CollectiveModel model(*fabric);
  const auto node = test::first_ranks(8);
  CHECK(model.estimate(model::Collective::all_reduce, node, 1 * kGiB).time_s == Approx(4032.3e-6).epsilon(1e-12));
  CHECK(model.estimate(model::Collective::all_reduce, node, 4 * kGiB).time_s == Approx(15757.2e-6).epsilon(1e-12));
  // 2 GiB is halfway between 1 and 4 GiB in log size: the geometric mean of the two times.
  CHECK(model.estimate(model::Collective::all_reduce, node, 2 * kGiB).time_s ==
        Approx(std::sqrt(4032.3e-6 * 15757.2e-6)).epsilon(1e-12));
  // Outside the points the fit's own line, alpha + S / bandwidth (model::collective_seconds).
  const auto fit = all_reduce_fit();
  CHECK(model.estimate(model::Collective::all_reduce, node, 64 * kMiB).time_s ==
        Approx(fit.alpha_s + 64 * kMiB / fit.bandwidth).epsilon(1e-12));

  // The plan carries the ratio it applied and the measured time; latency and rate scale alike.
  const sim::CollectivePlan plan = model.plan(model::Collective::all_reduce, node, 2 * kGiB);
  const auto plain = dgx(false);
  sim::CollectiveModel alone(*plain);
  const sim::CollectivePlan modelled = alone.plan(model::Collective::all_reduce, node, 2 * kGiB);
  CHECK(plan.algorithm == modelled.algorithm);
  CHECK(plan.measured_s == Approx(std::sqrt(4032.3e-6 * 15757.2e-6)).epsilon(1e-12));
  CHECK(plan.calibration == Approx(plan.measured_s / modelled.uncontended_time_s()).epsilon(1e-12));
  CHECK(plan.latency_s == Approx(modelled.latency_s * plan.calibration).epsilon(1e-12));
  CHECK(plan.uncontended_algbw == Approx(modelled.uncontended_algbw / plan.calibration).epsilon(1e-12));
}

TEST_CASE("collectives the profile did not measure keep the network model's time", "[collective][calibration]") {
  const auto with_curve = dgx(true), plain = dgx(false);  // a model reads its fabric: keep them
  sim::CollectiveModel measured(*with_curve);
  sim::CollectiveModel alone(*plain);
  const auto node = test::first_ranks(8);
  const auto four = test::first_ranks(4);
  const std::vector<int> across{0, 8};  // one GPU of each node: inter_node, not measured
  // Another op, another rank count, another scope: exactly the model's figure.
  CHECK(measured.estimate(model::Collective::all_gather, node, kGiB).time_s ==
        alone.estimate(model::Collective::all_gather, node, kGiB).time_s);
  CHECK(measured.estimate(model::Collective::all_reduce, four, kGiB).time_s ==
        alone.estimate(model::Collective::all_reduce, four, kGiB).time_s);
  CHECK(measured.estimate(model::Collective::all_reduce, across, kGiB).time_s ==
        alone.estimate(model::Collective::all_reduce, across, kGiB).time_s);
  CHECK(measured.plan(model::Collective::all_reduce, four, kGiB).calibration == 1);
  // A scenario that forces NCCL's choice asks about another algorithm than the one measured.
  const nlohmann::json ring = {{"algorithm", "ring"}};
  const auto forced_curve = dgx(true, ring), forced_plain = dgx(false, ring);
  sim::CollectiveModel forced(*forced_curve);
  sim::CollectiveModel forced_alone(*forced_plain);
  CHECK(forced.estimate(model::Collective::all_reduce, node, kGiB).time_s ==
        forced_alone.estimate(model::Collective::all_reduce, node, kGiB).time_s);
}

TEST_CASE("two measured calls at once share the links: each takes L + 2 (t - L)", "[collective][calibration][network]") {
  // Alone the call takes its measured t = L + S / R, L its (scaled) latency. Two identical calls on
  // the same GPUs load the same slots equally, so each moves at R / 2 once their latencies are
  // over: both end at L + 2 S / R = L + 2 (t - L).
  const auto fabric = dgx(true);
  const auto node = test::first_ranks(8);
  const double S = 2 * kGiB;
  const sim::CollectiveResult one = test::run_collective(fabric, {model::Collective::all_reduce, {node}, S});
  const double t = std::sqrt(4032.3e-6 * 15757.2e-6);
  CHECK(one.time_s() == Approx(t).epsilon(1e-6));
  CHECK(one.measured_time_s == Approx(t).epsilon(1e-12));
  engine::Simulation simulation;
  sim::Network network(simulation, fabric);
  sim::CollectiveResult a, b;
  network.start_collective({model::Collective::all_reduce, {node}, S}, [&](const sim::CollectiveResult& r) { a = r; });
  network.start_collective({model::Collective::all_reduce, {node}, S}, [&](const sim::CollectiveResult& r) { b = r; });
  simulation.run();
  const double L = one.latency_s;
  CHECK(a.time_s() == Approx(L + 2 * (t - L)).epsilon(1e-6));
  CHECK(b.time_s() == Approx(L + 2 * (t - L)).epsilon(1e-6));
}
