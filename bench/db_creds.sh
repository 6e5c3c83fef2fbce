# bench/run's db_creds section (sourced by bench/run; uses its helpers).
#
#   database/creds/:role per second (a new PostgreSQL user per call, with a
#   lease), 8 concurrent clients, vs PostgreSQL's own rate for the same
#   CREATE ROLE + GRANT transaction from 8 psql sessions      goal ≥ 300/s
# bench/db_creds.py starts its own PostgreSQL 15 and coffer -dev.

bench_db_creds() {
  log "db_creds: database/creds/:role vs PostgreSQL CREATE ROLE, 8 clients, ${DURATION}s each"
  local out c p e
  out="$(timeout 600 python3 "$BENCH_DIR/db_creds.py" --coffer "$COFFER" --duration "$DURATION" \
    --clients 8)" || die "bench/db_creds.py failed"
  c="$(sed -n 's/^coffer_rate //p' <<<"$out")"
  p="$(sed -n 's/^pg_rate //p' <<<"$out")"
  e="$(sed -n 's/^errors //p' <<<"$out")"
  add_row "database creds (PostgreSQL)" "users/s vs PostgreSQL CREATE ROLE+GRANT/s, 8 clients" \
    "$c" "$p" "$(ratio "$c" "$p")" "≥ 300/s: $(verdict "$c" '>=' 300)"
  [ "${e:-0}" = 0 ] || NOTES+=("db_creds: $e requests failed.")
}
