{{/* Names */}}
{{- define "twinteller.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "twinteller.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "twinteller.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels: include with (dict "ctx" $ "component" "router") */}}
{{- define "twinteller.selectorLabels" -}}
app.kubernetes.io/name: {{ include "twinteller.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "twinteller.labels" -}}
helm.sh/chart: {{ include "twinteller.chart" .ctx }}
{{ include "twinteller.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: twinteller
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- end -}}

{{- define "twinteller.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "twinteller.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "twinteller.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Triton model: `python -m trainer.training` builds it under this name. */}}
{{- define "twinteller.modelName" -}}intent{{- end -}}

{{/* Service names */}}
{{- define "twinteller.routerService" -}}{{ include "twinteller.fullname" . }}-router{{- end -}}
{{- define "twinteller.routerHeadless" -}}{{ include "twinteller.fullname" . }}-router-headless{{- end -}}
{{- define "twinteller.etcdName" -}}{{ include "twinteller.fullname" . }}-etcd{{- end -}}
{{- define "twinteller.etcdPeer" -}}{{ include "twinteller.fullname" . }}-etcd-peer{{- end -}}
{{- define "twinteller.modelClaim" -}}
{{- default (printf "%s-models" (include "twinteller.fullname" .)) .Values.modelVolume.existingClaim -}}
{{- end -}}
{{- define "twinteller.adminSecret" -}}
{{- default (printf "%s-admin-tokens" (include "twinteller.fullname" .)) .Values.adminTokens.existingSecret -}}
{{- end -}}
{{- define "twinteller.hasAdminTokens" -}}
{{- if or .Values.adminTokens.existingSecret .Values.adminTokens.tokens -}}true{{- end -}}
{{- end -}}

{{/* Fully qualified in-cluster names */}}
{{- define "twinteller.svcDomain" -}}
{{- printf "%s.svc.%s" .Release.Namespace .Values.clusterDomain -}}
{{- end -}}

{{/* What every process passes as --etcd: one DNS name resolving to every ready member
(a headless Service), which the store balances over and retries across. */}}
{{- define "twinteller.etcdEndpoints" -}}
{{- if .Values.etcd.enabled -}}
{{- printf "%s.%s:2379" (include "twinteller.etcdName" .) (include "twinteller.svcDomain" .) -}}
{{- else -}}
{{- required "etcd.external is required when etcd.enabled is false" .Values.etcd.external -}}
{{- end -}}
{{- end -}}

{{/* Every router, for in-cluster gRPC clients (console, inspect): a headless Service, so
the client's round_robin channel knows each router and skips a draining one. */}}
{{- define "twinteller.routerTargets" -}}
{{- printf "%s.%s:%d" (include "twinteller.routerHeadless" .) (include "twinteller.svcDomain" .) (int .Values.router.grpcPort) -}}
{{- end -}}

{{/* etcd's URLs: https with TLS (clients and peers), http without. */}}
{{- define "twinteller.etcdScheme" -}}
{{- if .Values.tls.enabled -}}https{{- else -}}http{{- end -}}
{{- end -}}

{{/* The etcd StatefulSets: one of `etcd.replicas` members, or with `etcd.sites` one per
site (pinned to its zone) and one for the witness. A list of {name, site, zone, members}. */}}
{{- define "twinteller.etcdSets" -}}
{{- $name := include "twinteller.etcdName" . -}}
{{- $e := .Values.etcd -}}
{{- $sets := list -}}
{{- if $e.sites -}}
{{- range $e.sites -}}
{{- $sets = append $sets (dict "name" (printf "%s-%s" $name .name) "site" .name "zone" .zone "members" (int .members)) -}}
{{- end -}}
{{- if $e.witness.enabled -}}
{{- $sets = append $sets (dict "name" (printf "%s-witness" $name) "site" "witness" "zone" $e.witness.zone "members" 1) -}}
{{- end -}}
{{- else -}}
{{- $sets = append $sets (dict "name" $name "site" "" "zone" "" "members" (int $e.replicas)) -}}
{{- end -}}
{{- toJson $sets -}}
{{- end -}}

{{/* How many etcd members there are in all. */}}
{{- define "twinteller.etcdMemberCount" -}}
{{- $total := 0 -}}
{{- range (include "twinteller.etcdSets" . | fromJsonArray) -}}
{{- $total = add $total (int .members) -}}
{{- end -}}
{{- $total -}}
{{- end -}}

{{/* The stable DNS name of each etcd member (StatefulSet pod behind the peer Service). */}}
{{- define "twinteller.etcdMembers" -}}
{{- $peer := include "twinteller.etcdPeer" . -}}
{{- $domain := include "twinteller.svcDomain" . -}}
{{- $members := list -}}
{{- range $set := (include "twinteller.etcdSets" . | fromJsonArray) -}}
{{- range $i := until (int $set.members) -}}
{{- $members = append $members (printf "%s-%d.%s.%s" $set.name $i $peer $domain) -}}
{{- end -}}
{{- end -}}
{{- join "," $members -}}
{{- end -}}

{{- define "twinteller.etcdInitialCluster" -}}
{{- $scheme := include "twinteller.etcdScheme" . -}}
{{- $members := list -}}
{{- range $host := splitList "," (include "twinteller.etcdMembers" .) -}}
{{- $members = append $members (printf "%s=%s://%s:2380" (index (splitList "." $host) 0) $scheme $host) -}}
{{- end -}}
{{- join "," $members -}}
{{- end -}}

{{/* TWINTELLER_* variables from a settings map (flag names without dashes). */}}
{{- define "twinteller.settingsEnv" -}}
{{- range $key, $value := . }}
{{ printf "TWINTELLER_%s" (upper $key) }}: {{ include "twinteller.scalar" $value | quote }}
{{- end -}}
{{- end -}}

{{/* A value as the flag parser reads it: whole numbers without an exponent or ".0"
(values arrive as float64, and 10485760 would print as 1.048576e+07). */}}
{{- define "twinteller.scalar" -}}
{{- if and (kindIs "float64" .) (eq . (float64 (int64 .))) -}}
{{- int64 . -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{- define "twinteller.otelEnv" -}}
{{- if .Values.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.otel.endpoint | quote }}
{{- end }}
{{- end -}}

{{/* The shared model volume */}}
{{- define "twinteller.modelVolume" -}}
- name: models
  persistentVolumeClaim:
    claimName: {{ include "twinteller.modelClaim" . }}
{{- end -}}

{{/* Where the image holds the project (Dockerfile WORKDIR). */}}
{{- define "twinteller.appDir" -}}/app{{- end -}}

{{/* An init container that waits until the seed model is in the volume (pass the root
context). The trainer's bootstrap-model init container builds it. It mounts the whole volume,
not the subdirectory: a subPath that does not exist yet would be created by the kubelet, as
root, where the trainer could not write. */}}
{{- define "twinteller.waitForModel" -}}
{{- $model := include "twinteller.modelName" . -}}
{{- $dir := printf "/volume/%s/%s" .Values.modelVolume.modelsSubPath $model -}}
- name: wait-for-model
  image: {{ include "twinteller.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args:
    - sh
    - -c
    - |
      until [ -f {{ $dir }}/1/kb.json ] && [ -f {{ $dir }}/config.pbtxt ]; do
        echo "waiting for the seed model /models/{{ $model }}/1/kb.json (built by the trainer's bootstrap-model init container)"
        sleep 5
      done
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  resources:
    requests:
      cpu: 10m
      memory: 16Mi
    limits:
      memory: 64Mi
  volumeMounts:
    - name: models
      mountPath: /volume
      readOnly: true
{{- end -}}

{{/* The zone names of zones.list, comma-separated (inspect --zones). */}}
{{- define "twinteller.zoneNames" -}}
{{- $names := list -}}
{{- range .Values.zones.list -}}{{- $names = append $names .name -}}{{- end -}}
{{- join "," $names -}}
{{- end -}}

{{/* TLS (values tls; README.md "TLS"). Each component has one Secret (keys ca.crt, tls.crt,
tls.key), mounted read-only at twinteller.tlsDir: router, zone, etcd, and client (trainer,
insights, console, inspect). Include with (dict "ctx" $ "component" "router"). */}}
{{- define "twinteller.tlsDir" -}}/etc/twinteller/tls{{- end -}}
{{- define "twinteller.clientCADir" -}}/etc/twinteller/client-ca{{- end -}}

{{/* The component's Secret: cert-manager's when it issues them, else tls.secrets.<component>
or <fullname>-<component>-tls. */}}
{{- define "twinteller.tlsSecret" -}}
{{- $own := printf "%s-%s-tls" (include "twinteller.fullname" .ctx) .component -}}
{{- if .ctx.Values.tls.certManager.enabled -}}
{{- $own -}}
{{- else -}}
{{- default $own (get .ctx.Values.tls.secrets .component) -}}
{{- end -}}
{{- end -}}

{{/* The router alone takes a client CA for its public API (tls.router.clientCASecret). */}}
{{- define "twinteller.hasClientCA" -}}
{{- if and .ctx.Values.tls.enabled (eq .component "router") .ctx.Values.tls.router.clientCASecret -}}true{{- end -}}
{{- end -}}

{{/* The environment every twinteller process reads its transport from (twinteller/tls.py):
its CA, certificate and key, or TWINTELLER_PLAINTEXT=1 when tls.enabled is false. */}}
{{- define "twinteller.tlsEnv" -}}
{{- $dir := include "twinteller.tlsDir" . -}}
{{- if .ctx.Values.tls.enabled -}}
- name: TWINTELLER_TLS_CA
  value: {{ $dir }}/ca.crt
- name: TWINTELLER_TLS_CERT
  value: {{ $dir }}/tls.crt
- name: TWINTELLER_TLS_KEY
  value: {{ $dir }}/tls.key
{{- if include "twinteller.hasClientCA" . }}
- name: TWINTELLER_TLS_CLIENT_CA
  value: {{ include "twinteller.clientCADir" . }}/ca.crt
{{- end }}
{{- else -}}
- name: TWINTELLER_PLAINTEXT
  value: "1"
{{- end -}}
{{- end -}}

{{- define "twinteller.tlsVolumeMount" -}}
{{- if .ctx.Values.tls.enabled -}}
- name: tls
  mountPath: {{ include "twinteller.tlsDir" . }}
  readOnly: true
{{- if include "twinteller.hasClientCA" . }}
- name: client-ca
  mountPath: {{ include "twinteller.clientCADir" . }}
  readOnly: true
{{- end }}
{{- end -}}
{{- end -}}

{{/* defaultMode 0440 (288): the files belong to root and to the pod's fsGroup (10001, etcd
65532), so the processes (uid 10001 / 65532, not root) read them through the group and
nobody else can; the default 0644 would leave the key world-readable, 0400 root-only. */}}
{{- define "twinteller.tlsVolume" -}}
{{- if .ctx.Values.tls.enabled -}}
- name: tls
  secret:
    secretName: {{ include "twinteller.tlsSecret" . }}
    defaultMode: 288
{{- if include "twinteller.hasClientCA" . }}
- name: client-ca
  secret:
    secretName: {{ .ctx.Values.tls.router.clientCASecret }}
    defaultMode: 288
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- end -}}
{{- end -}}

{{/* A zone's startup and readiness check with TLS (pass the root context): exit 0 only when
Triton, on its gRPC port over mutual TLS, says the model is ready (ModelReady, no version:
what GET /v2/models/<model>/ready asks over HTTP). The zone's own certificate is the
client's; Triton is verified as twinteller-zone (twinteller.tls.triton_arguments). */}}
{{- define "twinteller.zoneReadyCommand" -}}
- python
- -c
- |
  import sys
  import tritonclient.grpc as triton
  from twinteller import tls
  from twinteller.config import transport_from_environment
  client = triton.InferenceServerClient("127.0.0.1:{{ .Values.zones.ports.grpc }}", **tls.triton_arguments(transport_from_environment()))
  sys.exit(0 if client.is_model_ready("{{ include "twinteller.modelName" . }}", client_timeout=3) else 1)
{{- end -}}
