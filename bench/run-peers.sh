# The peers' configurations for bench/run.sh (sourced by it): nginx and HAProxy as reverse
# proxies to the app container at 127.0.0.1:<backend>, each on one core, keep-alive upstream,
# setting X-Forwarded-* like berth. (The backend itself is bench/nginx-image.sh.)

nginx_common() { # the main context of the nginx proxy's config
  local dir=$1
  cat <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 8192; multi_accept on; }
EOF
}

nginx_http_common() {
  local dir=$1
  cat <<EOF
  access_log off;
  default_type text/plain;
  keepalive_requests 10000000;
  keepalive_timeout 65s;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
EOF
}

write_nginx_proxy_conf() {
  local dir=$1 port=$2 backend=$3
  mkdir -p "$dir"
  {
    nginx_common "$dir"
    echo "http {"
    nginx_http_common "$dir"
    cat <<EOF
  upstream backend {
    server 127.0.0.1:$backend;
    keepalive 128;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$http_host;
    }
  }
}
EOF
  } >"$dir/nginx.conf"
}

# make_tls_cert <dir>: the HTTPS rows' certificate (self-signed P-256, for localhost), shared
# by nginx-tls and berth-serve-tls: TLS_CERT and TLS_KEY. The TLS rows' URLs name localhost
# (SNI), which must resolve to 127.0.0.1 where the listeners are.
make_tls_cert() {
  local dir=$1
  mkdir -p "$dir"
  TLS_CERT=$dir/cert.pem
  TLS_KEY=$dir/key.pem
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost -keyout "$TLS_KEY" -out "$TLS_CERT" 2>/dev/null || die "openssl could not make the TLS rows' certificate"
  [[ $(getent ahosts localhost | awk 'NR == 1 {print $1}') == 127.0.0.1 ]] || die "localhost does not resolve to 127.0.0.1 first: the TLS rows need it to"
}

# nginx over TLS: the proxy config above with `ssl` on its listener, TLS 1.2/1.3 and a session cache.
write_nginx_tls_conf() {
  local dir=$1 port=$2 backend=$3
  write_nginx_proxy_conf "$dir" "$port" "$backend"
  sed -i "s|    listen 127.0.0.1:$port;|    listen 127.0.0.1:$port ssl;\n    ssl_certificate $TLS_CERT;\n    ssl_certificate_key $TLS_KEY;\n    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_session_cache shared:TLS:10m;|" "$dir/nginx.conf"
}

# One thread (nbthread 1), in the foreground (haproxy -db), no logging; connections to the
# backend are kept alive and shared between clients (http-reuse always), like nginx's
# keepalive pool and berth's own upstream pools (src/proxy/http1/upstream-pool.ts).
write_haproxy_conf() {
  local dir=$1 port=$2 backend=$3
  mkdir -p "$dir"
  cat >"$dir/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 10s
  timeout client 65s
  timeout server 65s
  timeout http-keep-alive 65s
  http-reuse always
frontend bench
  bind 127.0.0.1:$port
  option forwardfor
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  default_backend app
backend app
  server app 127.0.0.1:$backend
EOF
}
