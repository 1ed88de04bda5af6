#!/usr/bin/env bash
# codepop's own settings (ATRIUM_NODE_*, ATRIUM_HUB_URL, ATRIUM_P2P_*) live with
# the app: read and checked by its `configure` step, printed under [codepop] by
# `atrium config check`, and not read at all while ATRIUM_APPS leaves codepop out.
cd "$(dirname "$0")/../../.." && . tests/ops/lib.sh

cfg() { env "$@" "$ATRIUM_BIN" config check 2>&1; }
node=$(cat /proc/sys/kernel/random/uuid)

out=$(cfg)
check "config check prints a [codepop] section" sh -c "echo '$out' | grep -q '^\[codepop\]$'"
check "a single node by default" sh -c "echo '$out' | grep -q '^ATRIUM_NODE_TYPE  *(none: a single node)$'"
check "the core's part names no node setting" sh -c "! echo '$out' | sed '/^\[codepop\]/,\$d' | grep -q ATRIUM_NODE"

out=$(cfg ATRIUM_NODE_TYPE=hub ATRIUM_NODE_ID="$node" ATRIUM_NODE_URL=http://127.0.0.1:1 ATRIUM_NODE_HUB_ID=1 \
          ATRIUM_P2P_SECRET=very-secret-bootstrap)
check "a hub node is valid" sh -c "echo '$out' | grep -q 'configuration is valid'"
check "its settings are printed under [codepop]" sh -c "echo '$out' | sed -n '/^\[codepop\]/,\$p' | grep -q '^ATRIUM_NODE_ID  *$node$'"
check "the P2P secret is masked" sh -c "! echo '$out' | grep -q very-secret-bootstrap"

out=$(cfg ATRIUM_NODE_TYPE=moon)
check "an unknown node type is refused" sh -c "echo \"\$0\" | grep -q 'ATRIUM_NODE_TYPE must be store or hub'" "$out"
check "config check exits 2 on it" [ "$(cfg ATRIUM_NODE_TYPE=moon >/dev/null; echo $?)" = 2 ]
out=$(cfg ATRIUM_NODE_TYPE=store ATRIUM_NODE_ID="$node" ATRIUM_NODE_URL=http://127.0.0.1:1 ATRIUM_NODE_STORE_ID=1)
check "a store node needs its hub" sh -c "echo '$out' | grep -q 'needs ATRIUM_NODE_STORE_ID and ATRIUM_HUB_URL'"
out=$(cfg ATRIUM_NODE_STORE_ID=seven)
check "a malformed id is refused, named" sh -c "echo '$out' | grep -q \"ATRIUM_NODE_STORE_ID must be an integer\""

out=$(cfg ATRIUM_APPS=groupbuy ATRIUM_NODE_TYPE=moon)
check "a disabled codepop's settings are not read" sh -c "echo '$out' | grep -q 'configuration is valid'"
check "config check says so" sh -c "echo '$out' | grep -q '^\[codepop\] disabled by ATRIUM_APPS'"
finish
