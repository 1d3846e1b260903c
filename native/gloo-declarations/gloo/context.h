// See ../README.md: only the names ProcessGroupGloo.hpp's declarations use; never defined here.
#pragma once

#include <chrono>

namespace gloo {
class Context {
 public:
  void setTimeout(std::chrono::milliseconds timeout);
};
}  // namespace gloo
