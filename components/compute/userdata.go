package compute

import (
	"bytes"
	"fmt"
	"text/template"

	"github.com/llama-stages/llama/contract"
)

// bootArgs fills the boot script.
type bootArgs struct {
	Box         bool   // run PostgreSQL on the box's data volume and deploy new builds as published
	VolumeID    string // the data volume (box only)
	DBSecretArn string // the box's PostgreSQL credentials (box only)
	ParamPrefix string // where the app reads its settings
	LogPrefix   string // log group prefix, /llama/<stack>/box
	Region      string
	SlowQueryMs int // the box's log_min_duration_statement
	// Release is the build the fleet's instances run (the launch template carries it, so a
	// new build rolls the fleet); the box follows the app/release parameters instead.
	Release *releaseRef
	// Keys are the parameters the script reads, by their names in package contract.
	Keys bootKeys
}

// bootKeys are the parameter names the box's script reads.
type bootKeys struct{ DBPrimaryEndpoint, ReleaseBucket, ReleaseKey, ReleaseSHA256 string }

// releaseRef is one build of the app in the release bucket.
type releaseRef struct{ Bucket, Key, SHA256 string }

// bootScript prepares an Amazon Linux 2023 instance. The app runs under systemd as the
// unprivileged user llama on 127.0.0.1:8080, restarted on failure, its log shipped to
// CloudWatch; nginx listens on port 80 and proxies to it, /health included, so the load
// balancer's health check is the app's own. The box serves HTTPS too once it has a certificate
// for the stack's hostname (llama-app tls, on a timer). llama-deploy installs a build from the release
// bucket after checking its digest. The app reads endpoints and where credentials live from the
// SSM parameters under ParamPrefix, so a promotion changes parameters, never this script.
//
// On the box, PostgreSQL lives on its own encrypted, retained EBS volume and is published like
// every later rung's database (a local endpoint and a secret), and a timer deploys each build
// the stack publishes under app/release/.
var bootScript = template.Must(template.New("boot").Parse(`#!/bin/bash
set -euo pipefail
dnf install -y nginx amazon-cloudwatch-agent logrotate{{if .Box}} postgresql16-server{{end}}
{{- if .Box}}

# PostgreSQL lives on its own encrypted, retained EBS volume.
vol="{{.VolumeID}}"; dev="/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${vol//-/}"
for i in $(seq 1 60); do [ -e "$dev" ] && break; sleep 2; done
blkid "$dev" || mkfs -t xfs "$dev"
mkdir -p /var/lib/pgsql
grep -q "$dev" /etc/fstab || echo "$dev /var/lib/pgsql xfs defaults,nofail 0 2" >> /etc/fstab
mount -a && chown postgres:postgres /var/lib/pgsql
[ -f /var/lib/pgsql/data/PG_VERSION ] || postgresql-setup --initdb
cat > /var/lib/pgsql/data/conf.d-llama.conf <<'PG'
listen_addresses = 'localhost'
password_encryption = 'scram-sha-256'
log_min_duration_statement = {{.SlowQueryMs}}
log_lock_waits = on
log_connections = on
logging_collector = on
log_directory = 'log'
log_filename = 'postgresql-%a.log'
log_truncate_on_rotation = on
log_rotation_age = 1d
ssl = off
PG
grep -q "conf.d-llama.conf" /var/lib/pgsql/data/postgresql.conf || echo "include 'conf.d-llama.conf'" >> /var/lib/pgsql/data/postgresql.conf
cat > /var/lib/pgsql/data/pg_hba.conf <<'HBA'
local all   postgres               peer
host  llama llama    127.0.0.1/32  scram-sha-256
host  llama llama    ::1/128       scram-sha-256
HBA
chown postgres:postgres /var/lib/pgsql/data/conf.d-llama.conf /var/lib/pgsql/data/pg_hba.conf
systemctl enable --now postgresql
# The app signs in as llama with the password kept in Secrets Manager ({{.DBSecretArn}}). The
# secret's value and the role's right to read it may reach IAM and Secrets Manager moments
# after the instance boots, and cloud-init runs this once: retry with backoff, for ten minutes.
pw=""
for wait in 2 4 8 16 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30; do
  pw=$(aws secretsmanager get-secret-value --region {{.Region}} --secret-id "{{.DBSecretArn}}" --query SecretString --output text 2>/dev/null \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["password"])' 2>/dev/null) && [ -n "$pw" ] && break
  sleep "$wait"
done
[ -n "$pw" ] || { echo "llama boot: the database secret {{.DBSecretArn}} could not be read" >&2; exit 1; }
sudo -u postgres psql -v ON_ERROR_STOP=1 -v pw="$pw" <<'SQL'
SELECT format('CREATE ROLE llama LOGIN PASSWORD %L', :'pw') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'llama') \gexec
SELECT format('ALTER ROLE llama PASSWORD %L', :'pw') \gexec
SELECT 'CREATE DATABASE llama OWNER llama' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'llama') \gexec
SQL
unset pw
{{- end}}

# The app: an unprivileged user, a unit restarted on failure, a log the agent ships.
id llama >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin llama
install -d -o llama -g llama -m 0750 /var/log/llama
install -d -m 0755 /opt/llama/bin
cat > /etc/llama.env <<'ENV'
LLAMA_PARAMS={{.ParamPrefix}}
LLAMA_ADDR=127.0.0.1:8080
AWS_REGION={{.Region}}
ENV
cat > /etc/systemd/system/llama-app.service <<'UNIT'
[Unit]
Description=Llama app
After=network-online.target{{if .Box}} postgresql.service{{end}}
Wants=network-online.target
ConditionPathExists=/opt/llama/bin/llama-app

[Service]
User=llama
Group=llama
EnvironmentFile=/etc/llama.env
ExecStart=/opt/llama/bin/llama-app
Restart=on-failure
RestartSec=2
StandardOutput=append:/var/log/llama/app.log
StandardError=append:/var/log/llama/app.log
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
ReadWritePaths=/var/log/llama

[Install]
WantedBy=multi-user.target
UNIT
cat > /usr/local/bin/llama-deploy <<'SH'
#!/bin/bash
# llama-deploy BUCKET KEY SHA256: install that build of the app and restart it, unless it runs.
set -euo pipefail
bucket=$1 key=$2 sum=$3
[ "$(cat /opt/llama/release 2>/dev/null || true)" = "$sum" ] && exit 0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
aws s3 cp --only-show-errors "s3://$bucket/$key" "$tmp"
echo "$sum  $tmp" | sha256sum --check --status || { echo "llama-deploy: s3://$bucket/$key is not $sum" >&2; exit 1; }
install -m 0755 "$tmp" /opt/llama/bin/llama-app
echo "$sum" > /opt/llama/release
systemctl restart llama-app
SH
chmod 0755 /usr/local/bin/llama-deploy
systemctl daemon-reload
systemctl enable llama-app
{{- if .Box}}

# The box deploys each build the stack publishes: pulumi up updates app/release/, this timer
# installs it within a minute and restarts the service.
cat > /usr/local/bin/llama-release <<'SH'
#!/bin/bash
set -euo pipefail
p={{.ParamPrefix}}
get() { aws ssm get-parameter --region {{.Region}} --name "$p/$1" --query Parameter.Value --output text; }
# Once the stack publishes another database (separate-db on), the box runs none: its data
# stays on the retained volume.
if [ "$(get {{.Keys.DBPrimaryEndpoint}})" != "127.0.0.1" ] && systemctl is-enabled --quiet postgresql; then
  systemctl disable --now postgresql
fi
exec /usr/local/bin/llama-deploy "$(get {{.Keys.ReleaseBucket}})" "$(get {{.Keys.ReleaseKey}})" "$(get {{.Keys.ReleaseSHA256}})"
SH
chmod 0755 /usr/local/bin/llama-release
cat > /etc/systemd/system/llama-release.service <<'UNIT'
[Unit]
Description=Deploy the Llama app build the stack published
[Service]
Type=oneshot
ExecStart=/usr/local/bin/llama-release
UNIT
cat > /etc/systemd/system/llama-release.timer <<'UNIT'
[Unit]
Description=Check for a new Llama app build every minute
[Timer]
OnBootSec=15s
OnUnitActiveSec=1min
[Install]
WantedBy=timers.target
UNIT
systemctl daemon-reload
systemctl enable --now llama-release.timer
{{- else}}

# This instance runs the build its launch template names: a new build is a new template
# version, and the group's instance refresh replaces the instances.
/usr/local/bin/llama-deploy "{{.Release.Bucket}}" "{{.Release.Key}}" "{{.Release.SHA256}}"
{{- end}}

cat > /etc/nginx/conf.d/llama.conf <<'NGINX'
log_format llama_json escape=json '{"time":"$time_iso8601","status":$status,"request_time":$request_time,"bytes":$body_bytes_sent,"uri":"$uri"}';
# conf.d is included before nginx.conf's own server block, so this one answers first on port 80;
# a second default_server on the port would stop nginx from starting.
server {
  listen 80;
  server_name _;
  access_log /var/log/nginx/llama.json llama_json;
  client_max_body_size 64k;
{{- if .Box}}
  # HTTPS: once the box has a certificate for the stack's hostname, llama-app tls writes
  # llama.d/tls.conf (a listener on 443, and $llama_https on), and plain HTTP redirects to it.
  # Until then the box serves HTTP, so a hostname that does not resolve yet still works.
  set $llama_https "";
  include /etc/nginx/llama.d/*.conf;
  set $llama_redirect "${llama_https}${scheme}";
  location /.well-known/acme-challenge/ { root /var/lib/llama-acme; default_type text/plain; }
  location /static/ {
    if ($llama_redirect = "onhttp") { return 301 https://$host$request_uri; }
    root /srv/llama;
  }
{{- end}}
  # /health/live included: the load balancer checks the app itself, not nginx.
  location / {
{{- if .Box}}
    if ($llama_redirect = "onhttp") { return 301 https://$host$request_uri; }
{{- end}}
    proxy_pass http://127.0.0.1:8080;
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
  }
}
NGINX
mkdir -p /srv/llama/static
{{- if .Box}}
install -d -m 0755 /etc/nginx/llama.d /var/lib/llama-acme
{{- end}}
systemctl enable --now nginx
{{- if .Box}}

# The box's certificate, where the stack publishes a hostname (tls/domain): llama-app tls
# obtains it from the CA the stack names over HTTP-01, keeps it and its key on the data volume
# (root only), renews it in the last third of its life, and turns HTTPS on. Hourly, so that a
# hostname that resolves late is served within the hour; a run with a good certificate asks
# the CA nothing.
cat > /etc/systemd/system/llama-tls.service <<'UNIT'
[Unit]
Description=Keep the box's TLS certificate for the stack's hostname
After=network-online.target nginx.service
Wants=network-online.target
ConditionPathExists=/opt/llama/bin/llama-app
[Service]
Type=oneshot
EnvironmentFile=/etc/llama.env
ExecStart=/opt/llama/bin/llama-app tls
NoNewPrivileges=yes
ProtectSystem=true
ProtectHome=yes
PrivateTmp=yes
UNIT
cat > /etc/systemd/system/llama-tls.timer <<'UNIT'
[Unit]
Description=Check the box's TLS certificate every hour
[Timer]
OnBootSec=1min
OnUnitActiveSec=1h
RandomizedDelaySec=5min
[Install]
WantedBy=timers.target
UNIT
systemctl daemon-reload
systemctl enable --now llama-tls.timer
{{- end}}

# Logs rotate daily and past 100 MB, seven kept: a full root volume stops the box. The agent
# follows the files across rotation (copytruncate keeps nginx's and the app's handles valid).
cat > /etc/logrotate.d/llama <<'ROT'
/var/log/nginx/llama.json /var/log/llama/app.log {
  daily
  maxsize 100M
  rotate 7
  compress
  delaycompress
  missingok
  notifempty
  copytruncate
}
ROT

cat > /opt/aws/amazon-cloudwatch-agent/etc/llama.json <<'CWA'
{"logs":{"logs_collected":{"files":{"collect_list":[
  {"file_path":"/var/log/nginx/llama.json","log_group_name":"{{.LogPrefix}}/nginx","log_stream_name":"{instance_id}"},
  {"file_path":"/var/log/llama/app.log","log_group_name":"{{.LogPrefix}}/app","log_stream_name":"{instance_id}"}{{if .Box}},
  {"file_path":"/var/lib/pgsql/data/log/postgresql-*.log","log_group_name":"{{.LogPrefix}}/postgresql","log_stream_name":"{instance_id}"}{{end}}
]}}},
 "metrics":{"append_dimensions":{"InstanceId":"${aws:InstanceId}"},"metrics_collected":{"mem":{"measurement":["mem_used_percent"]},"disk":{"measurement":["used_percent"],"resources":["/"{{if .Box}},"/var/lib/pgsql"{{end}}]}}}}
CWA
/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/llama.json
`))

// AgentMetrics is how many custom metrics the CloudWatch agent the boot script configures
// publishes for one instance: memory used, and the used share of each disk it watches (the
// root, and the box's data volume). CloudWatch bills each as a custom metric.
func AgentMetrics(box bool) int {
	if box {
		return 3
	}
	return 2
}

func boot(a bootArgs) (string, error) {
	if !a.Box && a.Release == nil {
		return "", fmt.Errorf("boot script: a fleet instance needs the release it runs")
	}
	a.Keys = bootKeys{DBPrimaryEndpoint: contract.DBPrimaryEndpoint, ReleaseBucket: contract.AppReleaseBucket,
		ReleaseKey: contract.AppReleaseKey, ReleaseSHA256: contract.AppReleaseSHA256}
	var b bytes.Buffer
	if err := bootScript.Execute(&b, a); err != nil {
		return "", fmt.Errorf("rendering the boot script: %w", err)
	}
	return b.String(), nil
}
