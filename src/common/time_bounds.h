#pragma once

#include <cstdint>
#include <limits>

namespace coffer {

// The clock counts nanoseconds in 64 bits: the whole seconds from the epoch
// it holds, either way (years 1678..2262). Past that, converting seconds to
// a time point overflows and wraps. Kept out of clock.h, which most of the
// tree includes.
inline constexpr std::int64_t kMaxClockSeconds =
    std::numeric_limits<std::int64_t>::max() / 1'000'000'000 - 1;

}  // namespace coffer
