# Helpers shared by scripts/bootstrap, scripts/test and scripts/demo. Sourced, not run.

# Colour (and bold) only on a terminal, and never when NO_COLOR is set (https://no-color.org).
# `use_color` asks about stdout; `use_color 2` about stderr.
use_color() { [[ -t "${1:-1}" && -z "${NO_COLOR:-}" ]]; }

# run_logged PREFIX LABEL LOG CMD...
#   Run CMD with its output appended to LOG (not shown), saying what runs, a line every
#   PROGRESS_EVERY seconds (default 10) while it does, with the last line CMD printed (the
#   last one matching the regex PROGRESS_MATCH, if set), and how long it took. Returns CMD's
#   exit status. Ctrl-C stops CMD (it runs in the foreground).
run_logged() {
    local prefix="$1" label="$2" log="$3" rc=0 start=$SECONDS restore
    shift 3
    printf '%s %s ...\n' "$prefix" "$label"
    restore="$(shopt -po pipefail || true)"   # CMD's status, whatever the caller's options
    set -o pipefail
    "$@" </dev/null 2>&1 | _progress_lines "$prefix" "$log" || rc=${PIPESTATUS[0]}
    eval "$restore"
    if ((rc == 0)); then
        printf '%s   done in %ds\n' "$prefix" "$((SECONDS - start))"
    else
        printf '%s   FAILED (exit %d) after %ds: %s\n' "$prefix" "$rc" "$((SECONDS - start))" "$label"
    fi
    return "$rc"
}

_progress_lines() {  # _progress_lines PREFIX LOG: copy stdin to LOG, say something now and then
    local prefix="$1" log="$2" every="${PROGRESS_EVERY:-10}" line="" partial="" last="" status
    local start=$SECONDS next=$((SECONDS + every))
    while :; do
        if IFS= read -r -t 1 line; then
            line="$partial$line"; partial=""
            printf '%s\n' "$line" >>"$log"
            if [[ -n "${line//[[:space:]]/}" ]] \
                && { [[ -z "${PROGRESS_MATCH:-}" ]] || [[ "$line" =~ $PROGRESS_MATCH ]]; }; then
                last="$line"
            fi
        else
            status=$?
            ((status > 128)) || { [[ -n "$partial$line" ]] && printf '%s' "$partial$line" >>"$log"; break; }
            partial+="$line"   # timed out: keep what came of an unfinished line
        fi
        if ((SECONDS >= next)); then
            last="${last//$'\r'/}"; last="${last//$'\e'/}"
            ((${#last} > 90)) && last="${last:0:87}..."
            printf '%s   ... %ds%s\n' "$prefix" "$((SECONDS - start))" "${last:+: $last}"
            next=$((SECONDS + every))
        fi
    done
    return 0
}
