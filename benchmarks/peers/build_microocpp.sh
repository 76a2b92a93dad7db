#!/bin/sh
# Build the MicroOcpp peer harness and write its figures for `benchmarks/run.py --peers`.
#
#   sh benchmarks/peers/build_microocpp.sh MICROOCPP_DIR ARDUINOJSON_DIR [OUT.json]
#
# MICROOCPP_DIR: a checkout of github.com/matth-x/MicroOcpp (measured: ee1271b);
# ARDUINOJSON_DIR: github.com/bblanchon/ArduinoJson at a 6.x tag (measured: v6.21.5).
# Neither is part of this repository. Compiled with g++ -O2, with the profile, period and
# stack-level bounds raised so that W2 and W3 fit (MicroOcpp's defaults are 10 profiles,
# 24 periods and 8 stack levels). Prints the figures on stderr and writes OUT.json
# (default: peers.json); then: python benchmarks/run.py --peers peers.json
set -eu
MO=$1
AJ=$2
OUT=${3:-peers.json}
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${TMPDIR:-/tmp}/ocpp-schedule-microocpp-build
mkdir -p "$BUILD"
SRCS=$(sed -n '/^set(MO_SRC$/,/^)/p' "$MO/CMakeLists.txt" | grep '\.cpp' | sed "s|^ *|$MO/|")
DEFS="-DMO_PLATFORM=MO_PLATFORM_UNIX -DMO_NUMCONNECTORS=2 -DMO_CUSTOM_TIMER -DMO_DBG_LEVEL=MO_DL_NONE \
 -DMO_ChargeProfileMaxStackLevel=128 -DMO_ChargingScheduleMaxPeriods=2000 -DMO_MaxChargingProfilesInstalled=256"
objs=""
for f in $SRCS; do
    o="$BUILD/$(echo "$f" | md5sum | cut -c1-12).o"
    [ -f "$o" ] || g++ -std=c++11 -O2 $DEFS -I"$MO/src" -I"$AJ/src" -c "$f" -o "$o"
    objs="$objs $o"
done
g++ -std=c++11 -O2 $DEFS -I"$MO/src" -I"$AJ/src" "$HERE/microocpp_bench.cpp" $objs -o "$BUILD/microocpp_bench"
"$BUILD/microocpp_bench" > "$OUT"
echo "wrote $OUT" >&2
