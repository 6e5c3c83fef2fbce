#pragma once
// Fast parsing of JSON text into nlohmann::json, for records the server reads
// on every request (a KV v2 read decodes the key's metadata and one version).
//
// Why not nlohmann's own parser: it ran at ~100 MB/s here, 2.4 µs for a
// 200-byte version record and 4.9 µs for a key's metadata (through its DOM),
// about a tenth of the server's CPU per KV read. simdjson (Debian's
// libsimdjson-dev) parses and validates the text; with the nlohmann DOM built
// from its result a version record takes 1.0 µs (bench/micro_core,
// BM_KvDecodeVersion).
//
// The result equals what nlohmann::json::parse gives for the same text
// (non-negative integers as number_unsigned, negative ones as
// number_integer, the last of duplicate keys), with one exception: "-0" is
// an unsigned 0 here and a signed 0 there (equal, and both serialise as
// "0"). fuzz/fuzz_json_fast.cc checks that on arbitrary input.
//
// Hygiene: texts up to 4 KiB are parsed on a parser kept per thread, whose
// buffers are wiped before the call returns (common/json_scratch.h); larger
// ones on a parser of their own, freed (and wiped by the server's operator
// delete) before the call returns.

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace coffer {

// The parsed document, or nullopt when simdjson rejects the text: invalid
// JSON, or valid JSON that simdjson does not represent (an integer beyond 64
// bits, nesting deeper than 1024). Callers that must accept the latter fall
// back to nlohmann::json::parse.
std::optional<nlohmann::json> ParseJsonFast(std::string_view text);

// ParseJsonFast, falling back to nlohmann's parser for what simdjson does
// not represent: the document, or a discarded value (is_discarded()) for
// text that is not JSON.
nlohmann::json ParseJson(std::string_view text);

}  // namespace coffer
