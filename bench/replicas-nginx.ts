/** The nginx that the replicas benchmark sets against berth: one worker, an upstream of the very same replica ports. */
import { PREFIX } from './replicas-options.js';

/** nginx.conf for `dir`, listening on 127.0.0.1:`port`, balancing `ports` (least_conn or round-robin; keepalive 64). */
export function nginxConf(dir: string, port: number, balance: 'least-connections' | 'round-robin', ports: readonly number[]): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 8192; multi_accept on; }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 10000000;
  keepalive_timeout 65s;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream replicas {
${balance === 'least-connections' ? '    least_conn;\n' : ''}${ports.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
    keepalive 64;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:${port};
    location ${PREFIX} {
      proxy_pass http://replicas/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
    }
  }
}
`;
}
