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

# One thread (nbthread 1), in the foreground (haproxy -db), no logging; connections to the
# backend are kept alive and shared between clients (http-reuse always), like nginx's
# keepalive pool and berth's undici pools.
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
