// The collective's text inputs: rank lists, sizes, sweeps and element types, with the messages
// `herd collective` prints for bad ones (pinned: a GUI shows the same text).
#include <catch2/catch.hpp>

#include "herd/app/collective_inputs.hpp"
#include "herd/model/error.hpp"

using namespace herd;

namespace {

std::string message_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const model::InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("rank lists: single ranks and ranges, in the order written", "[app][collective][inputs]") {
  CHECK(app::parse_ranks("0-7,16", 32) == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 16});
  CHECK(app::parse_ranks("0,8,16", 32) == std::vector<int>{0, 8, 16});
  CHECK(app::parse_ranks("31", 32) == std::vector<int>{31});
}

TEST_CASE("bad rank lists name --group and what is wrong", "[app][collective][inputs][errors]") {
  CHECK(message_of([] { app::parse_ranks("0-7,x", 32); }) == "--group: \"x\" is not a rank or a range a-b");
  CHECK(message_of([] { app::parse_ranks("-3", 32); }) == "--group: \"-3\" is not a rank or a range a-b");
  CHECK(message_of([] { app::parse_ranks("0-99999", 16384); }) == "--group: rank 16384 is not among the plan's 16384");
  CHECK(message_of([] { app::parse_ranks("40,0-2000000000", 32); }) == "--group: rank 40 is not among the plan's 32");
  CHECK(message_of([] { app::parse_ranks("7-3", 32); }) == "--group: names no rank");
  CHECK(message_of([] { app::parse_ranks("", 32); }) == "--group: names no rank");
  CHECK(message_of([] { app::parse_ranks("0,0,0", 32); }) == "--group: rank 0 is named twice");
  CHECK(message_of([] { app::parse_ranks("0-3,2", 32); }) == "--group: rank 2 is named twice");
  CHECK(message_of([] { app::parse_ranks("1e3", 32); }) == "--group: \"1e3\" is not a rank or a range a-b");
  CHECK(message_of([] { app::parse_ranks("0-2.5", 32); }) == "--group: \"0-2.5\" is not a rank or a range a-b");
  // Another flag's list names that flag.
  CHECK(message_of([] { app::parse_ranks("0-99", 32, "--trace-ranks"); }) == "--trace-ranks: rank 32 is not among the plan's 32");
}

TEST_CASE("sizes take units, a sweep doubles from MIN up to MAX", "[app][collective][inputs]") {
  CHECK(app::parse_size("--bytes", "1GiB") == 1024.0 * 1024 * 1024);
  CHECK(app::parse_size("--bytes", "8") == 8);
  CHECK(app::parse_sweep("1MiB:8MiB") == std::vector<double>{1 << 20, 2 << 20, 4 << 20, 8 << 20});
  CHECK(app::parse_sweep("8B:12B") == std::vector<double>{8});
  CHECK(message_of([] { app::parse_size("--bytes", "lots"); }) == "--bytes: \"lots\" is not a size (e.g. 1GiB, 8B, 256MB)");
  CHECK(message_of([] { app::parse_sweep("8B"); }) == "--sweep: expects MIN:MAX, e.g. 8B:16GiB");
  CHECK(message_of([] { app::parse_sweep("8MiB:1MiB"); }) == "--sweep: needs 0 < MIN <= MAX");
  CHECK(message_of([] { app::parse_sweep("0B:1MiB"); }) == "--sweep: needs 0 < MIN <= MAX");
  CHECK(message_of([] { app::parse_size("--bytes", "18446744073709551616"); }) ==
        "--bytes: \"18446744073709551616\" is too large (sizes stop below 2^63 bytes)");
  CHECK(app::parse_size("--bytes", "4611686018427387904") == 0x1p62);
}

TEST_CASE("element types and their sizes", "[app][collective][inputs]") {
  CHECK(app::dtype_bytes("float") == 4);
  CHECK(app::dtype_bytes("bf16") == 2);
  CHECK(app::dtype_bytes("int64") == 8);
  CHECK(app::dtype_bytes("fp8") == 1);
  CHECK(message_of([] { app::dtype_bytes("quad"); }) == "--dtype: unknown type \"quad\" (float, half, bfloat16, double, int8)");
}
