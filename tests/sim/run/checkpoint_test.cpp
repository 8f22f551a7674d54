// Checkpoint size and costs, and the closed-form optimal intervals.
#include <catch2/catch.hpp>

#include <cmath>

#include "herd/sim/run/checkpoint.hpp"

using namespace herd::sim::run;

TEST_CASE("checkpoint of Llama 3 405B on 16K GPUs", "[run][checkpoint]") {
  const auto s = herd::model::default_scenario();
  herd::model::CheckpointSpec spec;
  spec.host_copy_bandwidth = 64e9;
  // Closed form: 405,853,388,800 parameters (llama3.md) x (2 BF16 + 4 FP32 master + 8 Adam) bytes.
  const double size = 405'853'388'800.0 * 14.0;
  const auto sync = checkpoint_cost(s, spec);
  CHECK(sync.total_bytes == Approx(size));
  CHECK(sync.write_s == Approx(size / 2e12));  // Tectonic: 2 TB/s sustained
  CHECK(sync.stall_s == sync.write_s);
  CHECK(sync.load_s == sync.write_s);
  CHECK(sync.durable_lag_s == 0);
  // Per GPU: the largest stage's TP shard over the DP group of 128. With V = 8 chunks per stage
  // and the Llama 3 layout, full stages hold 8 layers; per TP rank a layer has
  // (2 h q + 2 h kv + 3 h f) / 8 matrix parameters plus its two norms (2 h, replicated).
  const double layer = (2.0 * 16384 * 16384 + 2.0 * 16384 * 1024 + 3.0 * 16384 * 53248) / 8 + 2.0 * 16384;
  CHECK(sync.per_gpu_bytes == Approx(8 * layer * 14.0 / 128));
  spec.mode = herd::model::CheckpointMode::async;
  const auto async = checkpoint_cost(s, spec);
  CHECK(async.stall_s == Approx(async.per_gpu_bytes / 64e9));
  CHECK(async.durable_lag_s == Approx(size / 2e12));

  spec.bandwidth_share = 0.25;
  CHECK(checkpoint_cost(s, spec).write_s == Approx(4 * size / 2e12));
}

TEST_CASE("Young and Daly intervals", "[run][checkpoint]") {
  // Young: sqrt(2 delta M).
  CHECK(young_interval(60, 36000) == Approx(std::sqrt(2.0 * 60 * 36000)));
  // Daly (FGCS 2006), his Figs. 3-5 with delta = 5 min: M = 24 h -> 117 min, 6 h -> 57 min,
  // 15 min -> 9.1 min.
  CHECK(daly_interval(300, 24 * 3600) / 60 == Approx(117).margin(0.5));
  CHECK(daly_interval(300, 6 * 3600) / 60 == Approx(57).margin(0.5));
  CHECK(daly_interval(300, 15 * 60) / 60 == Approx(9.1).margin(0.05));
  // delta >= 2M: checkpoint every M.
  CHECK(daly_interval(100, 40) == 40);
}
