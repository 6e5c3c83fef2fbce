#include "cli/secret_output.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "cli/status.h"
#include "common/duration.h"
#include "common/json_numbers.h"

namespace coffer::cli {
namespace {

const Json kNull;

std::vector<std::string> SortedKeys(const Json& obj) {
  std::vector<std::string> keys;
  if (!obj.is_object()) return keys;
  for (auto it = obj.begin(); it != obj.end(); ++it) keys.push_back(it.key());
  std::sort(keys.begin(), keys.end());
  return keys;
}

const Json& Member(const Json& obj, const char* key) {
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::string Quote(std::string_view s) {
  // Go's %q for printable ASCII; other bytes are rare in policy names.
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void EndRaw(Invocation& inv) {
  if (inv.env.out_is_tty) inv.out() << "\n";
}

}  // namespace

void PrintWarnings(Invocation& inv, const Json& secret) {
  const Json& warnings = Member(secret, "warnings");
  if (!warnings.is_array() || warnings.empty()) return;
  inv.err() << "WARNING! The following warnings were returned from Vault:\n\n";
  for (const Json& w : warnings) inv.err() << "  * " << ScalarText(w) << "\n\n";
}

const Json& DataOf(const Json& secret) { return Member(secret, "data"); }

std::string GoValue(const Json& v) {
  if (v.is_null()) return "<nil>";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out += ' ';
      out += GoValue(v[i]);
    }
    return out + "]";
  }
  if (v.is_object()) {
    std::string out = "map[";
    bool first = true;
    for (const std::string& k : SortedKeys(v)) {
      if (!first) out += ' ';
      first = false;
      out += k + ":" + GoValue(v[k]);
    }
    return out + "]";
  }
  return DumpJsonWithNumberText(v);
}

std::string GoQuotedList(const Json& v) {
  if (v.is_null()) return "[]";
  if (!v.is_array()) return GoValue(v);
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ' ';
    out += Quote(ScalarText(v[i]));
  }
  return out + "]";
}

std::string HumanDuration(long long seconds) {
  return coffer::HumanDuration(std::chrono::seconds(seconds));
}

std::string HumanDurationValue(const Json& v) {
  if (v.is_number_integer()) return HumanDuration(v.get<long long>());
  return GoValue(v);
}

bool LooksLikeDuration(std::string_view k) {
  return k == "period" || k.ends_with("_period") || k == "ttl" || k.ends_with("_ttl") ||
         k == "duration" || k.ends_with("_duration") || k == "lease_max" || k == "ttl_max";
}

std::string GoTime(std::string_view t) {
  // 2006-01-02T15:04:05.999999999Z07:00 -> 2006-01-02 15:04:05.999999999 -0700 MST
  if (t.size() < 20 || t[10] != 'T') return std::string(t);
  std::size_t zone = t.find_first_of("Z+-", 19);
  if (zone == std::string_view::npos) return std::string(t);
  std::string out(t.substr(0, zone));
  out[10] = ' ';
  // Go's .999999999 layout drops the fraction's trailing zeros, and the dot
  // with them when nothing is left.
  if (out.find('.', 19) != std::string::npos) {
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
  }
  std::string_view z = t.substr(zone);
  if (z == "Z") return out + " +0000 UTC";
  if (z.size() == 6 && z[3] == ':') {
    std::string off = std::string(z.substr(0, 3)) + std::string(z.substr(4, 2));
    return out + " " + off + " " + off;
  }
  return std::string(t);
}

std::string PadEqualSigns(std::string_view header, std::size_t total) {
  long long signs = static_cast<long long>(total) - static_cast<long long>(header.size() + 2);
  if (signs <= 0) signs = 4;
  if (signs % 2 != 0) ++signs;
  std::string side(static_cast<std::size_t>(signs / 2), '=');
  return side + " " + std::string(header) + " " + side;
}

std::string HeaderForMap(std::string_view header, const Json& map) {
  std::size_t max_key = 0;
  for (const std::string& k : SortedKeys(map)) max_key = std::max(max_key, k.size());
  return PadEqualSigns(header, max_key + 4 + 5);
}

std::string SecretTable(const Json& secret) {
  std::vector<std::pair<std::string, std::string>> rows;
  long long lease = JsonInt(secret, "lease_duration");
  if (lease > 0) {
    std::string id = JsonString(secret, "lease_id");
    if (!id.empty()) {
      rows.emplace_back("lease_id", id);
      rows.emplace_back("lease_duration", HumanDuration(lease));
      rows.emplace_back("lease_renewable", JsonBool(secret, "renewable") ? "true" : "false");
    } else {
      rows.emplace_back("refresh_interval", HumanDuration(lease));
    }
  }
  const Json& auth = Member(secret, "auth");
  if (auth.is_object()) {
    rows.emplace_back("token", JsonString(auth, "client_token"));
    rows.emplace_back("token_accessor", JsonString(auth, "accessor"));
    long long d = JsonInt(auth, "lease_duration");
    rows.emplace_back("token_duration", d == 0 ? "∞" : HumanDuration(d));
    rows.emplace_back("token_renewable", JsonBool(auth, "renewable") ? "true" : "false");
    rows.emplace_back("token_policies", GoQuotedList(Member(auth, "token_policies")));
    rows.emplace_back("identity_policies", GoQuotedList(Member(auth, "identity_policies")));
    rows.emplace_back("policies", GoQuotedList(Member(auth, "policies")));
    const Json& meta = Member(auth, "metadata");
    for (const std::string& k : SortedKeys(meta)) {
      rows.emplace_back("token_meta_" + k, GoValue(meta[k]));
    }
  }
  const Json& wrap = Member(secret, "wrap_info");
  if (wrap.is_object()) {
    rows.emplace_back("wrapping_token:", JsonString(wrap, "token"));
    rows.emplace_back("wrapping_accessor:", JsonString(wrap, "accessor"));
    rows.emplace_back("wrapping_token_ttl:", HumanDurationValue(Member(wrap, "ttl")));
    rows.emplace_back("wrapping_token_creation_time:", GoTime(JsonString(wrap, "creation_time")));
    rows.emplace_back("wrapping_token_creation_path:", JsonString(wrap, "creation_path"));
    if (!JsonString(wrap, "wrapped_accessor").empty()) {
      rows.emplace_back("wrapped_accessor:", JsonString(wrap, "wrapped_accessor"));
    }
  }
  const Json& data = DataOf(secret);
  for (const std::string& k : SortedKeys(data)) {
    rows.emplace_back(k, LooksLikeDuration(k) ? HumanDurationValue(data[k]) : GoValue(data[k]));
  }
  if (rows.empty()) return "";
  return FormatKeyValue(rows);
}

std::string MapTable(const Json& map) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const std::string& k : SortedKeys(map)) {
    rows.emplace_back(k, LooksLikeDuration(k) ? HumanDurationValue(map[k]) : GoValue(map[k]));
  }
  if (rows.empty()) return "";
  return FormatKeyValue(rows);
}

int OutputSecret(Invocation& inv, const Json& secret) {
  if (IsStructured(inv.format)) {
    Json out = secret.is_object() ? secret : Json::object();
    for (const char* k : {"auth", "wrap_info"}) {
      if (out.contains(k) && out[k].is_null()) out.erase(k);
    }
    inv.out() << FormatStructured(inv.format, out);
    return 0;
  }
  PrintWarnings(inv, secret);
  // Answers outside Vault's envelope (sys/health, sys/in-flight-req, ...)
  // are a map of their own: shown as one rather than as nothing.
  bool enveloped = false;
  if (secret.is_object()) {
    for (const char* k : {"request_id", "lease_id", "lease_duration", "renewable", "data",
                          "warnings", "auth", "wrap_info"}) {
      enveloped = enveloped || secret.contains(k);
    }
  }
  inv.out() << (secret.is_object() && !enveloped ? MapTable(secret) : SecretTable(secret));
  return 0;
}

int OutputData(Invocation& inv, const Json& data) {
  if (IsStructured(inv.format)) {
    inv.out() << FormatStructured(inv.format, data);
  } else {
    inv.out() << MapTable(data);
  }
  return 0;
}

int OutputList(Invocation& inv, const Json& secret) {
  const Json& keys = Member(DataOf(secret), "keys");
  std::vector<std::string> list;
  if (keys.is_array()) {
    for (const Json& k : keys) list.push_back(ScalarText(k));
  }
  if (IsStructured(inv.format)) {
    inv.out() << FormatStructured(inv.format, keys.is_array() ? keys : Json::array());
    return 0;
  }
  PrintWarnings(inv, secret);
  std::sort(list.begin(), list.end());
  std::vector<Row> rows{{"Keys"}};
  for (std::string& k : list) rows.push_back({std::move(k)});
  inv.out() << FormatTable(rows);
  return 0;
}

int OutputListAnswer(Invocation& inv, const Json& secret, std::string_view path) {
  const Json& wrap = Member(secret, "wrap_info");
  if (wrap.is_object() && JsonInt(wrap, "ttl") != 0) return OutputSecret(inv, secret);
  const Json& data = DataOf(secret);
  const bool has_keys = Member(data, "keys").is_array();
  if (inv.format != OutputFormat::kTable && !has_keys) {
    inv.out() << FormatStructured(inv.format, Json::object());
    return 2;
  }
  if (secret.is_null()) {
    inv.err() << "No value found at " << path << "\n";
    return 2;
  }
  if (data.is_null()) return OutputSecret(inv, secret);
  if (!has_keys) {
    inv.err() << "No entries found at " << path << "\n";
    return 2;
  }
  return OutputList(inv, secret);
}

Json RawField(const Json& secret, std::string_view field) {
  const Json& auth = Member(secret, "auth");
  const Json& wrap = Member(secret, "wrap_info");
  auto member = [](const Json& obj, const char* key) -> Json { return Member(obj, key); };
  if (field == "refresh_interval" || field == "lease_duration") {
    return member(secret, "lease_duration");
  }
  if (field == "lease_id") return member(secret, "lease_id");
  if (field == "lease_renewable") return member(secret, "renewable");
  if (auth.is_object()) {
    if (field == "token") return member(auth, "client_token");
    if (field == "token_accessor") return member(auth, "accessor");
    if (field == "token_duration") return member(auth, "lease_duration");
    if (field == "token_renewable") return member(auth, "renewable");
    if (field == "token_policies") return member(auth, "token_policies");
    if (field == "identity_policies") return member(auth, "identity_policies");
    if (field == "policies") return member(auth, "policies");
    if (field.starts_with("token_meta_")) {
      return Member(Member(auth, "metadata"), std::string(field.substr(11)).c_str());
    }
  }
  if (wrap.is_object()) {
    if (field == "wrapping_token") return member(wrap, "token");
    if (field == "wrapping_accessor") return member(wrap, "accessor");
    if (field == "wrapping_token_ttl") return member(wrap, "ttl");
    if (field == "wrapping_token_creation_time") return member(wrap, "creation_time");
    if (field == "wrapping_token_creation_path") return member(wrap, "creation_path");
    if (field == "wrapped_accessor") return member(wrap, "wrapped_accessor");
  }
  if (!auth.is_object() && !wrap.is_object()) {
    // Vault reads these from its Secret struct, where an absent value is
    // Go's zero value rather than "not present".
    if (field == "request_id") {
      const Json& id = member(secret, "request_id");
      return id.is_null() ? Json("") : id;
    }
    if (field == "renewable") {
      const Json& r = member(secret, "renewable");
      return r.is_null() ? Json(false) : r;
    }
    // A data map without a "data" key (KV v1, most engines) is the field.
    if (field == "data") {
      const Json& data = DataOf(secret);
      return data.is_object() && data.contains("data") ? data["data"] : data;
    }
  }
  return Member(DataOf(secret), std::string(field).c_str());
}

int PrintSecretField(Invocation& inv, const Json& secret, std::string_view field) {
  if (inv.format == OutputFormat::kTable) PrintWarnings(inv, secret);
  return PrintRawField(inv, RawField(secret, field), field);
}

int PrintRawField(Invocation& inv, const Json& value, std::string_view field) {
  if (value.is_null()) {
    inv.err() << "Field \"" << field << "\" not present in secret\n";
    return 1;
  }
  if (IsStructured(inv.format)) {
    std::string text = FormatStructured(inv.format, value);
    if (!inv.env.out_is_tty) text.pop_back();
    inv.out() << text;
    return 0;
  }
  inv.out() << GoValue(value);
  EndRaw(inv);
  return 0;
}

}  // namespace coffer::cli
