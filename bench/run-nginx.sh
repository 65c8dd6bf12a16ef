# nginx configurations of bench/run.sh (sourced by it): the backend and the proxy in front of it.

nginx_common() { # the parts of an nginx config both instances share
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

write_backend_conf() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  {
    nginx_common "$dir"
    echo "http {"
    nginx_http_common "$dir"
    cat <<EOF
  server {
    listen 127.0.0.1:$port;
    location / { return 200 "ok\n"; }
  }
}
EOF
  } >"$dir/nginx.conf"
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
