package compute

import (
	"bytes"
	"fmt"
	"text/template"
)

// bootArgs fills the boot script.
type bootArgs struct {
	Box         bool   // run PostgreSQL on the box's data volume
	VolumeID    string // the data volume (box only)
	ParamPrefix string // where the app reads its settings
	LogPrefix   string // log group prefix, /llama/<stack>
	SlowQueryMs int    // the box's log_min_duration_statement
}

// bootScript prepares an Amazon Linux 2023 instance: nginx answers /health and serves the
// static files (on the box) or proxies to the app; the CloudWatch agent ships nginx's JSON
// access log (request rate, latency, errors) and, on the box, PostgreSQL's log (slow
// statements, lock waits, connections). The app reads endpoints and credentials' locations from
// SSM parameters under ParamPrefix, so a promotion that adds a database or a cache changes
// parameters, never this script.
var bootScript = template.Must(template.New("boot").Parse(`#!/bin/bash
set -euo pipefail
dnf install -y nginx amazon-cloudwatch-agent{{if .Box}} postgresql16-server{{end}}
{{- if .Box}}

# PostgreSQL lives on its own encrypted, retained EBS volume.
vol="{{.VolumeID}}"; dev="/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${vol//-/}"
for i in $(seq 1 60); do [ -e "$dev" ] && break; sleep 2; done
blkid "$dev" || mkfs -t xfs "$dev"
mkdir -p /var/lib/pgsql
grep -q "$dev" /etc/fstab || echo "$dev /var/lib/pgsql xfs defaults,nofail 0 2" >> /etc/fstab
mount -a && chown postgres:postgres /var/lib/pgsql
[ -f /var/lib/pgsql/data/PG_VERSION ] || postgresql-setup --initdb
cat >> /var/lib/pgsql/data/postgresql.conf <<'PG'
listen_addresses = 'localhost'
log_min_duration_statement = {{.SlowQueryMs}}
log_lock_waits = on
log_connections = on
ssl = off
PG
systemctl enable --now postgresql
{{- end}}

cat > /etc/nginx/conf.d/llama.conf <<'NGINX'
log_format llama_json escape=json '{"time":"$time_iso8601","status":$status,"request_time":$request_time,"bytes":$body_bytes_sent,"uri":"$uri"}';
# conf.d is included before nginx.conf's own server block, so this one answers first on port 80;
# a second default_server on the port would stop nginx from starting.
server {
  listen 80;
  server_name _;
  access_log /var/log/nginx/llama.json llama_json;
  location = /health { return 200 "ok\n"; }
  location /static/ { root /srv/llama; }
  location / { proxy_pass http://127.0.0.1:8080; }
}
NGINX
mkdir -p /srv/llama/static
systemctl enable --now nginx

cat > /opt/aws/amazon-cloudwatch-agent/etc/llama.json <<'CWA'
{"logs":{"logs_collected":{"files":{"collect_list":[
  {"file_path":"/var/log/nginx/llama.json","log_group_name":"{{.LogPrefix}}/nginx","log_stream_name":"{instance_id}"}{{if .Box}},
  {"file_path":"/var/lib/pgsql/data/log/*.log","log_group_name":"{{.LogPrefix}}/postgresql","log_stream_name":"{instance_id}"}{{end}}
]}}},
 "metrics":{"append_dimensions":{"InstanceId":"${aws:InstanceId}"},"metrics_collected":{"mem":{"measurement":["mem_used_percent"]},"disk":{"measurement":["used_percent"],"resources":["/"{{if .Box}},"/var/lib/pgsql"{{end}}]}}}}
CWA
/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/llama.json
echo "LLAMA_PARAMS={{.ParamPrefix}}" > /etc/llama.env
`))

func boot(a bootArgs) (string, error) {
	var b bytes.Buffer
	if err := bootScript.Execute(&b, a); err != nil {
		return "", fmt.Errorf("rendering the boot script: %w", err)
	}
	return b.String(), nil
}
