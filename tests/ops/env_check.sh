# env_no_secrets FILE: 0 when an env example holds placeholders only (sourced by
# ci_files_test.sh for .env.example and deploy_test.sh for deploy/.env.example).
# A secret-named variable may only be empty or a <placeholder>; no long hex
# string, private key or URL with a password anywhere. Prints what it found.
env_no_secrets() {
    local file=$1 bad=0 line name value
    [[ -f $file ]] || { echo "missing: $file"; return 1; }
    while IFS= read -r line; do
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        name=${line%%=*}; value=${line#*=}
        value=${value%\"}; value=${value#\"}
        case $name in
        *KEY*|*SECRET*|*TOKEN*|*PASSWORD*|*PASS)
            if [[ -n $value && ! $value =~ ^\<[^\>]*\>$ ]]; then
                echo "$file: looks like a real secret: $name"; bad=1
            fi ;;
        esac
    done < "$file"
    if grep -Eq '(^|[^0-9A-Fa-f])[0-9A-Fa-f]{32,}([^0-9A-Fa-f]|$)' "$file"; then
        echo "$file: contains a long hex string"; bad=1
    fi
    if grep -Eq -- '-----BEGIN [A-Z ]*PRIVATE KEY-----|postgres(ql)?://[^:@/<]+:[^@<]+@' "$file"; then
        echo "$file: contains a private key or a URL with a password"; bad=1
    fi
    return $bad
}
