// See ../../README.md: only the names ProcessGroupGloo.hpp's declarations use.
#pragma once

namespace gloo::transport {
class Device;
class UnboundBuffer;
}  // namespace gloo::transport
