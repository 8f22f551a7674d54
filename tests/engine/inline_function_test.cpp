#include "herd/engine/inline_function.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <memory>
#include <utility>

using herd::engine::InlineFunction;

namespace {

// Counts live copies, to see that moves and destruction neither leak nor double-destroy.
struct Tracked {
  int* alive;
  explicit Tracked(int* counter) : alive(counter) { ++*alive; }
  Tracked(Tracked&& other) noexcept : alive(other.alive) { ++*alive; }
  Tracked(const Tracked&) = delete;
  ~Tracked() { --*alive; }
};

}  // namespace

TEST_CASE("a small lambda is stored inline and called with its arguments", "[inline_function]") {
  int calls = 0;
  auto add = [&calls](int a, int b) {
    ++calls;
    return a + b;
  };
  STATIC_REQUIRE(InlineFunction<int(int, int)>::fits_inline<decltype(add)>);
  InlineFunction<int(int, int)> function = add;
  CHECK(function(2, 3) == 5);
  CHECK(calls == 1);
}

TEST_CASE("a large capture goes to the heap and still works", "[inline_function]") {
  std::array<double, 16> values{};
  values[15] = 7;
  auto last = [values] { return values[15]; };
  STATIC_REQUIRE_FALSE(InlineFunction<double()>::fits_inline<decltype(last)>);
  InlineFunction<double()> function = last;
  InlineFunction<double()> moved = std::move(function);
  CHECK_FALSE(function);
  CHECK(moved() == 7);
}

TEST_CASE("moving and destroying keep exactly one live callable", "[inline_function]") {
  int alive = 0;
  {
    InlineFunction<int()> function = [tracked = Tracked(&alive)] { return *tracked.alive; };
    CHECK(alive == 1);
    InlineFunction<int()> moved = std::move(function);
    CHECK(alive == 1);
    CHECK(moved() == 1);
    function = std::move(moved);
    CHECK(alive == 1);
    function = nullptr;
    CHECK(alive == 0);
    function = [tracked = Tracked(&alive)] { return 2; };
    CHECK(alive == 1);
  }
  CHECK(alive == 0);
}

TEST_CASE("a move-only capture is accepted", "[inline_function]") {
  auto owned = std::make_unique<int>(42);
  InlineFunction<int()> function = [owned = std::move(owned)] { return *owned; };
  InlineFunction<int()> moved = std::move(function);
  CHECK(moved() == 42);
}
