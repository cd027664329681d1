#!/usr/bin/env bash
# mirror-rps.sh [SECONDS] — requests per second that Debian's nginx (with
# docs/SYNC.md's location block) and `revocheck serve` sustain on the same
# mirror tree, measured side by side in one run with wrk on 127.0.0.1:
#   no-op   GET manifest.json (what every up-to-date machine asks per run)
#   filter  GET the full filter (what a cold machine downloads first)
# wrk, the servers and this script share the machine's cores: the figures
# are a ratio between the two servers, not either server's ceiling.
#
# Needs make all, nginx (nginx-light) and wrk. Rows go to $BENCH_ROWS.
# shellcheck source=bench/report/lib.sh
source "$(dirname "$0")/report/lib.sh"
bench_init mirror-rps
SECS=${1:-10}
[[ $SECS =~ ^[1-9][0-9]*$ ]] || die "SECONDS must be a positive number"
[[ -x $B/bin/revocheck ]] || die "$B/bin/revocheck missing; run make all"
command -v nginx >/dev/null || die "nginx missing: apt-get install nginx-light"
command -v wrk >/dev/null || die "wrk missing: apt-get install wrk"

# A Mozilla-shaped tree: one full filter and 35 deltas.
"$B/bin/revocheck" filter build --synthetic --out "$W/www/revocheck" --issuers 200 --seed 3 >/dev/null
full=$(sed -n 's/.*"filename": *"\([^"]*\.filter\)".*/\1/p' "$W/www/revocheck/manifest.json" | head -n 1)
[[ -z $full ]] && full=$(cd "$W/www/revocheck" && ls ./*.filter | head -n 1 | sed 's|^\./||')
[[ -n $full ]] || die "no full filter in the synthetic tree"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
NGX=127.0.0.1:$(port)
SRV=127.0.0.1:$(port)
mkdir -p "$W/nginx"
user=; [[ $(id -u) == 0 ]] && user="user root;"
cat >"$W/nginx/nginx.conf" <<CONF
$user
daemon off;
worker_processes auto;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $W/nginx/body;
    proxy_temp_path $W/nginx/proxy;
    fastcgi_temp_path $W/nginx/fastcgi;
    uwsgi_temp_path $W/nginx/uwsgi;
    scgi_temp_path $W/nginx/scgi;
    server {
        listen $NGX;
        location /revocheck/ {
            alias $W/www/revocheck/;
            autoindex off;
            location ~ /\. { return 404; }
            location ~ manifest\.json\$ { add_header Cache-Control no-cache; }
        }
    }
}
CONF
nginx -p "$W/nginx" -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log" &
BENCH_PIDS+=($!)
"$B/bin/revocheck" serve --dir "$W/www" --listen "$SRV" 2>/dev/null &
BENCH_PIDS+=($!)
for a in "$NGX" "$SRV"; do
	for _ in $(seq 100); do curl -fso /dev/null "http://$a/revocheck/manifest.json" && break; sleep 0.1; done
	curl -fso /dev/null "http://$a/revocheck/manifest.json" || die "nothing serves on $a"
done

rps() { # URL -> requests/s
	wrk -t2 -c64 -d"${SECS}s" "$1" | awk '/^Requests\/sec:/ {printf "%.0f", $2}'
}
echo "mirror-rps: wrk -t2 -c64 -d${SECS}s, nginx $(nginx -v 2>&1 | sed 's|.*/||')"
for what in manifest.json "$full"; do
	label=no-op; [[ $what != manifest.json ]] && label="filter ($(stat -c %s "$W/www/revocheck/$what") B)"
	n=$(rps "http://$NGX/revocheck/$what")
	s=$(rps "http://$SRV/revocheck/$what")
	ratio=$(awk -v a="$s" -v b="$n" 'BEGIN{printf "%.2f", a / b}')
	bench_row mirror "$label: nginx" "$n req/s" "-" "-" "bench/mirror-rps.sh $SECS"
	bench_row mirror "$label: revocheck serve" "$s req/s (x$ratio of nginx)" "-" "-" "bench/mirror-rps.sh $SECS"
done
