// A move-only callable wrapper with small-buffer storage: callables that fit in Capacity bytes
// (a lambda capturing a few pointers or numbers) are stored inline with no heap allocation;
// larger ones are stored on the heap. Used for event and completion callbacks.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace herd::engine {

template <class Signature, std::size_t Capacity = 32>
class InlineFunction;

template <class R, class... Args, std::size_t Capacity>
class InlineFunction<R(Args...), Capacity> {
 public:
  InlineFunction() noexcept = default;
  InlineFunction(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor)

  // Wraps any callable invocable as R(Args...). Throws std::bad_alloc only for a callable that
  // does not fit inline.
  template <class F>
  requires(!std::same_as<std::remove_cvref_t<F>, InlineFunction> &&
           std::is_invocable_r_v<R, std::decay_t<F>&, Args...>)
      InlineFunction(F&& callable) {  // NOLINT(google-explicit-constructor)
    using Stored = std::decay_t<F>;
    if constexpr (fits_inline<Stored>) {
      ::new (static_cast<void*>(storage_)) Stored(std::forward<F>(callable));
    } else {
      auto* on_heap = new Stored(std::forward<F>(callable));
      std::memcpy(storage_, &on_heap, sizeof on_heap);
    }
    ops_ = &kOps<Stored>;
  }

  InlineFunction(InlineFunction&& other) noexcept { take(other); }
  InlineFunction& operator=(InlineFunction&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  InlineFunction(const InlineFunction&) = delete;
  InlineFunction& operator=(const InlineFunction&) = delete;
  ~InlineFunction() { reset(); }

  // Calls the wrapped callable. Calling an empty InlineFunction is undefined behaviour.
  R operator()(Args... args) { return ops_->invoke(storage_, std::forward<Args>(args)...); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  void reset() noexcept {
    if (ops_ != nullptr && ops_->destroy != nullptr) ops_->destroy(storage_);
    ops_ = nullptr;
  }

  // True when a callable of type F would be stored without a heap allocation.
  template <class F>
  static constexpr bool fits_inline =
      sizeof(F) <= Capacity &&
      alignof(F) <= alignof(void*) && std::is_nothrow_move_constructible_v<F>;

 private:
  // destroy == nullptr: nothing to do; relocate == nullptr: a byte copy moves the callable.
  struct Ops {
    R (*invoke)(void* storage, Args&&... args);
    void (*relocate)(void* to, void* from) noexcept;
    void (*destroy)(void* storage) noexcept;
  };

  template <class F>
  static F* stored(void* storage) noexcept {
    if constexpr (fits_inline<F>) {
      return std::launder(static_cast<F*>(storage));
    } else {
      F* on_heap = nullptr;
      std::memcpy(&on_heap, storage, sizeof on_heap);
      return on_heap;
    }
  }

  template <class F>
  static constexpr Ops make_ops() noexcept {
    Ops ops{};
    ops.invoke = [](void* storage, Args&&... args) -> R {
      return std::invoke(*stored<F>(storage), std::forward<Args>(args)...);
    };
    if constexpr (!fits_inline<F>) {
      ops.destroy = [](void* storage) noexcept { delete stored<F>(storage); };
    } else if constexpr (!std::is_trivially_copyable_v<F>) {
      ops.relocate = [](void* to, void* from) noexcept {
        F* source = stored<F>(from);
        ::new (to) F(std::move(*source));
        source->~F();
      };
      ops.destroy = [](void* storage) noexcept { stored<F>(storage)->~F(); };
    }
    return ops;
  }

  template <class F>
  static constexpr Ops kOps = make_ops<F>();

  void take(InlineFunction& other) noexcept {
    ops_ = std::exchange(other.ops_, nullptr);
    if (ops_ == nullptr) return;
    if (ops_->relocate != nullptr) {
      ops_->relocate(storage_, other.storage_);
    } else {
      std::memcpy(storage_, other.storage_, Capacity);
    }
  }

  alignas(void*) std::byte storage_[Capacity];
  const Ops* ops_ = nullptr;
};

}  // namespace herd::engine
