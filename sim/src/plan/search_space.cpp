#include "herd/sim/plan/search_space.hpp"

#include <algorithm>
#include <charconv>

#include "herd/model/error.hpp"

namespace herd::sim::plan {

using model::DpSharding;
using model::LayerLayout;
using model::Recompute;
using model::Schedule;

std::string_view to_string(Invalid r) {
  switch (r) {
    case Invalid::gpu_count: return "gpu_count";
    case Invalid::tensor_parallel: return "tensor_parallel";
    case Invalid::context_parallel: return "context_parallel";
    case Invalid::layer_split: return "layer_split";
    case Invalid::schedule: return "schedule";
    case Invalid::batch_split: return "batch_split";
    case Invalid::redundant: return "redundant";
    case Invalid::other: return "other";
  }
  return "other";
}

std::string_view describe(Invalid r) {
  switch (r) {
    case Invalid::gpu_count: return "TP x CP x PP does not divide the GPUs (or the GPUs do not fill whole nodes)";
    case Invalid::tensor_parallel: return "TP spans nodes or does not divide the heads, KV heads or MLP width";
    case Invalid::context_parallel: return "the sequence cannot be cut into 2 x CP chunks of whole TP slices";
    case Invalid::layer_split: return "the layers cannot be split over PP x V with this layer layout";
    case Invalid::schedule: return "V > 1 needs the interleaved or llama3 schedule; interleaved with V 1 is 1F1B";
    case Invalid::batch_split: return "the global batch is not a whole number of micro-batches (or rounds) per pipeline";
    case Invalid::redundant: return "the same layout as another combination (TP overlap at TP 1, N off llama3, DP mode at DP 1, llama3 at PP 1)";
    case Invalid::other: return "rejected by the plan's own checks";
  }
  return "";
}

std::int64_t Enumeration::invalid_total() const {
  std::int64_t n = 0;
  for (auto v : invalid) n += v;
  return n;
}

namespace {

template <class T>
void fill(std::vector<T>& list, std::initializer_list<T> values) {
  if (list.empty()) list.assign(values);
}

bool divides(long long a, long long b) { return a > 0 && b % a == 0; }

}  // namespace

SearchSpace complete_space(const model::Scenario& s, SearchSpace space) {
  fill(space.num_gpus, {s.cluster.num_gpus});
  fill(space.global_batch, {s.plan.global_batch});
  if (space.tp.empty())
    for (int t = 1; t <= s.cluster.gpus_per_node; ++t)
      if (s.cluster.gpus_per_node % t == 0) space.tp.push_back(t);
  // CP up to 16 (Llama 3's 128K run), and only while each rank keeps at least 2,048 tokens of the
  // sequence: below that its attention and GEMMs shrink and the K/V exchange dominates.
  if (space.cp.empty())
    for (int c = 1; c <= 16; c *= 2)
      if (c == 1 || s.model.seq_len / c >= 2048) space.cp.push_back(c);
  if (space.pp.empty()) {
    const int most = static_cast<int>(s.model.layers) + 2;
    for (int p = 1; p <= most; ++p) {
      bool divides_any = false;
      for (int n : space.num_gpus) divides_any = divides_any || n % p == 0;
      if (divides_any) space.pp.push_back(p);
    }
  }
  if (space.virtual_stages.empty())
    for (int v = 1; v <= 16; ++v) space.virtual_stages.push_back(v);
  fill(space.layer_layouts, {LayerLayout::uniform, LayerLayout::llama3});
  fill(space.schedules, {Schedule::one_f_one_b, Schedule::interleaved, Schedule::llama3, Schedule::zero_bubble});
  fill(space.round_size, {0});
  fill(space.micro_batch, {1, 2, 4});
  fill(space.dp_sharding, {DpSharding::none, DpSharding::zero1, DpSharding::fsdp, DpSharding::zero3});
  fill(space.recompute, {Recompute::none, Recompute::selective, Recompute::full});
  fill(space.tp_comm_overlap, {0, 1});
  if (space.rank_orders.empty()) space.rank_orders.push_back(s.plan.rank_order);
  return space;
}

void derive_plan(model::PlanSpec& p, int num_gpus) {
  const long long tcp = static_cast<long long>(p.tp) * p.cp * p.pp;
  p.dp = tcp > 0 ? static_cast<int>(num_gpus / tcp) : 0;
  p.sequence_parallel = p.tp > 1;
  p.grad_sync = p.shards_gradients() ? model::GradSync::per_microbatch : model::GradSync::per_step;
  // Reducing after the whole backward needs per-step accumulation; FSDP always overlaps.
  if (p.grad_sync != model::GradSync::per_step) p.overlap_grad_reduce = true;
  if (!p.overlap_grad_reduce) p.overlap_param_gather = false;
  if (p.round_size <= 0 || p.schedule != Schedule::llama3) p.round_size = p.pp;
  if (!p.sequence_parallel) p.tp_comm_overlap = false;
}

namespace {

// The walk over the product. Each level checks what it can and, when it rejects a value, counts
// every combination below it under that reason.
struct Walker {
  const model::Scenario& s;
  const SearchSpace& sp;
  int shard, shards;
  Enumeration out;
  std::int64_t index = 0;  // candidates seen, valid ones only
  std::vector<std::int64_t> below;  // combinations under one value of level i

  void reject(Invalid r, int level) { out.invalid[static_cast<std::size_t>(r)] += below[static_cast<std::size_t>(level)]; }

  void emit(const model::PlanSpec& p, int gpus) {
    const std::int64_t i = index++;
    if (i % shards != shard) return;
    out.candidates.push_back({i, p, gpus});
  }

  void run() {
    const std::int64_t sizes[] = {
        std::int64_t(sp.num_gpus.size()),   std::int64_t(sp.global_batch.size()), std::int64_t(sp.tp.size()),
        std::int64_t(sp.cp.size()),         std::int64_t(sp.pp.size()),           std::int64_t(sp.layer_layouts.size()),
        std::int64_t(sp.virtual_stages.size()), std::int64_t(sp.schedules.size()), std::int64_t(sp.round_size.size()),
        std::int64_t(sp.micro_batch.size()), std::int64_t(sp.dp_sharding.size()), std::int64_t(sp.recompute.size()),
        std::int64_t(sp.tp_comm_overlap.size()), std::int64_t(sp.rank_orders.size())};
    constexpr int levels = static_cast<int>(std::size(sizes));
    below.assign(levels, 1);
    for (int i = levels - 2; i >= 0; --i) below[static_cast<std::size_t>(i)] = below[static_cast<std::size_t>(i) + 1] * sizes[i + 1];
    out.combinations = below[0] * sizes[0];

    const auto& m = s.model;
    const auto& c = s.cluster;
    model::PlanSpec p = s.plan;
    for (int gpus : sp.num_gpus) {
      if (gpus <= 0 || (gpus > c.gpus_per_node && gpus % c.gpus_per_node != 0)) { reject(Invalid::gpu_count, 0); continue; }
      for (auto gb : sp.global_batch) {
        p.global_batch = gb;
        for (int tp : sp.tp) {
          p.tp = tp;
          if (tp <= 0 || tp > c.gpus_per_node || m.heads % tp != 0 || (m.kv_heads % tp != 0 && tp % m.kv_heads != 0) ||
              m.ffn_hidden % tp != 0) {
            reject(Invalid::tensor_parallel, 2);
            continue;
          }
          if (gpus % tp != 0) { reject(Invalid::gpu_count, 2); continue; }
          for (int cp : sp.cp) {
            p.cp = cp;
            if (!divides(cp, gpus / tp)) { reject(Invalid::gpu_count, 3); continue; }
            if (cp > 1 && m.seq_len % (2LL * cp) != 0) { reject(Invalid::context_parallel, 3); continue; }
            if (tp > 1 && (m.seq_len / cp) % tp != 0) { reject(Invalid::context_parallel, 3); continue; }
            for (int pp : sp.pp) {
              p.pp = pp;
              if (!divides(pp, gpus / tp / cp)) { reject(Invalid::gpu_count, 4); continue; }
              walk_layouts(p, gpus);
            }
          }
        }
      }
    }
  }

  void walk_layouts(model::PlanSpec& p, int gpus) {
    const auto& m = s.model;
    for (auto layout : sp.layer_layouts) {
      p.layer_layout = layout;
      if (layout == LayerLayout::llama3 && p.pp < 2) { reject(Invalid::layer_split, 5); continue; }
      for (int v : sp.virtual_stages) {
        p.virtual_stages = v;
        const long long chunks = static_cast<long long>(p.pp) * v;
        const long long splits = layout == LayerLayout::llama3 ? m.layers + 2 : m.layers;
        if (v <= 0 || splits % chunks != 0) { reject(Invalid::layer_split, 6); continue; }
        for (auto schedule : sp.schedules) {
          p.schedule = schedule;
          const bool interleaving = schedule == Schedule::interleaved || schedule == Schedule::llama3;
          if ((v > 1 && !interleaving) || (schedule == Schedule::interleaved && v == 1) || (p.pp == 1 && v > 1)) {
            reject(Invalid::schedule, 7);
            continue;
          }
          // Without a pipeline Llama 3's order is 1F1B's (zero-bubble's still defers weight gradients).
          if (p.pp == 1 && schedule == Schedule::llama3) { reject(Invalid::redundant, 7); continue; }
          for (std::size_t ni = 0; ni < sp.round_size.size(); ++ni) {
            const int n = sp.round_size[ni];
            // N only means something to the llama3 schedule; elsewhere one value stands for all.
            if (schedule != Schedule::llama3 && ni > 0) { reject(Invalid::redundant, 8); continue; }
            p.round_size = n;
            walk_batches(p, gpus);
          }
        }
      }
    }
  }

  void walk_batches(model::PlanSpec& p, int gpus) {
    for (int mb : sp.micro_batch) {
      p.micro_batch = mb;
      const long long dp = gpus / (static_cast<long long>(p.tp) * p.cp * p.pp);
      const long long per_step = dp * mb;
      if (mb <= 0 || p.global_batch % per_step != 0) { reject(Invalid::batch_split, 9); continue; }
      const long long mbs = p.global_batch / per_step;
      const int n = p.schedule == Schedule::llama3 && p.round_size > 0 ? p.round_size : p.pp;
      if (p.schedule == Schedule::interleaved && p.pp > 1 && mbs % p.pp != 0) { reject(Invalid::batch_split, 9); continue; }
      if (p.schedule == Schedule::llama3 &&
          ((n < p.pp && mbs >= p.pp && p.virtual_stages > 1) || (mbs % n != 0 && mbs > n))) {
        reject(Invalid::batch_split, 9);
        continue;
      }
      for (std::size_t di = 0; di < sp.dp_sharding.size(); ++di) {
        // Without data parallelism (DP x CP = 1) every DP mode is the same layout.
        if (di > 0 && dp * p.cp == 1) { reject(Invalid::redundant, 10); continue; }
        p.dp_sharding = sp.dp_sharding[di];
        for (auto rc : sp.recompute) {
          p.recompute = rc;
          for (int overlap : sp.tp_comm_overlap) {
            if (overlap && p.tp == 1) { reject(Invalid::redundant, 12); continue; }
            p.tp_comm_overlap = overlap != 0;
            for (const auto& order : sp.rank_orders) {
              p.rank_order = order;
              model::PlanSpec q = p;
              derive_plan(q, gpus);
              model::ClusterSpec cluster_shape;
              cluster_shape.num_gpus = gpus;
              try {
                model::validate_plan(q, s.model, cluster_shape);
              } catch (const model::ValueError&) {
                out.invalid[static_cast<std::size_t>(Invalid::other)] += 1;
                continue;
              }
              emit(q, gpus);
            }
          }
        }
      }
    }
  }
};

}  // namespace

Enumeration enumerate_layouts(const model::Scenario& s, const SearchSpace& space, int shard, int shards) {
  if (shards < 1 || shard < 0 || shard >= shards)
    throw model::ValueError("/search/shard", "shard " + std::to_string(shard) + " of " + std::to_string(shards) +
                                                 " does not exist (shards are 0 .. N-1)");
  Walker w{s, space, shard, shards, {}, 0, {}};
  w.run();
  return std::move(w.out);
}

// ----------------------------------------------------------------------------- layout names

std::string rank_order_text(const std::array<model::Axis, 4>& order) {
  std::string t;
  for (auto a : order) {
    if (!t.empty()) t += '-';
    t += model::to_string(a);
  }
  return t;
}

namespace {

template <class E, std::size_t N>
E pick(std::string_view key, std::string_view value, const std::array<E, N>& options) {
  for (E e : options)
    if (model::to_string(e) == value) return e;
  std::string names;
  for (E e : options) names += (names.empty() ? "" : ", ") + std::string(model::to_string(e));
  throw model::ValueError("/layout/" + std::string(key), "\"" + std::string(value) + "\" is not one of " + names);
}

int parse_int(std::string_view key, std::string_view value) {
  int v = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc{} || end != value.data() + value.size() || v < 0)
    throw model::ValueError("/layout/" + std::string(key), "\"" + std::string(value) + "\" is not a non-negative integer");
  return v;
}

}  // namespace

std::string layout_id(const model::PlanSpec& p, int num_gpus) {
  std::string t = "tp=" + std::to_string(p.tp) + ",cp=" + std::to_string(p.cp) + ",pp=" + std::to_string(p.pp) +
                  ",v=" + std::to_string(p.virtual_stages) + ",layout=" + std::string(model::to_string(p.layer_layout)) +
                  ",schedule=" + std::string(model::to_string(p.schedule));
  if (p.schedule == Schedule::llama3) t += ",n=" + std::to_string(p.round_size);
  t += ",mb=" + std::to_string(p.micro_batch) + ",dp=" + std::to_string(p.dp) +
       ",dp_mode=" + std::string(model::to_string(p.dp_sharding)) + ",recompute=" + std::string(model::to_string(p.recompute)) +
       ",overlap=" + std::to_string(p.tp_comm_overlap ? 1 : 0) + ",order=" + rank_order_text(p.rank_order) +
       ",gpus=" + std::to_string(num_gpus) + ",batch=" + std::to_string(p.global_batch);
  return t;
}

std::string layout_label(const model::PlanSpec& p) {
  std::string t = "TP" + std::to_string(p.tp) + (p.tp_comm_overlap ? "o" : "") + " CP" + std::to_string(p.cp) + " PP" +
                  std::to_string(p.pp);
  if (p.virtual_stages > 1) t += " V" + std::to_string(p.virtual_stages);
  t += " DP" + std::to_string(p.dp) + " mb" + std::to_string(p.micro_batch) + " " +
       std::string(model::to_string(p.schedule)) + "/" + std::string(model::to_string(p.dp_sharding));
  if (p.recompute != Recompute::none) t += "/rc-" + std::string(model::to_string(p.recompute));
  if (p.layer_layout == LayerLayout::llama3 && p.schedule != Schedule::llama3) t += "/llama3-layers";
  return t;
}

void parse_layout(std::string_view text, model::PlanSpec& p, int& num_gpus) {
  bool dp_given = false;
  int dp = 0;
  int n = -1;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos)
      throw model::ValueError("/layout", "\"" + std::string(item) + "\" is not key=value (e.g. tp=8,pp=16)");
    const std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "tp") p.tp = parse_int(key, value);
    else if (key == "cp") p.cp = parse_int(key, value);
    else if (key == "pp") p.pp = parse_int(key, value);
    else if (key == "v") p.virtual_stages = parse_int(key, value);
    else if (key == "mb") p.micro_batch = parse_int(key, value);
    else if (key == "n") n = parse_int(key, value);
    else if (key == "gpus") num_gpus = parse_int(key, value);
    else if (key == "batch") p.global_batch = parse_int(key, value);
    else if (key == "overlap") p.tp_comm_overlap = parse_int(key, value) != 0;
    else if (key == "dp") { dp = parse_int(key, value); dp_given = true; }
    else if (key == "layout") p.layer_layout = pick(key, value, std::array{LayerLayout::uniform, LayerLayout::llama3});
    else if (key == "schedule")
      p.schedule = pick(key, value, std::array{Schedule::gpipe, Schedule::one_f_one_b, Schedule::interleaved,
                                               Schedule::llama3, Schedule::zero_bubble});
    else if (key == "dp_mode")
      p.dp_sharding = pick(key, value, std::array{DpSharding::none, DpSharding::zero1, DpSharding::fsdp, DpSharding::zero3});
    else if (key == "recompute")
      p.recompute = pick(key, value, std::array{Recompute::none, Recompute::selective, Recompute::full, Recompute::op});
    else if (key == "order") {
      std::array<model::Axis, 4> order{};
      std::size_t i = 0;
      std::string_view rest = value;
      while (!rest.empty() && i < 4) {
        const auto dash = rest.find('-');
        order[i++] = pick(key, rest.substr(0, dash), std::array{model::Axis::tp, model::Axis::cp, model::Axis::pp, model::Axis::dp});
        rest = dash == std::string_view::npos ? std::string_view{} : rest.substr(dash + 1);
      }
      if (i != 4 || !rest.empty()) throw model::ValueError("/layout/order", "must name tp, cp, pp and dp once each, e.g. tp-cp-pp-dp");
      p.rank_order = order;
    } else {
      throw model::ValueError("/layout/" + std::string(key),
                              "unknown key; use tp, cp, pp, v, layout, schedule, n, mb, dp, dp_mode, recompute, overlap, "
                              "order, gpus, batch");
    }
  }
  if (n >= 0) p.round_size = n;
  else if (p.schedule != Schedule::llama3) p.round_size = 0;
  // dp given without gpus: the GPU count follows from it.
  if (dp_given && dp > 0) num_gpus = dp * p.tp * p.cp * p.pp;
  derive_plan(p, num_gpus);
}

nlohmann::json layout_overrides(const model::PlanSpec& p, int num_gpus) {
  nlohmann::json order = nlohmann::json::array();
  for (auto a : p.rank_order) order.push_back(std::string(model::to_string(a)));
  return {{"cluster.num_gpus", num_gpus},
          {"plan.tp", p.tp},
          {"plan.cp", p.cp},
          {"plan.pp", p.pp},
          {"plan.dp", p.dp},
          {"plan.virtual_stages", p.virtual_stages},
          {"plan.layer_layout", std::string(model::to_string(p.layer_layout))},
          {"plan.schedule", std::string(model::to_string(p.schedule))},
          {"plan.round_size", p.round_size},
          {"plan.micro_batch", p.micro_batch},
          {"plan.global_batch", p.global_batch},
          {"plan.dp_sharding", std::string(model::to_string(p.dp_sharding))},
          {"plan.grad_sync", std::string(model::to_string(p.grad_sync))},
          {"plan.recompute", std::string(model::to_string(p.recompute))},
          {"plan.sequence_parallel", p.sequence_parallel},
          {"plan.tp_comm_overlap", p.tp_comm_overlap},
          {"plan.overlap_grad_reduce", p.overlap_grad_reduce},
          {"plan.overlap_param_gather", p.overlap_param_gather},
          {"plan.rank_order", order}};
}

}  // namespace herd::sim::plan
