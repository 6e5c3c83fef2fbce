# bench/run's transit section (sourced by bench/run; uses its helpers).
#
#   encrypt 32 B, aes256-gcm96, wrk -t1 -c32 keep-alive  vs nginx (auto) serving
#     a static file the size of the encrypt answer       goal ≥ 0.55
#   encrypt batch of 100                                 goal ≥ 500,000 items/s
#   sign ed25519 / ecdsa-p256 through the engine's code  vs `openssl speed`,
#     one thread each (bench/transit_sign)               goal ≥ 0.70
TRANSIT_SIGN="$BUILD_DIR/bench/transit_sign"

bench_transit() {
  log "transit: encrypt (single, batch of 100) vs nginx; sign vs openssl speed"
  local mark=${#PIDS[@]} port addr www body c na b r s
  port="$(free_port)"
  addr="http://127.0.0.1:$port"
  start_coffer_dev "$port" "$WORK/transit-coffer.log"
  curl -sf -o /dev/null -X POST -H "X-Vault-Token: $ROOT_TOKEN" -d '{"type":"transit"}' \
    "$addr/v1/sys/mounts/transit" || die "mounting transit failed"
  curl -sf -o /dev/null -X POST -H "X-Vault-Token: $ROOT_TOKEN" "$addr/v1/transit/keys/bench" ||
    die "creating the transit key failed"
  www="$WORK/www-transit"
  mkdir -p "$www"
  curl -sf -o "$www/encrypt.json" -X POST -H "X-Vault-Token: $ROOT_TOKEN" \
    -d '{"plaintext":"Y29mZmVyIHRyYW5zaXQgYmVuY2htYXJrIDMyIGJ5dGU="}' \
    "$addr/v1/transit/encrypt/bench" || die "transit encrypt failed"
  chmod -R a+rX "$www"
  body="$(stat -c %s "$www/encrypt.json")"
  start_nginx transit auto "$www"

  COFFER_TOKEN="$ROOT_TOKEN" compare_wrk c na "$COFFER_PID" "$addr" "$NGINX_PID" \
    "http://127.0.0.1:$NGINX_PORT/encrypt.json" --script "$BENCH_DIR/lua/transit_encrypt.lua"
  local ca=($c) naa=($na)
  r="$(ratio "${ca[0]}" "${naa[0]}")"
  add_row "transit encrypt 32 B (aes256-gcm96)" \
    "req/s vs nginx auto, static ${body} B file, median of $ROUNDS alternating runs" \
    "${ca[0]}" "${naa[0]}" "$r" "≥ 0.55: $(ratio_verdict "${ca[0]}" "${naa[0]}" '>=' 0.55)"
  add_row "transit encrypt 32 B (aes256-gcm96)" "p50 / p99 latency ms (vs nginx auto)" \
    "$(ms "${ca[1]}") / $(ms "${ca[2]}")" "$(ms "${naa[1]}") / $(ms "${naa[2]}")" "" ""
  cpu_row "transit encrypt 32 B (aes256-gcm96)" "${ca[4]}" "${naa[4]}" "nginx auto"
  NOTES+=("transit encrypt: each round, $ROUNDS_NOTE.")
  [ "${ca[3]}" = 0 ] || NOTES+=("transit encrypt: ${ca[3]} errors or non-2xx responses.")

  COFFER_TOKEN="$ROOT_TOKEN" TRANSIT_BATCH=100 run_wrk b 1 "$addr" \
    --script "$BENCH_DIR/lua/transit_encrypt.lua"
  local ba=($b) items
  items="$(python3 -c "import sys; print(f'{float(sys.argv[1]) * 100:.0f}')" "${ba[0]}")"
  add_row "transit encrypt batch of 100 × 32 B" "items/s (wrk -t1 -c32)" "$items" "" "" \
    "≥ 500000/s: $(verdict "$items" '>=' 500000)"
  [ "${ba[3]}" = 0 ] || NOTES+=("transit batch encrypt: ${ba[3]} errors or non-2xx responses.")
  stop_since "$mark"

  if [ ! -x "$TRANSIT_SIGN" ]; then
    NOTES+=("transit sign: $TRANSIT_SIGN not built (configure with -DCOFFER_BUILD_BENCH=ON, target transit_sign); skipped.")
    return 0
  fi
  s="$(timeout $((DURATION * 4 + 60)) "$TRANSIT_SIGN" "$DURATION")" || die "transit_sign failed"
  local speed
  speed="$(timeout $((DURATION * 4 + 60)) openssl speed -seconds "$DURATION" ed25519 ecdsap256 2>/dev/null)" ||
    die "openssl speed failed"
  local type pattern ours theirs
  for type in ed25519 ecdsa-p256; do
    case "$type" in
      ed25519) pattern='EdDSA \(Ed25519\)' ;;
      ecdsa-p256) pattern='ecdsa \(nistp256\)' ;;
    esac
    ours="$(sed -n "s/^TRANSIT_SIGN type=$type signs_per_s=//p" <<<"$s")"
    theirs="$(grep -E "$pattern" <<<"$speed" | awk '{print $(NF-1)}')"
    [ -n "$ours" ] && [ -n "$theirs" ] || die "transit sign: no result for $type"
    r="$(ratio "$ours" "$theirs")"
    add_row "transit sign $type (engine code, 1 thread)" "signs/s vs openssl speed" "$ours" "$theirs" \
      "$r" "≥ 0.70: $(ratio_verdict "$ours" "$theirs" '>=' 0.70)"
  done
}
