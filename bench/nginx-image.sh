#!/usr/bin/env bash
# The proxy benchmark's app image, built locally FROM scratch (nothing is pulled):
# the machine's nginx binary with the libraries `ldd` lists, answering `200 ok\n`
# to any path on 127.0.0.1:<port>. The app runs on the host network (no
# docker-proxy hop), so the port is fixed in the image's nginx.conf.
#
#   bash bench/nginx-image.sh <port> [image]     (default image berth-bench/nginx:latest)
#
# Prints the image name. Like scripts/build-test-images.sh, the image carries a
# content hash (this script, the config, the binaries) and is rebuilt only when
# that changes. One nginx worker (`worker_processes 1`), as the backend has always
# been in this benchmark.
set -euo pipefail
shopt -s inherit_errexit

PORT=${1:?usage: nginx-image.sh <port> [image]}
IMAGE=${2:-berth-bench/nginx:latest}
HASH_LABEL=berth.bench.content-hash
export DOCKER_BUILDKIT=0 # the classic builder is in every engine; buildx may be absent

say() { echo "nginx-image: $*" >&2; }
die() { say "$*"; exit 1; }

[[ $PORT =~ ^[0-9]+$ ]] && ((PORT > 0 && PORT < 65536)) || die "bad port '$PORT'"
NGINX=$(command -v nginx || true)
[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
[[ -n $NGINX ]] || die "no nginx binary (apt-get install nginx-light)"
NGINX=$(readlink -f "$NGINX")

nginx_conf() {
  cat <<EOF
worker_processes 1;
daemon off;
pid /tmp/nginx.pid;
error_log stderr warn;
events { worker_connections 8192; multi_accept on; }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 10000000;
  keepalive_timeout 65s;
  client_body_temp_path /tmp/body;
  proxy_temp_path /tmp/proxy;
  fastcgi_temp_path /tmp/fastcgi;
  uwsgi_temp_path /tmp/uwsgi;
  scgi_temp_path /tmp/scgi;
  server {
    listen 127.0.0.1:$PORT;
    location / { return 200 "ok\n"; }
  }
}
EOF
}

dockerfile() {
  cat <<'EOF'
FROM scratch
COPY rootfs/ /
ENTRYPOINT ["/usr/sbin/nginx", "-c", "/etc/nginx/nginx.conf", "-p", "/tmp/", "-e", "stderr"]
EOF
}

# The loader and shared objects nginx needs, as the absolute paths ldd prints.
libs() {
  local out
  out=$(ldd "$NGINX")
  ! grep -q 'not found' <<<"$out" || die "ldd $NGINX: a library is missing"
  awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' <<<"$out" | sort -u
}

mapfile -t LIBS < <(libs)
hash=$({
  sha256sum <"${BASH_SOURCE[0]}"
  nginx_conf
  dockerfile
  for f in "$NGINX" "${LIBS[@]}"; do echo "$f $(sha256sum <"$(readlink -f "$f")")"; done
} | sha256sum | cut -d' ' -f1)

if [[ $(docker image inspect --format "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$IMAGE" 2>/dev/null || true) == "$hash" ]]; then
  say "$IMAGE is up to date (port $PORT)"
  echo "$IMAGE"
  exit 0
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-nginx.XXXXXX")
trap 'rm -rf "$dir"' EXIT
root=$dir/rootfs
mkdir -p "$root/usr/sbin" "$root/etc/nginx" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$NGINX" "$root/usr/sbin/nginx"
for lib in "${LIBS[@]}"; do
  mkdir -p "$root$(dirname "$lib")"
  cp "$(readlink -f "$lib")" "$root$lib"
done
nginx_conf >"$root/etc/nginx/nginx.conf"
# The master runs as root and drops its worker to nobody (glibc reads these files itself).
printf 'root:x:0:0:root:/:/nonexistent\nnobody:x:65534:65534:nobody:/nonexistent:/nonexistent\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
dockerfile >"$dir/Dockerfile"
old_id=$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
docker build --label "$HASH_LABEL=$hash" --label berth.bench=true -t "$IMAGE" "$dir" >"$dir/build.log" 2>&1 ||
  { cat "$dir/build.log" >&2; die "building $IMAGE failed"; }
new_id=$(docker image inspect --format '{{.Id}}' "$IMAGE")
[[ -n $old_id && $old_id != "$new_id" ]] && { docker image rm "$old_id" >/dev/null 2>&1 || true; }
say "built $IMAGE (nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'), 127.0.0.1:$PORT)"
echo "$IMAGE"
