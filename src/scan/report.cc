#include "scan/report.h"

#include <nlohmann/json.hpp>

namespace coffer::scan {
namespace {

using Json = nlohmann::ordered_json;

std::string_view SarifLevel(Severity s) {
  switch (s) {
    case Severity::kHigh:
      return "error";
    case Severity::kMedium:
      return "warning";
    case Severity::kLow:
      return "note";
  }
  return "warning";
}

Json StatsJson(const ScanStats& s) {
  return Json{{"files_scanned", s.files_scanned},
              {"bytes_scanned", s.bytes_scanned},
              {"skipped_binary", s.skipped_binary},
              {"skipped_large", s.skipped_large},
              {"commits_scanned", s.commits_scanned}};
}

}  // namespace

std::string FormatText(const ScanReport& report) {
  std::string out;
  for (const Finding& f : report.findings) {
    const RuleInfo& info = InfoOf(f.rule);
    out += f.path + ":" + std::to_string(f.line) + ":" + std::to_string(f.column) + ": ";
    out += std::string(info.id) + " (" + std::string(SeverityName(info.severity)) + ") ";
    out += f.Redacted();
    if (!f.key.empty()) out += " key=" + f.key;
    if (!f.commit.empty()) out += " commit=" + f.commit.substr(0, 12);
    out += "\n";
  }
  return out;
}

std::string FormatJson(const ScanReport& report) {
  Json findings = Json::array();
  for (const Finding& f : report.findings) {
    const RuleInfo& info = InfoOf(f.rule);
    Json j{{"rule_id", info.id},
           {"description", info.description},
           {"severity", SeverityName(info.severity)},
           {"path", f.path},
           {"line", f.line},
           {"column", f.column}};
    if (!f.commit.empty()) j["commit"] = f.commit;
    if (!f.key.empty()) j["key"] = f.key;
    j["redacted"] = f.Redacted();
    j["fingerprint"] = f.fingerprint;
    findings.push_back(std::move(j));
  }
  Json doc{{"findings", std::move(findings)}, {"stats", StatsJson(report.stats)}};
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string FormatSarif(const ScanReport& report, const std::string& tool_version) {
  Json rules = Json::array();
  for (const RuleInfo& r : AllRules()) {
    rules.push_back(Json{{"id", r.id},
                         {"name", r.id},
                         {"shortDescription", {{"text", r.description}}},
                         {"defaultConfiguration", {{"level", SarifLevel(r.severity)}}}});
  }
  Json results = Json::array();
  for (const Finding& f : report.findings) {
    const RuleInfo& info = InfoOf(f.rule);
    std::string message = std::string(info.description) + ": " + f.Redacted();
    if (!f.commit.empty()) message += " (in commit " + f.commit + ")";
    Json location{{"physicalLocation",
                   {{"artifactLocation", {{"uri", f.path}}},
                    {"region", {{"startLine", f.line}, {"startColumn", f.column}}}}}};
    Json r{{"ruleId", info.id},
           {"ruleIndex", static_cast<int>(f.rule)},
           {"level", SarifLevel(info.severity)},
           {"message", {{"text", message}}},
           {"locations", Json::array({std::move(location)})},
           {"partialFingerprints", {{"cofferFingerprint/v1", f.fingerprint}}}};
    if (!f.commit.empty()) r["properties"] = Json{{"commit", f.commit}};
    results.push_back(std::move(r));
  }
  Json run{{"tool",
            {{"driver",
              {{"name", "coffer-scan"},
               {"informationUri", "https://github.com/coffer/coffer/blob/main/docs/scan.md"},
               {"version", tool_version},
               {"rules", std::move(rules)}}}}},
           {"results", std::move(results)}};
  Json doc{{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
           {"version", "2.1.0"},
           {"runs", Json::array({std::move(run)})}};
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace coffer::scan
