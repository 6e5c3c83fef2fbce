#include "identity/mfa/qr.h"

#include <png.h>
#include <qrencode.h>

#include <memory>
#include <vector>

namespace coffer::identity::mfa {
namespace {

void Append(png_structp png, png_bytep data, png_size_t len) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), len);
}
void Flush(png_structp) {}

}  // namespace

Result<std::string> QrPng(std::string_view text, int size) {
  std::string input(text);
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(
      QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
  if (!qr) return Err(Internal("QR encoding failed"));
  constexpr int kQuiet = 4;
  const int modules = qr->width + 2 * kQuiet;
  const int scale = std::max(1, size / modules);
  const int pixels = modules * scale;

  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) return Err(Internal("PNG encoding failed"));
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    return Err(Internal("PNG encoding failed"));
  }
  std::vector<png_byte> row(static_cast<std::size_t>(pixels));
  // libpng reports errors by longjmp; nothing with a destructor is created
  // between here and the end of the writing.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return Err(Internal("PNG encoding failed"));
  }
  png_set_write_fn(png, &out, Append, Flush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(pixels), static_cast<png_uint_32>(pixels), 8,
               PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < pixels; ++y) {
    const int my = y / scale - kQuiet;
    for (int x = 0; x < pixels; ++x) {
      const int mx = x / scale - kQuiet;
      bool dark = mx >= 0 && my >= 0 && mx < qr->width && my < qr->width &&
                  (qr->data[my * qr->width + mx] & 1) != 0;
      row[static_cast<std::size_t>(x)] = dark ? 0 : 255;
    }
    png_write_row(png, row.data());
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

}  // namespace coffer::identity::mfa
