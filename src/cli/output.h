#pragma once
// Output formatting shared by every CLI command: Vault's tables (columns
// glued by four spaces, a "---" underline under the header, "n/a" for empty
// cells), JSON, and text wrapped at Vault's 78 columns. Pure functions.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/api_client.h"
#include "common/status.h"

namespace coffer::cli {

// kRaw is Vault's -format=raw: the answer's body as the server sent it,
// which only `read` supports (cli.cc refuses it for the other commands).
enum class OutputFormat { kTable, kJson, kYaml, kRaw };

// "table", "json", "yaml", "yml" or "raw" in any case (Vault lowercases the name).
// Error (kInvalidArgument): "Invalid output format: NAME" (lowercased).
Result<OutputFormat> ParseFormat(std::string_view name);

// JSON or YAML: the answer printed as a document rather than as a table.
inline bool IsStructured(OutputFormat format) { return format != OutputFormat::kTable; }

// The value as a structured format prints it: FormatYaml for kYaml,
// FormatJson otherwise.
std::string FormatStructured(OutputFormat format, const Json& value);

using Row = std::vector<std::string>;

// Aligns rows into columns; no header. Lines end in '\n'.
std::string FormatColumns(const std::vector<Row>& rows);

// rows[0] is the header; a line of dashes as wide as each header goes under it.
std::string FormatTable(const std::vector<Row>& rows);

// A two-column "Key / Value" table.
std::string FormatKeyValue(const std::vector<std::pair<std::string, std::string>>& pairs);

// Indented by two spaces, with a final newline.
std::string FormatJson(const Json& value);

// YAML as Vault's -format=yaml prints it (its JSON converted to YAML):
// block mappings with sorted keys and two-space indents, sequences under a
// key not indented further, `{}` and `[]` for empty ones, a string quoted
// whenever YAML would read it as something else (`"true"`, `"123"`, `""`)
// and in literal style (`|-`) when it has line breaks. Final newline.
std::string FormatYaml(const Json& value);

// A JSON scalar as the table shows it: strings unquoted, null as "".
std::string ScalarText(const Json& value);

// Greedy word wrap at `width` columns, keeping existing line breaks.
std::string WrapAtLength(std::string_view text, std::size_t width = 78);

// An RFC 3339 time ("2024-05-09T14:22:03.5Z", any offset) as Go's RFC 822 in
// UTC ("09 May 24 14:22 UTC"), which is how Vault shows install times. Returns
// the input unchanged when it does not parse.
std::string FormatRfc822(std::string_view rfc3339);

}  // namespace coffer::cli
