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
  CHECK(message_of([] { app::parse_size("--bytes", "lots"); }) ==
        "--bytes: \"lots\" is not a size (e.g. 1GiB, 128M, 8B, 256MB)");
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

TEST_CASE("sizes take nccl-tests' bare suffixes, powers of 1024", "[app][collective][inputs]") {
  CHECK(app::parse_size("--bytes", "8K") == 8 * 1024.0);
  CHECK(app::parse_size("--bytes", "128M") == 128 * 1024.0 * 1024);
  CHECK(app::parse_size("--bytes", "1G") == 1024.0 * 1024 * 1024);
  CHECK(app::parse_size("--bytes", "1g") == 1024.0 * 1024 * 1024);
  CHECK(app::parse_size("--bytes", "2T") == 2 * 0x1p40);
  CHECK(app::parse_size("--bytes", "1GB") == 1e9);  // a unit keeps its own meaning
  CHECK(message_of([] { app::parse_size("--bytes", "G"); }) ==
        "--bytes: \"G\" is not a size (e.g. 1GiB, 128M, 8B, 256MB)");
  CHECK(message_of([] { app::parse_size("--bytes", "1X"); }) ==
        "--bytes: \"1X\" is not a size (e.g. 1GiB, 128M, 8B, 256MB)");
  CHECK(message_of([] { app::parse_size("--bytes", "9000000T"); }) ==
        "--bytes: \"9000000T\" is too large (sizes stop below 2^63 bytes)");
}

TEST_CASE("nccl-tests' -b -e -f -i give its sizes, and conflicting or bad ones name the flag",
          "[app][collective][inputs]") {
  using Flags = app::SizeFlags;
  CHECK(app::parse_size_flags(Flags{"8", "128", "", ""}) == std::vector<double>{8, 16, 32, 64, 128});
  CHECK(app::parse_size_flags(Flags{"1K", "1M", "4", ""}) ==
        std::vector<double>{1024, 4096, 16384, 65536, 262144, 1048576});
  CHECK(app::parse_size_flags(Flags{"1M", "4M", "", "1M"}) == std::vector<double>{1 << 20, 2 << 20, 3 << 20, 4 << 20});
  CHECK(app::parse_size_flags(Flags{"32M", "", "", ""}) == std::vector<double>{32 << 20});
  CHECK(app::parse_size_flags(Flags{"", "32M", "", ""}) == std::vector<double>{32 << 20});
  CHECK(app::parse_size_flags(Flags{"10", "20", "1.5", ""}) == std::vector<double>{10, 15});
  CHECK(app::parse_size_flags(Flags{"1", "3", "1.01", ""}) == std::vector<double>{1, 2, 3});  // always moves on
  CHECK(message_of([] {
          app::parse_size_flags(Flags{"8", "128", "2", "8"});
        }) == "--stepfactor: takes no --stepbytes (-i) with it: sizes grow by one or the other");
  CHECK(message_of([] {
          app::parse_size_flags(Flags{"", "", "2", ""});
        }) == "--stepfactor: needs --minbytes (-b) and --maxbytes (-e)");
  CHECK(message_of([] { app::parse_size_flags(Flags{"1M", "1K", "", ""}); }) == "--maxbytes: is below --minbytes");
  CHECK(message_of([] { app::parse_size_flags(Flags{"0", "1K", "", ""}); }) == "--minbytes: needs at least 1 byte");
  CHECK(message_of([] {
          app::parse_size_flags(Flags{"1", "1K", "1", ""});
        }) == "--stepfactor: \"1\" is not a factor above 1 (e.g. 2)");
  CHECK(message_of([] {
          app::parse_size_flags(Flags{"1", "1K", "two", ""});
        }) == "--stepfactor: \"two\" is not a factor above 1 (e.g. 2)");
  CHECK(message_of([] {
          app::parse_size_flags(Flags{"1", "1G", "", "1"});
        }) == "--stepbytes: gives more than 10000 sizes from --minbytes to --maxbytes");
  CHECK(message_of([] {
          app::parse_size_flags(Flags{"x", "1G", "", ""});
        }) == "--minbytes: \"x\" is not a size (e.g. 1GiB, 128M, 8B, 256MB)");
}
