#!/usr/bin/env bash
# Translations: every message the API can answer is translated in every
# po/<lang>.po (none untranslated or fuzzy, printf conversions matching), the
# committed template is current, and the built binary answers in Spanish from
# its embedded catalog, falls back to English without the locale, and leaves
# no catalog directory behind.
cd "$(dirname "$0")/../.." && . tests/ops/lib.sh

for po in po/*.po; do
    check "$po compiles (msgfmt --check)" msgfmt --check -o /dev/null "$po"
    stats=$(LC_ALL=C msgfmt --statistics -o /dev/null "$po" 2>&1)
    echo "# $po: $stats"
    if [[ $stats =~ fuzzy|untranslated ]]; then not_ok "$po has no fuzzy or untranslated entries"
    else ok "$po has no fuzzy or untranslated entries"; fi
done

# The sources as they are now, not as the last `make po` saw them: a message
# added without running `make po` and translating it fails here.
if make -s --no-print-directory pot POT="$WORK/fresh.pot" >"$WORK/pot.log" 2>&1; then
    ok "messages extract from the sources (make pot)"
    for po in po/*.po; do
        # msgcmp counts untranslated and fuzzy entries of $po as missing
        if LC_ALL=C msgcmp "$po" "$WORK/fresh.pot" >"$WORK/cmp.log" 2>&1; then
            ok "every message in the sources is translated in $po"
        else
            not_ok "every message in the sources is translated in $po (run make po, translate)"
            grep -v 'is not used' "$WORK/cmp.log" | head -20 | sed 's/^/#   /'
        fi
    done
    if LC_ALL=C msgcmp --use-untranslated po/atrium.pot "$WORK/fresh.pot" >/dev/null 2>&1 &&
       LC_ALL=C msgcmp --use-untranslated "$WORK/fresh.pot" po/atrium.pot >/dev/null 2>&1; then
        ok "po/atrium.pot is current"
    else
        not_ok "po/atrium.pot is current (run make po)"
    fi
else
    not_ok "messages extract from the sources (make pot)"; sed 's/^/#   /' "$WORK/pot.log"
fi

# --- the binary --------------------------------------------------------------
nothing=/api/v1/nothing/here
message() {   # message [curl args...]: error.message of GET $nothing
    curl -s "$@" "$(url $nothing)" | jq -r .error.message
}

mkdir -p "$WORK/tmp" "$WORK/no-locales"
export TMPDIR=$WORK/tmp
# glibc's gettext prefers $LANGUAGE over the locale: the server must not care.
LANGUAGE=en_US:en start_server || { not_ok "server starts"; finish; }
check "Accept-Language: es answers Spanish from the embedded catalog" \
    [ "$(message -H 'Accept-Language: es-ES,es;q=0.9')" = "no hay ninguna ruta para $nothing" ]
check "no Accept-Language answers English" [ "$(message)" = "no route for $nothing" ]
check "the catalogs sit in one private temp dir while serving" \
    [ "$(find "$TMPDIR" -path '*/es/LC_MESSAGES/atrium.mo' | wc -l)" = 1 ]
stop_server
check "the catalog dir is removed at shutdown" [ -z "$(ls -A "$TMPDIR")" ]

# Without the es_ES.UTF-8 locale (LOCPATH: glibc looks for locales there only):
# one warning at startup, English answers, no failure.
LOCPATH=$WORK/no-locales start_server || { not_ok "server starts without the locale"; finish; }
check "without the locale: English" [ "$(message -H 'Accept-Language: es')" = "no route for $nothing" ]
check "without the locale: one warning names it" \
    [ "$(grep -c 'locale es_ES.UTF-8 is not installed' "$WORK/server.log")" = 1 ]
stop_server
finish
