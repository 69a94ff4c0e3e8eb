#!/bin/sh
. "$(dirname "$0")/functions.sh"
skip "map: not yet"
