{{/*
The public includes: what a service's chart puts into its pod template. Each works from a parent
chart that depends on authzd (it reads the subchart's values: the parent's `authzd:` merged over
this chart's defaults) and from this chart's own templates.

  metadata:
    annotations:
      {{- include "authzd.podAnnotations" . | nindent 8 }}
  spec:
    containers:                   # or initContainers, with nativeSidecar.enabled
      {{- include "authzd.sidecar" . | nindent 8 }}
      - name: app
        volumeMounts:
          {{- include "authzd.socketVolumeMount" . | nindent 10 }}   # sockets.enabled only
    volumes:
      {{- include "authzd.volumes" . | nindent 8 }}
*/}}

{{/* The sidecar container, as a one-item list. */}}
{{- define "authzd.sidecar" -}}
{{- $out := dict -}}
{{- include "authzd.context" (dict "top" . "out" $out) -}}
{{- include "authzd.validate" $out.ctx -}}
{{- include "authzd.container" (dict "ctx" $out.ctx "native" $out.ctx.Values.nativeSidecar.enabled) -}}
{{- end -}}

{{/* The pod volumes the sidecar mounts, as list items. */}}
{{- define "authzd.volumes" -}}
{{- $out := dict -}}
{{- include "authzd.context" (dict "top" . "out" $out) -}}
{{- include "authzd.podVolumes" $out.ctx | trim -}}
{{- end -}}

{{/* The app container's mount of the socket directory (nothing unless sockets.enabled). */}}
{{- define "authzd.socketVolumeMount" -}}
{{- $out := dict -}}
{{- include "authzd.context" (dict "top" . "out" $out) -}}
{{- with $out.ctx.Values.sockets -}}
{{- if .enabled -}}
- name: authzd-sockets
  mountPath: {{ .mountPath }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Pod annotations: Prometheus scraping, and a checksum of the config file (restarts pods on change). */}}
{{- define "authzd.podAnnotations" -}}
{{- $out := dict -}}
{{- include "authzd.context" (dict "top" . "out" $out) -}}
{{- $ctx := $out.ctx -}}
{{- $annotations := dict -}}
{{- if $ctx.Values.metrics.podAnnotations -}}
{{- $_ := set $annotations "prometheus.io/scrape" "true" -}}
{{- $_ := set $annotations "prometheus.io/port" (toString (int $ctx.Values.diagnostic.port)) -}}
{{- $_ := set $annotations "prometheus.io/path" "/metrics" -}}
{{- end -}}
{{- if include "authzd.hasConfigFile" $ctx -}}
{{- $_ := set $annotations "checksum/authzd-config" (include "authzd.configChecksum" $ctx) -}}
{{- end -}}
{{- if $annotations -}}
{{- toYaml $annotations -}}
{{- else -}}
{}
{{- end -}}
{{- end -}}

{{/*
authzd.container: the container itself. Takes (dict "ctx" <authzd context> "native" <bool>).
Bundle, config and token files are mounted under /etc/authzd, sockets under sockets.mountPath.
*/}}
{{- define "authzd.container" -}}
{{- $ctx := .ctx -}}
{{- $v := $ctx.Values -}}
{{- $b := $v.bundle -}}
{{- $delay := $v.shutdown.delaySeconds -}}
{{- if kindIs "invalid" $delay -}}
{{- if .native }}{{ $delay = 0 }}{{ else }}{{ $delay = 5 }}{{ end -}}
{{- end -}}
- name: {{ $v.containerName }}
  image: {{ include "authzd.image" $ctx | quote }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  {{- if .native }}
  # Native sidecar: started before the app and stopped after it.
  restartPolicy: Always
  {{- end }}
  args:
    - run
    {{- if $b.file }}
    - --bundle={{ $b.name }}=/etc/authzd/bundle/{{ base $b.file }}
    {{- else if $b.files }}
    - --bundle={{ $b.name }}=/etc/authzd/bundle
    {{- else if $b.existingConfigMap.name }}
    {{- if $b.existingConfigMap.key }}
    - --bundle={{ $b.name }}=/etc/authzd/bundle/{{ $b.existingConfigMap.key }}
    {{- else }}
    - --bundle={{ $b.name }}=/etc/authzd/bundle
    {{- end }}
    {{- end }}
    {{- if include "authzd.hasConfigFile" $ctx }}
    - --config-file=/etc/authzd/config/authzd.yaml
    {{- end }}
    {{- if $b.server.persist }}
    - --persistence-dir=/var/lib/authzd
    {{- end }}
    - --addr=127.0.0.1:{{ int $v.http.port }}
    {{- if $v.sockets.enabled }}
    - --addr=unix://{{ $v.sockets.mountPath }}/http.sock
    {{- end }}
    {{- if $v.grpc.enabled }}
    - --grpc-addr=127.0.0.1:{{ int $v.grpc.port }}
    {{- if $v.sockets.enabled }}
    - --grpc-addr=unix://{{ $v.sockets.mountPath }}/grpc.sock
    {{- end }}
    {{- else }}
    - --no-grpc
    {{- end }}
    {{- if $v.sockets.enabled }}
    - --unix-socket-perm={{ $v.sockets.perm }}
    {{- end }}
    - --diagnostic-addr=0.0.0.0:{{ int $v.diagnostic.port }}
    - --shutdown-delay-seconds={{ int $delay }}
    - --shutdown-grace-period={{ int $v.shutdown.gracePeriodSeconds }}
    - --log-format={{ $v.log.format }}
    - --log-level={{ $v.log.level }}
    {{- range $v.extraArgs }}
    - {{ . | quote }}
    {{- end }}
  env:
    # Defined before use: Kubernetes expands $(VAR) only from earlier entries.
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: POD_NAMESPACE
      valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
    # Labels of decision-log events (when decision logs are on).
    - name: AUTHZD_DECISION_LOGS_LABELS
      value: "pod=$(POD_NAME),namespace=$(POD_NAMESPACE)"
    {{- with $v.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    - name: authzd-metrics
      containerPort: {{ int $v.diagnostic.port }}
      protocol: TCP
  # All probes on the diagnostic listener: HTTP and gRPC are bound to 127.0.0.1, which kubelet
  # cannot reach.
  startupProbe:
    httpGet: {path: "/health?bundles", port: authzd-metrics}
    {{- toYaml $v.probes.startup | nindent 4 }}
  readinessProbe:
    httpGet: {path: "/health?bundles", port: authzd-metrics}
    {{- toYaml $v.probes.readiness | nindent 4 }}
  livenessProbe:
    httpGet: {path: /health, port: authzd-metrics}
    {{- toYaml $v.probes.liveness | nindent 4 }}
  {{- with $v.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.securityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    {{- if include "authzd.hasLocalBundle" $ctx }}
    - name: authzd-bundle
      mountPath: /etc/authzd/bundle
      readOnly: true
    {{- end }}
    {{- if include "authzd.hasConfigFile" $ctx }}
    - name: authzd-config
      mountPath: /etc/authzd/config
      readOnly: true
    {{- end }}
    {{- if $b.server.bearerToken.secretName }}
    - name: authzd-token
      mountPath: /etc/authzd/token
      readOnly: true
    {{- end }}
    {{- if $b.server.persist }}
    - name: authzd-state
      mountPath: /var/lib/authzd
    {{- end }}
    {{- if $v.sockets.enabled }}
    - name: authzd-sockets
      mountPath: {{ $v.sockets.mountPath }}
    {{- end }}
    {{- with $v.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* authzd.podVolumes: the volumes authzd.container mounts. Takes the authzd context. */}}
{{- define "authzd.podVolumes" -}}
{{- $v := .Values -}}
{{- $b := $v.bundle -}}
{{- if include "authzd.hasLocalBundle" . }}
- name: authzd-bundle
  configMap:
    name: {{ include "authzd.bundleConfigMapName" . }}
{{- end }}
{{- if include "authzd.hasConfigFile" . }}
- name: authzd-config
  configMap:
    name: {{ include "authzd.configConfigMapName" . }}
{{- end }}
{{- if $b.server.bearerToken.secretName }}
- name: authzd-token
  secret:
    secretName: {{ $b.server.bearerToken.secretName }}
{{- end }}
{{- if $b.server.persist }}
- name: authzd-state
  emptyDir: {}
{{- end }}
{{- if $v.sockets.enabled }}
- name: authzd-sockets
  emptyDir: {}
{{- end }}
{{- with $v.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}
