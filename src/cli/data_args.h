#pragma once
// Vault's key=value argument syntax for `write`, `kv put` and friends:
//
//   key=value        a string value
//   key=@FILE        the contents of FILE (keeps secrets out of argv)
//   key=\@text       the literal "@text"
//   key=-            the value is all of stdin
//   @FILE.json       a JSON object whose members are merged in
//   -                a JSON object read from stdin, merged in
//
// A key given twice becomes a list of its values. Stdin can be consumed once.
// Errors (kInvalidArgument): "format must be key=value", unreadable file
// (named, contents never quoted), invalid JSON, "stdin already consumed".

#include <istream>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "common/status.h"

namespace coffer::cli {

Result<Json> ParseDataArgs(const std::vector<std::string>& args, std::istream* in);

}  // namespace coffer::cli
