# bench/run's scale_curve section (sourced by bench/run; uses its helpers).
#
# How cost grows with the store: for 1,000, 10,000, 100,000 and --scale-n
# (default 1,000,000) secrets, a KV v2 store filled by bench/kv_populate, then
# a config-mode server on it: how long sys/unseal takes, RSS once unsealed and
# after the reads, and the latency of random reads at a fixed --scale-rate
# (bench/rate_load, open loop, read cache on). Then as many leases, written by
# bench/leases_load: how long unseal takes to make them all expirable (the
# index complete) and the RSS each costs. The reference column is the
# 1,000-entry figure.
LEASES_LOAD="$BUILD_DIR/bench/leases_load"

# rss_parts PID: "ANON FILE" MB of the process's RSS: anonymous memory (the
# heap: caches, indexes) and file pages (the read connections' mappings of
# the database: page cache, counted once per mapping).
rss_parts() {
  awk '/^RssAnon:/ {a = $2} /^RssFile:/ {f = $2} END {printf "%.1f %.1f", a / 1024, f / 1024}' "/proc/$1/status"
}

bench_scale_curve() {
  log "scale_curve: KV stores and lease sets of 1,000 to $SCALE_N entries: unseal, RSS, read latency at $SCALE_RATE/s"
  [ -x "$POPULATE" ] || die "no $POPULATE (build target kv_populate)"
  [ -x "$LEASES_LOAD" ] || die "no $LEASES_LOAD (build target leases_load)"
  [ -x "$RATE_LOAD" ] || die "no $RATE_LOAD (build target rate_load)"
  local n sizes=(1000 10000 100000) mark port dir out key token unseal_s rss0 rss1 r data
  [ "$SCALE_N" -gt 100000 ] && sizes+=("$SCALE_N")
  local base_p50="" base_p99="" base_unseal="" base_lease_s="" base_lease_b=""
  for n in "${sizes[@]}"; do
    dir="$WORK/curve-$n"
    populate_store "$dir" "$n"
    key="$STORE_KEY" token="$STORE_TOKEN"
    data="$(du -sm "$dir/data" | cut -f1)"
    mark=${#PIDS[@]}
    port="$(free_port)"
    start_coffer_sealed "$port" "$dir"
    # The unseal call returns once the core is unsealed and serving.
    unseal_s="$(curl -sf -o /dev/null -w '%{time_total}' -X PUT -d "{\"key\":\"$key\"}" \
      "http://127.0.0.1:$port/v1/sys/unseal")" || die "sys/unseal failed"
    curl -sf -o /dev/null -H "X-Vault-Token: $token" "http://127.0.0.1:$port/v1/secret/data/scale/k$((n - 1))" ||
      die "scale_curve: the populated store does not answer reads"
    sleep 1
    rss0="$(rss_parts "$COFFER_PID")"
    run_rate r "$port" "/v1/secret/data/scale/k%" "$SCALE_RATE" --keys "$n" --header "X-Vault-Token: $token"
    rss1="$(rss_parts "$COFFER_PID")"
    stop_since "$mark"
    rm -rf "$dir"
    local rr=($r) ms_unseal r0=($rss0) r1=($rss1)
    ms_unseal="$(python3 -c "print(round(float('$unseal_s') * 1000))")"
    if [ -z "$base_p99" ]; then base_p50="${rr[1]}"; base_p99="${rr[2]}"; base_unseal="$ms_unseal"; fi
    add_row "scale_curve: KV v2 store of $n secrets ($data MB on disk)" \
      "unseal ms / RSS MB unsealed, after the reads (anonymous + mapped database)" \
      "$ms_unseal / ${r0[0]} + ${r0[1]}, ${r1[0]} + ${r1[1]}" "$base_unseal" "" ""
    add_row "scale_curve: KV v2 store of $n secrets ($data MB on disk)" \
      "p50 / p99 ms of random reads at $SCALE_RATE/s (vs 1,000 secrets; ratio of p99)" \
      "$(ms "${rr[1]}") / $(ms "${rr[2]}")" "$(ms "$base_p50") / $(ms "$base_p99")" \
      "$(ratio "${rr[2]}" "$base_p99")" ""
    [ "${rr[4]}" = 0 ] || NOTES+=("scale_curve ($n secrets): ${rr[4]} errors or non-2xx responses.")

    dir="$WORK/curve-leases-$n"
    mkdir -p "$dir"
    # The newest leases as index log records not folded yet: the log's
    # length under a steady stream of new leases (~36,000 at the default
    # span), the most unseal reads one key at a time.
    local logged=$((n < 36000 ? n : 36000))
    timeout 1800 "$LEASES_LOAD" populate "$dir" "$n" "$logged" >/dev/null ||
      die "leases_load populate $n failed"
    out="$(timeout 600 "$LEASES_LOAD" load "$dir")" || die "leases_load load $n failed"
    rm -rf "$dir"
    local lease_s lease_b
    lease_s="$(sed -n 's/.*index complete after \([0-9.]*\) s.*/\1/p' <<<"$out")"
    lease_b="$(sed -n 's/.*: \([0-9.]*\) bytes\/lease.*/\1/p' <<<"$out")"
    [ -n "$lease_s" ] && [ -n "$lease_b" ] || die "leases_load printed no figures: $out"
    if [ -z "$base_lease_s" ]; then base_lease_s="$lease_s"; base_lease_b="$lease_b"; fi
    local goal=""
    if [ "$n" -ge 1000000 ]; then
      goal="unseal ≤ 2 s: $(verdict "$lease_s" '<=' 2); ≤ 200 B: $(verdict "$lease_b" '<=' 200)"
    fi
    add_row "scale_curve: $n leases ($logged in the index log)" "unseal until all are expirable, s / RSS bytes per lease" \
      "$lease_s / $lease_b" "$base_lease_s / $base_lease_b" "" "$goal"
  done
}
