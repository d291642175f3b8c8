#!/bin/sh
# Says on standard error which of the standard signals (1 to 31) it was started with ignored, if any,
# and leaves a process in the background holding its standard output; answers `unsupported` to
# everything. (glibc's posix_spawn leaves its two internal signals, 32 and 33, ignored: not ours.)
#   sh signal_worker.sh
mask=$(sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status | cut -c9-16)
ignored=$(( 0x$mask & 0x7fffffff ))
sleep 600 &
while IFS= read -r line; do
  if [ "$ignored" -ne 0 ]; then echo "started with standard signals ignored: $ignored" >&2; fi
  echo unsupported
done
