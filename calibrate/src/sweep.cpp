#include "herd/calibrate/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "herd/model/calibration_profile.hpp"
#include "herd/model/error.hpp"

namespace herd::calibrate {

std::string_view gemm_layout(std::string_view op) {
  auto ends_with = [&](std::string_view suffix) {
    return op.size() >= suffix.size() && op.substr(op.size() - suffix.size()) == suffix;
  };
  if (ends_with("_dgrad")) return "nt";
  if (ends_with("_wgrad")) return "tn";
  return "nn";
}

std::string_view gemm_layout(const model::Op& op) { return op.weight_gradient ? "tn" : gemm_layout(op.name); }

std::vector<LayerDims> sweep_layers(const model::TransformerSpec& m, const model::PlanSpec& p, const std::vector<int>& tps,
                                    std::int64_t seq_len, const std::vector<double>& seq_fractions) {
  std::vector<LayerDims> out;
  for (int tp : tps) {
    if (tp < 1 || m.heads % tp != 0 || m.ffn_hidden % tp != 0) continue;
    model::PlanSpec shard = p;
    shard.tp = tp;
    for (double f : seq_fractions) {
      const auto seq = std::max<std::int64_t>(16, std::llround(double(seq_len) * f / 16.0) * 16);
      const LayerDims d = shard_dims(m, shard, seq);
      const bool seen = std::any_of(out.begin(), out.end(), [&](const LayerDims& o) { return o.label() == d.label(); });
      if (!seen) out.push_back(d);
    }
  }
  if (out.empty()) throw model::ValueError("/plan/tp", "no TP degree in the sweep divides " + m.name + "'s heads and MLP width");
  return out;
}

namespace {

// The tensor an element-wise kernel walks, from the layer it belongs to.
std::pair<std::int64_t, std::int64_t> elementwise_extent(std::string_view cls, const LayerDims& d) {
  if (cls == "rope" || cls == "rope_bwd") return {d.tokens(), d.q_width() + d.kv_width()};
  if (cls == "swiglu" || cls == "swiglu_bwd") return {d.tokens(), d.ffn};
  return {d.tokens(), d.hidden};  // rmsnorm, residual_add and their backward
}

Record from_op(const model::Op& op, const LayerDims& d) {
  Record r;
  r.op = std::string(op.name);
  r.pass = op.pass == model::Pass::backward ? "backward" : "forward";
  r.flops = op.flops;
  r.bytes = op.bytes;
  r.layer = d;
  return r;
}

}  // namespace

std::vector<Record> plan_records(const SweepPlan& plan) {
  std::vector<Record> out;
  std::set<std::tuple<int, std::string, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t>> seen;
  auto add_once = [&](Record r, std::string key_text, std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t e,
                      std::int64_t f) {
    if (seen.insert({static_cast<int>(r.kind), std::move(key_text), a, b, c, e, f}).second) out.push_back(std::move(r));
  };
  for (const LayerDims& d : plan.layers) {
    const auto program = model::layer_program(single_rank_model(d), single_rank_plan(d), d.seq);
    Record layer;
    layer.kind = RecordKind::layer;
    layer.op = "layer";
    layer.pass = "forward_backward";
    layer.layer = d;
    for (const auto* ops : {&program.forward, &program.backward})
      for (const model::Op& op : *ops) {
        layer.flops += op.flops;
        layer.bytes += op.bytes;
        Record r = from_op(op, d);
        r.dtype = plan.dtype;
        switch (op.kind) {
          case model::OpKind::gemm:
            r.kind = RecordKind::gemm;
            r.gemm = op.gemm;
            add_once(std::move(r), std::string(gemm_layout(op)), op.gemm.m, op.gemm.n, op.gemm.k, op.gemm.batch, 0);
            break;
          case model::OpKind::attention: {
            r.kind = RecordKind::attention;
            r.attention = op.attention;
            const auto& a = op.attention;
            const std::string pass = r.pass;
            add_once(std::move(r), pass, a.batch, a.heads_q, a.heads_kv, a.seq_kv, a.head_dim);
            break;
          }
          case model::OpKind::elementwise: {
            r.kind = RecordKind::elementwise;
            r.op = std::string(model::elementwise_class(op.name));
            std::tie(r.rows, r.cols) = elementwise_extent(r.op, d);
            const std::string cls = r.op;
            const std::int64_t rows = r.rows, cols = r.cols;
            // RoPE's positions and head layout come from the layer, so they are part of its key.
            const bool rope = cls == "rope" || cls == "rope_bwd";
            add_once(std::move(r), cls, rows, cols, rope ? d.head_dim : 0, rope ? d.seq : 0, 0);
            break;
          }
          default: break;  // a single-rank layer has no collectives
        }
      }
    if (plan.whole_layers) {
      layer.dtype = plan.dtype;
      out.push_back(layer);
    }
  }
  const double width = plan.dtype == "fp32" ? 4 : 2;
  for (double bytes : plan.copy_bytes) {
    Record r;
    r.kind = RecordKind::elementwise;
    r.op = "copy";
    r.pass = "forward";
    r.dtype = plan.dtype;
    r.rows = 1;
    r.cols = std::max<std::int64_t>(1, std::llround(bytes / (2 * width)));
    r.bytes = 2 * width * double(r.cols);  // read + written, as a device-to-device copy is quoted
    out.push_back(r);
  }
  return out;
}

}  // namespace herd::calibrate
