#!/bin/sh
# An exact worker: answers every request with the certified reference itself (one process per request).
#   sh exact_worker.sh /path/to/softmax-audit
while IFS= read -r line; do
  function=${line%% *}
  row=${line#* }
  printf '%s\n' "$row" | "$1" reference "$function" || echo "reference failed"
done
