// Impossible plans are rejected with the reason and the key at fault (messages pinned).
#include <catch2/catch.hpp>

#include "herd/model/error.hpp"
#include "herd/model/scenario.hpp"

using namespace herd::model;

namespace {
std::string reject(std::initializer_list<const char*> texts) {
  std::vector<Override> o;
  for (const char* t : texts) o.push_back(parse_override(t));
  try {
    default_scenario(o);
  } catch (const InputError& e) {
    return e.pointer() + ": " + e.message();
  }
  return "accepted";
}
}  // namespace

TEST_CASE("heads, MLP and GPU count must agree with TP and DP", "[plan]") {
  CHECK(reject({"plan.tp=6", "plan.dp=170", "cluster.num_gpus=16320"}) == "/plan/tp: 6 does not divide 128 attention heads");
  CHECK(reject({"plan.tp=16", "plan.dp=64"}) == "accepted");  // 8 KV heads replicated over 16 ranks
  CHECK(reject({"plan.dp=64"}) == "/plan/dp: tp 8 x cp 1 x pp 16 x dp 64 = 8192 GPUs, but the cluster has 16384 (dp 128 would fill it)");
}

TEST_CASE("layers must split over pipeline chunks", "[plan]") {
  CHECK(reject({"plan.virtual_stages=3", "plan.global_batch=3072"}) ==
        "/plan/virtual_stages: 126 layers + embedding + output cannot be split evenly over pp 16 x 3 virtual stages");
  CHECK(reject({"plan.layer_layout=uniform"}) ==
        "/plan/virtual_stages: 126 layers cannot be split evenly over pp 16 x 8 virtual stages");
  CHECK(reject({"plan.schedule=1f1b"}) == "/plan/schedule: virtual_stages 8 needs the interleaved or llama3 schedule, not 1f1b");
}

TEST_CASE("a llama3 round is at least the pipeline depth", "[plan]") {
  CHECK(reject({"plan.round_size=4"}) ==
        "/plan/round_size: a round of 4 micro-batches is shorter than pp 16 with 16 micro-batches per pipeline; use "
        "round_size >= pp");
  CHECK(reject({"plan.round_size=32", "plan.global_batch=4096"}) == "accepted");
  CHECK(reject({"plan.round_size=4", "plan.global_batch=512"}) == "accepted");  // 4 micro-batches: fewer than pp
}

TEST_CASE("batch must split over DP and micro-batches", "[plan]") {
  CHECK(reject({"plan.global_batch=2000"}) == "/plan/global_batch: 2000 sequences is not a multiple of dp 128 x micro_batch 1");
  CHECK(reject({"plan.micro_batch=3"}) == "/plan/global_batch: 2048 sequences is not a multiple of dp 128 x micro_batch 3");
  CHECK(reject({"plan.schedule=interleaved", "plan.global_batch=2176"}) ==
        "/plan/global_batch: the interleaved schedule needs micro-batches per pipeline (17) to be a multiple of pp 16");
}

TEST_CASE("context parallelism needs load-balanced chunks, fp8 is declared only", "[plan]") {
  CHECK(reject({"plan.cp=16", "plan.dp=8", "plan.global_batch=128", "model.seq_len=8200"}) ==
        "/plan/cp: sequence 8200 cannot be cut into 2 x cp = 32 load-balanced chunks");
  CHECK(reject({"plan.precision=fp8"}) == "/plan/precision: fp8 is declared but not modelled yet; use bf16");
  CHECK(reject({"plan.rank_order=[\"tp\",\"tp\",\"pp\",\"dp\"]"}) == "/plan/rank_order/1: \"tp\" appears twice");
}

TEST_CASE("data-parallel overlap: the parameter all-gather needs the reduction overlapped", "[plan]") {
  CHECK(reject({"plan.dp_sharding=zero1", "plan.grad_sync=per_step", "plan.overlap_grad_reduce=false",
                "plan.overlap_param_gather=true"}) ==
        "/plan/overlap_param_gather: overlapping the parameter all-gather needs overlap_grad_reduce, as in Megatron-LM");
  // Left out, overlap_param_gather follows overlap_grad_reduce.
  CHECK(reject({"plan.dp_sharding=zero1", "plan.grad_sync=per_step", "plan.overlap_grad_reduce=false"}) == "accepted");
  CHECK(reject({"plan.dp_sharding=fsdp", "plan.grad_sync=per_microbatch", "plan.overlap_grad_reduce=false"}) ==
        "/plan/overlap_grad_reduce: false reduces gradients once, after the step's last backward; it needs grad_sync "
        "per_step, not per_microbatch");
}

TEST_CASE("TP overlap under eager PyTorch is refused: async TP needs torch.compile", "[plan][stack]") {
  CHECK(reject({"plan.stack=pytorch_eager", "plan.tp_comm_overlap=true"}) ==
        "/plan/tp_comm_overlap: eager PyTorch has no TP overlap: async TP is torch.compile's micro-pipelined TP "
        "(plan.stack torch_compile), and torchtitan refuses it without compile");
  CHECK(reject({"plan.stack=torch_compile", "plan.tp_comm_overlap=true"}) == "accepted");
  CHECK(reject({"plan.stack=pytorch_eager", "plan.tp_comm_overlap=false"}) == "accepted");
}
