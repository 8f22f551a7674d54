// Pipeline orders replayed with unit times (forward 1, backward 2 per chunk, free transfers): every
// schedule completes, and the makespan is 3 (M V + p - 1), i.e. a bubble fraction of (p - 1) / (V M)
// (arXiv:2407.21783 section 3.3.2; Narayanan et al. SC'21 for interleaving).
#include <catch2/catch.hpp>

#include <map>
#include <tuple>

#include "herd/model/pipeline.hpp"
#include "herd/model/scenario.hpp"

using namespace herd::model;

namespace {

// Returns the makespan, or -1 on deadlock. Chunk c = virtual_index * p + rank.
double replay(const PlanSpec& p) {
  std::vector<std::vector<ScheduledWork>> orders;
  for (int r = 0; r < p.pp; ++r) orders.push_back(pipeline_order(p, r));
  const int chunks = p.pp * p.virtual_stages;
  std::map<std::tuple<int, int, int>, double> done;  // (work, chunk, microbatch) -> finish
  std::vector<std::size_t> pos(static_cast<std::size_t>(p.pp), 0);
  std::vector<double> clock(static_cast<std::size_t>(p.pp), 0);
  for (bool progress = true; progress;) {
    progress = false;
    for (int r = 0; r < p.pp; ++r) {
      auto& i = pos[static_cast<std::size_t>(r)];
      while (i < orders[static_cast<std::size_t>(r)].size()) {
        const auto& w = orders[static_cast<std::size_t>(r)][i];
        const int c = w.virtual_index * p.pp + r;
        std::vector<std::tuple<int, int, int>> deps;
        if (w.work == Work::forward && c > 0) deps.emplace_back(0, c - 1, w.microbatch);
        if (w.work == Work::backward) {
          deps.emplace_back(0, c, w.microbatch);
          if (c + 1 < chunks) deps.emplace_back(1, c + 1, w.microbatch);
        }
        double start = clock[static_cast<std::size_t>(r)];
        bool ready = true;
        for (const auto& d : deps) {
          auto it = done.find(d);
          if (it == done.end()) ready = false;
          else start = std::max(start, it->second);
        }
        if (!ready) break;
        const double end = start + (w.work == Work::forward ? 1.0 : 2.0);
        clock[static_cast<std::size_t>(r)] = end;
        done[{w.work == Work::forward ? 0 : 1, c, w.microbatch}] = end;
        ++i;
        progress = true;
      }
    }
  }
  for (int r = 0; r < p.pp; ++r)
    if (pos[static_cast<std::size_t>(r)] != orders[static_cast<std::size_t>(r)].size()) return -1;
  double makespan = 0;
  for (double c : clock) makespan = std::max(makespan, c);
  return makespan;
}

PlanSpec plan(Schedule s, int pp, int v, int microbatches, int round = 0) {
  PlanSpec p;
  p.schedule = s;
  p.pp = pp;
  p.virtual_stages = v;
  p.dp = 1;
  p.global_batch = microbatches;
  p.round_size = round > 0 ? round : pp;
  return p;
}

}  // namespace

TEST_CASE("every schedule completes with makespan 3 (M V + p - 1)", "[pipeline]") {
  for (auto [s, pp, v, m] : std::vector<std::tuple<Schedule, int, int, int>>{
           {Schedule::gpipe, 4, 1, 8}, {Schedule::one_f_one_b, 4, 1, 8}, {Schedule::one_f_one_b, 8, 1, 3},
           {Schedule::interleaved, 4, 2, 8}, {Schedule::interleaved, 8, 4, 16}, {Schedule::interleaved, 16, 8, 32},
           {Schedule::llama3, 16, 8, 16}, {Schedule::llama3, 16, 8, 32}, {Schedule::llama3, 4, 3, 12}}) {
    INFO("schedule " << to_string(s) << " pp " << pp << " V " << v << " M " << m);
    const double makespan = replay(plan(s, pp, v, m));
    CHECK(makespan == Approx(3.0 * (m * v + pp - 1)));
  }
}

TEST_CASE("Llama 3 rounds shorter than the pipeline still complete, with a larger bubble", "[pipeline]") {
  const double n8 = replay(plan(Schedule::llama3, 16, 8, 32, 8));
  REQUIRE(n8 > 0);
  CHECK(n8 > 3.0 * (32 * 8 + 15));
  CHECK(replay(plan(Schedule::llama3, 8, 2, 4)) > 0);  // fewer micro-batches than stages
}

TEST_CASE("1F1B holds min(p - r, M) micro-batches on rank r", "[pipeline]") {
  const PlanSpec p = plan(Schedule::one_f_one_b, 8, 1, 16);
  for (int r = 0; r < 8; ++r) CHECK(peak_stashed_bytes(pipeline_order(p, r), {1.0}, false) == Approx(8 - r));
  const PlanSpec g = plan(Schedule::gpipe, 8, 1, 16);
  CHECK(peak_stashed_bytes(pipeline_order(g, 3), {1.0}, false) == Approx(16));
}

TEST_CASE("the llama3 layout gives the embedding and the output a chunk of their own", "[pipeline]") {
  const Scenario s = default_scenario();
  const auto chunks = layout_chunks(s.model, s.plan);
  REQUIRE(chunks.size() == 128);
  CHECK(chunks.front().embedding);
  CHECK(chunks.front().layers == 0);
  CHECK(chunks.back().output);
  CHECK(chunks.back().layers == 0);
  CHECK(chunks.back().rank == 15);
  int layers = 0;
  for (const auto& c : chunks) layers += c.layers;
  CHECK(layers == 126);
}
