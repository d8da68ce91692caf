#!/bin/bash
# prints a line whenever DNS/OPER/ADMIN/lease changes; runs N seconds
D=/tmp/nd-exp; . <(tr ' ' '\n' < $D/env | sed 's/^/export /')
nsenter -t $HOLDER -m -n bash -c '
end=$(( $(date +%s) + '$1' )); last=""
while [ $(date +%s) -lt $end ]; do
  s="$(grep -hE "^(ADMIN_STATE|OPER_STATE|DNS|NTP|DOMAINS)=" links/'$IFX' 2>/dev/null | tr "\n" " ") lease:$(grep -h "^ADDRESS=" leases/'$IFX' 2>/dev/null) addr:$(ip -o addr show dev eth0 scope global | awk "{print \$4}" | tr "\n" " ")"
  [ "$s" != "$last" ] && echo "$(date +%T.%3N) $s" && last="$s"
  sleep 0.1
done' 2>&1
