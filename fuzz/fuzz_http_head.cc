// Fuzz target: request head parsing as http/connection.cc does it: Beast's
// parser stopped after the header, then CheckRawHeader and CheckFraming
// (http/framing.h), then the body and BuildRequest (http/request_builder.h)
// with the server's default limits.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "http/framing.h"
#include "http/request_builder.h"
#include "http/server.h"

namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace coffer::http;
  std::string_view input = coffer::fuzz::View(data, size);
  coffer::Status raw_status = CheckRawHeader(input);  // also on arbitrary bytes
  (void)raw_status;

  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(false);
  boost::beast::error_code ec;
  std::size_t used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
  if (!parser.is_header_done()) return 0;
  FUZZ_CHECK(used <= input.size());
  if (!CheckRawHeader(input.substr(0, used)).ok()) return 0;
  const auto& h = parser.get();
  FramingFields f;
  f.version = h.version();
  for (const auto& field : h) {
    if (field.name() == bhttp::field::content_length) {
      f.content_length.push_back(field.value());
    } else if (field.name() == bhttp::field::transfer_encoding) {
      f.transfer_encoding.push_back(field.value());
    }
  }
  if (!CheckFraming(f).ok()) return 0;
  FUZZ_CHECK(f.content_length.size() <= 1 && f.transfer_encoding.size() <= 1);
  FUZZ_CHECK(f.content_length.empty() || f.transfer_encoding.empty());

  input.remove_prefix(used);
  parser.eager(true);
  while (!input.empty() && !parser.is_done()) {
    ec = {};
    used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
    if (ec || used == 0) break;
    input.remove_prefix(used);
  }
  if (!parser.is_done()) {
    ec = {};
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
  }
  auto& msg = parser.get();
  WireRequest wire;
  wire.method = msg.method_string();
  wire.target = msg.target();
  wire.vault_token = msg["X-Vault-Token"];
  wire.authorization = msg[bhttp::field::authorization];
  wire.wrap_ttl = msg["X-Vault-Wrap-TTL"];
  wire.content_type = msg[bhttp::field::content_type];
  wire.body = msg.body();
  wire.remote_address = "127.0.0.1";
  // The listener's default bounds (http/server.h).
  auto built = BuildRequest(wire, ServerOptions{}.json_limits);
  if (built) FUZZ_CHECK(built->data.is_object());
  return 0;
}
