#pragma once
// QR code of a text as a PNG image (libqrencode for the symbol, libpng for
// the file), for TOTP enrolment barcodes. Thread-safe (libqrencode is built
// with pthread support in Debian).

#include <string>
#include <string_view>

#include "common/status.h"

namespace coffer::identity::mfa {

// A square PNG about `size` pixels wide (each module a whole number of
// pixels, with a 4-module quiet zone). kInternal when encoding fails.
Result<std::string> QrPng(std::string_view text, int size);

}  // namespace coffer::identity::mfa
