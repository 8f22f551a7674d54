#pragma once
// Per-section parts of the scenario table; params.cpp stitches them together in this order.
#include <span>

#include "herd/model/params.hpp"

namespace herd::model::schema {

std::span<const ParamDecl> top_level();
std::span<const ParamDecl> cluster();
std::span<const ParamDecl> model();
std::span<const ParamDecl> plan();
std::span<const ParamDecl> run();
std::span<const ParamDecl> reliability();
std::span<const ParamDecl> whatif();
std::span<const ParamDecl> search();

}  // namespace herd::model::schema
