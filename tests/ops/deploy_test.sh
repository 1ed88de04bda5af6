#!/usr/bin/env bash
# deploy/compose.yaml (two atrium instances on PostgreSQL behind nginx) holds
# together: `docker compose config` accepts it where Docker Compose exists; its
# services, the PostgreSQL URL, the files it names, nginx's upstream, WebSocket
# and SSE proxying and the trusted proxy address are checked from the YAML;
# `nginx -t` accepts deploy/nginx.conf; deploy/.env.example holds placeholders only.
cd "$(dirname "$0")/../.." && . tests/ops/lib.sh && . tests/ops/env_check.sh

COMPOSE=deploy/compose.yaml
cp deploy/.env.example "$WORK/env"

if docker compose version >/dev/null 2>&1; then
    check "docker compose config -q accepts $COMPOSE with deploy/.env.example" \
        docker compose -f "$COMPOSE" --env-file "$WORK/env" config -q
else
    ok "docker compose config -q # SKIP docker compose is not installed"
fi

# The YAML itself, whether or not Docker is here: python3-yaml (scripts/setup).
python3 - "$COMPOSE" <<'EOF' || FAILED=1
import os, re, subprocess, sys
import yaml

path = sys.argv[1]
base = os.path.dirname(path)
failed = False

def check(name, cond, why=""):
    global failed
    print(("ok - " if cond else "not ok - ") + name)
    if not cond:
        failed = True
        if why:
            print("#   " + why)

def env_of(svc):
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    return env

def rel(p):
    return os.path.normpath(os.path.join(base, p))

doc = yaml.safe_load(open(path))
services = doc.get("services") or {}
names = ["postgres", "atrium-a", "atrium-b", "nginx"]
check("compose has the services " + ", ".join(names),
      all(n in services for n in names), "has: " + ", ".join(services))
pg, nginx = services.get("postgres", {}), services.get("nginx", {})
atriums = [n for n in ("atrium-a", "atrium-b") if n in services]

# PostgreSQL 15 with the C locale and UTF-8: atrium compares text byte by byte.
pg_env = env_of(pg)
initdb = pg_env.get("POSTGRES_INITDB_ARGS", "")
check("postgres runs postgres:15", str(pg.get("image", "")).startswith("postgres:15"))
check("postgres is initialised with --locale=C and UTF8",
      "--locale=C" in initdb.split() and re.search(r"--encoding[= ]UTF-?8", initdb) is not None, initdb)
check("postgres has a pg_isready health check and a named volume",
      "pg_isready" in str(pg.get("healthcheck", {}).get("test", ""))
      and any(str(v).split(":")[0] in (doc.get("volumes") or {}) for v in pg.get("volumes", [])))

# Both instances on that database, started once it is healthy.
for n in atriums:
    svc, env = services[n], env_of(services[n])
    db = str(env.get("ATRIUM_DB", ""))
    m = re.match(r"postgres(?:ql)?://([^:@/]+)(?::([^@]*))?@([^:/]+)(?::(\d+))?/(\w+)$", db)
    check(n + ": ATRIUM_DB is a postgres:// URL to the compose service postgres",
          m is not None and m.group(3) == "postgres" and m.group(1) == pg_env.get("POSTGRES_USER")
          and m.group(5) == pg_env.get("POSTGRES_DB"), db)
    check(n + ": the database password comes from deploy/.env, not the file",
          m is not None and re.fullmatch(r"\$\{POSTGRES_PASSWORD(:?\?[^}]*)?\}", m.group(2) or "") is not None
          and str(pg_env.get("POSTGRES_PASSWORD", "")).startswith("${POSTGRES_PASSWORD"))
    check(n + ": ATRIUM_ENCRYPTION_KEY comes from deploy/.env",
          str(env.get("ATRIUM_ENCRYPTION_KEY", "")).startswith("${ATRIUM_ENCRYPTION_KEY"))
    dep = svc.get("depends_on") or {}
    check(n + ": starts after postgres is healthy",
          isinstance(dep, dict) and (dep.get("postgres") or {}).get("condition") == "service_healthy")

# Every file the compose file names exists (an env file: its .example, and
# the real one is kept out of git).
for n in atriums:
    b = services[n].get("build") or {}
    ctx = rel(b.get("context", "."))
    dockerfile = os.path.join(ctx, b.get("dockerfile", "Dockerfile"))
    check(n + ": builds " + dockerfile + " with the repository root as context",
          os.path.isfile(dockerfile) and os.path.samefile(ctx, ".") and dockerfile.endswith("deploy/Dockerfile"))
    for e in services[n].get("env_file") or []:
        p = rel(e["path"] if isinstance(e, dict) else e)
        ignored = subprocess.run(["git", "check-ignore", "-q", p]).returncode == 0 or not os.path.exists(".git")
        check(n + ": env file " + p + " has " + p + ".example and is ignored by git",
              os.path.isfile(p + ".example") and ignored)
mounts = [str(v).split(":") for v in nginx.get("volumes", [])]
conf = [rel(m[0]) for m in mounts if len(m) >= 2 and m[1] == "/etc/nginx/nginx.conf"]
check("nginx runs nginx:stable with deploy/nginx.conf as its nginx.conf",
      str(nginx.get("image", "")) == "nginx:stable" and conf == ["deploy/nginx.conf"] and os.path.isfile(conf[0]))
text = open(conf[0]).read() if conf and os.path.isfile(conf[0]) else ""
text = re.sub(r"#[^\n]*", "", text)

# nginx balances exactly the two instances, on the port they listen on.
ports = {str(env_of(services[n]).get("ATRIUM_LISTEN", "")).rpartition(":")[2] for n in atriums}
up = re.search(r"upstream\s+(\w+)\s*\{([^}]*)\}", text)
servers = re.findall(r"^\s*server\s+([^\s;]+)", up.group(2), re.M) if up else []
check("nginx's upstream is " + " and ".join(a + ":" + "/".join(ports) for a in atriums) + ", least_conn",
      len(ports) == 1 and sorted(servers) == sorted(a + ":" + p for a in atriums for p in ports)
      and re.search(r"^\s*least_conn\s*;", up.group(2), re.M) is not None, "servers: %s" % servers)
check("nginx proxies to that upstream", up is not None and "proxy_pass http://%s;" % up.group(1) in text)
listen = re.findall(r"^\s*listen\s+(\d+)\s*;", text, re.M)
published = [str(p).split(":")[-2:] for p in nginx.get("ports", [])]
check("nginx is published on port 8080, the port it listens on",
      any(h == "8080" and c in listen for h, c in published), "listen %s, ports %s" % (listen, published))

# WebSocket and SSE: the routes' prefix gets the Upgrade headers, no buffering
# and a long read timeout.
core = open("src/core/core.c").read()
streams = re.findall(r'"(/api/v1/realtime/\w+)", realtime_(?:ws|sse)', core)
locs = dict(re.findall(r"location\s+([^\s{]+)\s*\{([^}]*)\}", text))
rt = [(p, body) for p, body in locs.items() if streams and all(s.startswith(p) for s in streams) and p != "/"]
body = rt[0][1] if rt else ""
timeout = re.search(r"proxy_read_timeout\s+(\d+)([smhd]?)\s*;", body)
secs = int(timeout.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[timeout.group(2)] if timeout else 0
check("nginx has a location for " + " and ".join(streams), len(streams) == 2 and len(rt) == 1)
check("that location passes WebSocket upgrades",
      re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade\s*;", body) is not None
      and re.search(r"proxy_set_header\s+Connection\s+(\"?upgrade\"?|\$\w+)\s*;", body) is not None
      and re.search(r"map\s+\$http_upgrade\s+\$\w+\s*\{[^}]*default\s+upgrade\s*;", text) is not None)
check("that location streams SSE: proxy_buffering off, read timeout of an hour or more",
      re.search(r"proxy_buffering\s+off\s*;", body) is not None and secs >= 3600)
check("every proxying location sets X-Forwarded-For",
      all("proxy_set_header X-Forwarded-For" in re.sub(r"\s+", " ", b)
          for b in locs.values() if "proxy_pass" in b) and any("proxy_pass" in b for b in locs.values()))

# The instances believe X-Forwarded-For only from nginx's fixed address.
nginx_ip = [(v or {}).get("ipv4_address") for v in (nginx.get("networks") or {}).values()
            if isinstance(nginx.get("networks"), dict)]
for n in atriums:
    check(n + ": ATRIUM_TRUSTED_PROXIES is nginx's fixed address",
          nginx_ip and nginx_ip[0] and env_of(services[n]).get("ATRIUM_TRUSTED_PROXIES") == nginx_ip[0],
          "nginx %s, trusted %s" % (nginx_ip, env_of(services[n]).get("ATRIUM_TRUSTED_PROXIES")))

# The image's health check probes a route the server has.
hc = re.search(r"HEALTHCHECK.*?https?://[^/\s]+(/[\w/]*)", open("deploy/Dockerfile").read(), re.S)
check("deploy/Dockerfile's HEALTHCHECK probes a public route of src/core/core.c",
      hc is not None and re.search(r'\{"GET", "%s", \w+, PERM_PUBLIC' % re.escape(hc.group(1)), core) is not None)
sys.exit(1 if failed else 0)
EOF

# nginx -t on a copy whose upstream hosts are loopback (no compose DNS here).
if command -v nginx >/dev/null; then
    mkdir -p "$WORK/nginx/logs"
    sed -E 's/^([[:space:]]*server[[:space:]]+)atrium-[ab]:/\1127.0.0.1:/' deploy/nginx.conf >"$WORK/nginx/nginx.conf"
    if out=$(nginx -t -q -p "$WORK/nginx/" -c "$WORK/nginx/nginx.conf" \
                 -e "$WORK/nginx/logs/error.log" -g "pid $WORK/nginx/nginx.pid;" 2>&1); then
        ok "nginx -t accepts deploy/nginx.conf"
    else
        not_ok "nginx -t accepts deploy/nginx.conf"
        printf '%s\n' "$out" | sed 's/^/#   /'
    fi
else
    ok "nginx -t accepts deploy/nginx.conf # SKIP nginx is not installed"
fi

check "deploy/.env.example has only placeholders for secrets" env_no_secrets deploy/.env.example
finish
