// Toy problems whose max-min fair rates are derived by hand in the comments.
#include "herd/engine/max_min_solver.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "child_process.hpp"

using namespace herd::engine;

TEST_CASE("two activities on one resource get half each", "[max_min_solver]") {
  // r_a = r_b = C / 2.
  MaxMinSolver solver;
  const ResourceId link = solver.add_resource(10);
  const ActivityId a = solver.add_activity(std::vector<ResourceUse>{{link}});
  const ActivityId b = solver.add_activity(std::vector<ResourceUse>{{link}});
  CHECK(solver.needs_solve());
  solver.solve();
  CHECK_FALSE(solver.needs_solve());
  CHECK(solver.rate(a) == 5);
  CHECK(solver.rate(b) == 5);
  CHECK(solver.bottleneck(a) == link);
  CHECK(solver.load(link) == 10);
}

TEST_CASE("an activity moves at the pace of its slowest shared resource", "[max_min_solver]") {
  // a crosses links of 10 and 4; b uses only the 4-link. The 4-link's fair share 4/2 = 2 is
  // smaller than the 10-link's 10/1, so both get 2; the 10-link carries 2 of its 10.
  MaxMinSolver solver;
  const ResourceId wide = solver.add_resource(10);
  const ResourceId narrow = solver.add_resource(4);
  const ActivityId a = solver.add_activity(std::vector<ResourceUse>{{wide}, {narrow}});
  const ActivityId b = solver.add_activity(std::vector<ResourceUse>{{narrow}});
  solver.solve();
  CHECK(solver.rate(a) == 2);
  CHECK(solver.rate(b) == 2);
  CHECK(solver.bottleneck(a) == narrow);
  CHECK(solver.load(wide) == 2);
}

TEST_CASE("parking lot: a long flow and one short flow per link", "[max_min_solver]") {
  // Links of capacity 1, 2, 3 in a row. `long_flow` crosses all three; short flow s_k uses link
  // k only. Fair shares: 1/2, 2/2, 3/2. Link 1 is the bottleneck: long = s1 = 1/2. Then link 2
  // has 2 - 1/2 = 3/2 left for s2, link 3 has 3 - 1/2 = 5/2 left for s3.
  MaxMinSolver solver;
  std::vector<ResourceId> links{solver.add_resource(1), solver.add_resource(2),
                                solver.add_resource(3)};
  const ActivityId long_flow =
      solver.add_activity(std::vector<ResourceUse>{{links[0]}, {links[1]}, {links[2]}});
  std::vector<ActivityId> short_flows;
  for (ResourceId link : links)
    short_flows.push_back(solver.add_activity(std::vector<ResourceUse>{{link}}));
  solver.solve();
  CHECK(solver.rate(long_flow) == 0.5);
  CHECK(solver.rate(short_flows[0]) == 0.5);
  CHECK(solver.rate(short_flows[1]) == 1.5);
  CHECK(solver.rate(short_flows[2]) == 2.5);
  CHECK(solver.bottleneck(long_flow) == links[0]);
  CHECK(solver.bottleneck(short_flows[2]) == links[2]);
}

TEST_CASE("classic parking lot with equal links gives everyone C/2", "[max_min_solver]") {
  // n links of capacity C, each carrying the long flow and one short flow: every link has
  // two flows and the same fair share C/2, so all n + 1 flows get C/2.
  MaxMinSolver solver;
  std::vector<ResourceUse> path;
  for (int k = 0; k < 5; ++k) path.push_back({solver.add_resource(8)});
  const ActivityId long_flow = solver.add_activity(path);
  std::vector<ActivityId> short_flows;
  for (const ResourceUse& hop : path)
    short_flows.push_back(solver.add_activity(std::vector<ResourceUse>{hop}));
  solver.solve();
  CHECK(solver.rate(long_flow) == 4);
  for (ActivityId flow : short_flows) CHECK(solver.rate(flow) == 4);
}

TEST_CASE("a ring over four links runs at the slowest link", "[max_min_solver]") {
  // One activity models a whole ring collective: rate = min_k C_k = 25.
  MaxMinSolver solver;
  std::vector<ResourceUse> ring;
  for (double capacity : {100.0, 100.0, 25.0, 100.0})
    ring.push_back({solver.add_resource(capacity)});
  const ActivityId collective = solver.add_activity(ring);
  solver.solve();
  CHECK(solver.rate(collective) == 25);
  CHECK(solver.bottleneck(collective) == ring[2].resource);
}

TEST_CASE("weights: an activity crossing a link twice uses it twice", "[max_min_solver]") {
  // a uses the link with weight 2, b with weight 1: 2 r + r = 12 at the common level, so
  // r_a = r_b = 4 and a consumes 8 of the 12. Listing the link twice with weight 1 is the same.
  MaxMinSolver solver;
  const ResourceId link = solver.add_resource(12);
  const ActivityId a = solver.add_activity(std::vector<ResourceUse>{{link, 1}, {link, 1}});
  const ActivityId b = solver.add_activity(std::vector<ResourceUse>{{link, 1}});
  solver.solve();
  CHECK(solver.rate(a) == 4);
  CHECK(solver.rate(b) == 4);
  CHECK(solver.load(link) == 12);
}

TEST_CASE("fractional weights: a transfer split over two ECMP paths", "[max_min_solver]") {
  // a sends half its rate over p1 and half over p2 (weights 0.5); b also uses p1, both C = 10.
  // p1: 0.5 r_a + r_b <= 10, fair level 10 / 1.5 = 20/3; p2: 0.5 r_a <= 10, level 20.
  // p1 saturates first: r_a = r_b = 20/3, and p2 carries 10/3.
  MaxMinSolver solver;
  const ResourceId p1 = solver.add_resource(10);
  const ResourceId p2 = solver.add_resource(10);
  const ActivityId a = solver.add_activity(std::vector<ResourceUse>{{p1, 0.5}, {p2, 0.5}});
  const ActivityId b = solver.add_activity(std::vector<ResourceUse>{{p1, 1}});
  solver.solve();
  CHECK(solver.rate(a) == Approx(20.0 / 3));
  CHECK(solver.rate(b) == Approx(20.0 / 3));
  CHECK(solver.load(p2) == Approx(10.0 / 3));
  CHECK(solver.bottleneck(a) == p1);
}

TEST_CASE("share weights split a bottleneck in proportion", "[max_min_solver]") {
  // phi_a = 3, phi_b = 1 on C = 8: level = 8 / (3 + 1) = 2, so r_a = 6 and r_b = 2.
  MaxMinSolver solver;
  const ResourceId link = solver.add_resource(8);
  const ActivityId a = solver.add_activity(std::vector<ResourceUse>{{link}}, {.share_weight = 3});
  const ActivityId b = solver.add_activity(std::vector<ResourceUse>{{link}});
  solver.solve();
  CHECK(solver.rate(a) == 6);
  CHECK(solver.rate(b) == 2);
  solver.set_share_weight(a, 1);
  solver.solve();
  CHECK(solver.rate(a) == 4);
}

TEST_CASE("a rate bound caps an activity and frees capacity for others", "[max_min_solver]") {
  // a is bounded at 1 on C = 10: a = 1 (its bound is the tighter constraint), b = 10 - 1 = 9.
  MaxMinSolver solver;
  const ResourceId link = solver.add_resource(10);
  const ActivityId a = solver.add_activity(std::vector<ResourceUse>{{link}}, {.rate_bound = 1});
  const ActivityId b = solver.add_activity(std::vector<ResourceUse>{{link}});
  solver.solve();
  CHECK(solver.rate(a) == 1);
  CHECK(solver.bottleneck(a) == kNoResource);
  CHECK(solver.rate(b) == 9);
  CHECK(solver.bottleneck(b) == link);
  // A bound above the fair share changes nothing: both get 5.
  solver.set_rate_bound(a, 7);
  solver.solve();
  CHECK(solver.rate(a) == 5);
  CHECK(solver.rate(b) == 5);
}

TEST_CASE("a bound equal to the fair share names the resource", "[max_min_solver]") {
  // a bounded at 5 and b share C = 10: both 5, and both the bound and the link bind a. The
  // saturated link is the more useful answer to "what limits a".
  MaxMinSolver solver;
  const ResourceId link = solver.add_resource(10);
  const ActivityId a = solver.add_activity(std::vector<ResourceUse>{{link}}, {.rate_bound = 5});
  solver.add_activity(std::vector<ResourceUse>{{link}});
  solver.solve();
  CHECK(solver.rate(a) == 5);
  CHECK(solver.bottleneck(a) == link);
}

TEST_CASE("a resource that gains and loses a second user", "[max_min_solver]") {
  // a alone on a 6-link (C = 6) and a 10-link: a = 6, limited by the 6-link it has to itself.
  // b joins on the 6-link: 3 each. b leaves: back to 6. The 6-link shrinks to 2: a = 2.
  MaxMinSolver solver;
  const ResourceId narrow = solver.add_resource(6);
  const ResourceId wide = solver.add_resource(10);
  const ActivityId a = solver.add_activity(std::vector<ResourceUse>{{narrow}, {wide}});
  solver.solve();
  CHECK(solver.rate(a) == 6);
  CHECK(solver.bottleneck(a) == narrow);
  const ActivityId b = solver.add_activity(std::vector<ResourceUse>{{narrow}});
  solver.solve();
  CHECK(solver.rate(a) == 3);
  CHECK(solver.rate(b) == 3);
  solver.remove_activity(b);
  solver.solve();
  CHECK(solver.rate(a) == 6);
  solver.set_capacity(narrow, 2);
  solver.solve();
  CHECK(solver.rate(a) == 2);
  solver.set_capacity(wide, 1);
  solver.solve();
  CHECK(solver.rate(a) == 1);
  CHECK(solver.bottleneck(a) == wide);
}

TEST_CASE("zero and infinite capacities, and activities with no resources", "[max_min_solver]") {
  MaxMinSolver solver;
  const ResourceId dead = solver.add_resource(0);
  const ResourceId unlimited = solver.add_resource(kUnlimited);
  const ActivityId stuck = solver.add_activity(std::vector<ResourceUse>{{dead}, {unlimited}});
  const ActivityId free_running = solver.add_activity(std::vector<ResourceUse>{{unlimited}});
  const ActivityId bounded =
      solver.add_activity(std::vector<ResourceUse>{{unlimited}}, {.rate_bound = 5});
  const ActivityId nowhere = solver.add_activity({});
  const ActivityId nowhere_bounded = solver.add_activity({}, {.rate_bound = 2});
  solver.solve();
  CHECK(solver.rate(stuck) == 0);  // a capacity of 0 fixes its users at 0
  CHECK(solver.bottleneck(stuck) == dead);
  CHECK(solver.rate(free_running) == kUnlimited);
  CHECK(solver.bottleneck(free_running) == kNoResource);
  CHECK(solver.rate(bounded) == 5);
  CHECK(solver.rate(nowhere) == kUnlimited);
  CHECK(solver.rate(nowhere_bounded) == 2);
  // Restoring the dead link: stuck now gets all of it.
  solver.set_capacity(dead, 3);
  solver.solve();
  CHECK(solver.rate(stuck) == 3);
  CHECK(solver.last_solve_stats().activities == 1);
}

TEST_CASE("removing an activity gives its share back", "[max_min_solver]") {
  // Three on C = 9 get 3 each; remove one and the other two get 4.5.
  MaxMinSolver solver;
  const ResourceId link = solver.add_resource(9);
  std::vector<ActivityId> flows;
  for (int k = 0; k < 3; ++k)
    flows.push_back(solver.add_activity(std::vector<ResourceUse>{{link}}));
  solver.solve();
  CHECK(solver.rate(flows[1]) == 3);
  solver.remove_activity(flows[0]);
  CHECK_FALSE(solver.contains(flows[0]));
  CHECK(solver.activity_count() == 2);
  solver.solve();
  CHECK(solver.rate(flows[1]) == 4.5);
  CHECK(solver.rate(flows[2]) == 4.5);
  // The freed id is reused, and a fresh activity's rate reads 0 until the next solve.
  const ActivityId again = solver.add_activity(std::vector<ResourceUse>{{link}});
  CHECK(again == flows[0]);
  CHECK(solver.rate(again) == 0);
  solver.solve();
  CHECK(solver.rate(again) == 3);
}

TEST_CASE("only the touched component is re-solved", "[max_min_solver]") {
  // Two disjoint links with two activities each: changing one link re-solves only its pair.
  MaxMinSolver solver;
  const ResourceId left = solver.add_resource(2);
  const ResourceId right = solver.add_resource(6);
  for (int k = 0; k < 2; ++k) {
    solver.add_activity(std::vector<ResourceUse>{{left}});
    solver.add_activity(std::vector<ResourceUse>{{right}});
  }
  solver.solve();
  CHECK(solver.last_solve_stats().components == 2);
  CHECK(solver.last_solve_stats().activities == 4);
  solver.set_capacity(right, 8);
  solver.solve();
  CHECK(solver.last_solve_stats().components == 1);
  CHECK(solver.last_solve_stats().activities == 2);
  for (ActivityId activity : solver.last_solved()) CHECK(solver.rate(activity) == 4);
  solver.solve();  // nothing changed: nothing re-solved
  CHECK(solver.last_solved().empty());
}

TEST_CASE("invalid arguments throw and change nothing", "[max_min_solver]") {
  MaxMinSolver solver;
  const ResourceId link = solver.add_resource(1);
  CHECK_THROWS_AS(solver.add_resource(-1), std::invalid_argument);
  CHECK_THROWS_AS(solver.set_capacity(link, std::nan("")), std::invalid_argument);
  CHECK_THROWS_AS(solver.add_activity(std::vector<ResourceUse>{{link, 0}}), std::invalid_argument);
  CHECK_THROWS_AS(solver.add_activity(std::vector<ResourceUse>{{link, kUnlimited}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(solver.add_activity(std::vector<ResourceUse>{{ResourceId{7}}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(solver.add_activity({}, {.rate_bound = -1}), std::invalid_argument);
  CHECK_THROWS_AS(solver.add_activity({}, {.share_weight = 0}), std::invalid_argument);
  CHECK_THROWS_WITH(solver.add_activity({}, {.share_weight = kUnlimited}),
                    "herd::engine: share weight inf must be finite and > 0");
  CHECK(solver.activity_count() == 0);
  CHECK_FALSE(solver.needs_solve());
}

TEST_CASE("using a removed activity aborts", "[max_min_solver]") {
  const auto outcome = testing::run_in_child([] {
    MaxMinSolver solver;
    const ActivityId gone = solver.add_activity({});
    solver.remove_activity(gone);
    (void)solver.rate(gone);
  });
  CHECK(outcome.aborted);
  CHECK(outcome.stderr_text == "herd::engine invariant violated: no live activity with id 0\n");
}
