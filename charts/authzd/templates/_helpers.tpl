{{/*
The authzd sidecar container. Include it in a pod spec's `containers`:
  {{- include "authzd.sidecar" . | nindent 8 }}
and the volume in its `volumes`:
  {{- include "authzd.volumes" . | nindent 8 }}
*/}}
{{- define "authzd.sidecar" -}}
- name: authzd
  image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args:
    - run
    - --bundle
    - "policies=/policies/{{ .Values.bundle.file }}"
    - --addr
    - "127.0.0.1:{{ .Values.http.port }}"
    - --grpc-addr
    - "127.0.0.1:{{ .Values.grpc.port }}"
    - --diagnostic-addr
    - "0.0.0.0:{{ .Values.diagnostic.port }}"
    {{- range .Values.extraArgs }}
    - {{ . | quote }}
    {{- end }}
  env:
    # Defined before use: Kubernetes expands $(VAR) only from earlier entries.
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: POD_NAMESPACE
      valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
    - name: AUTHZD_DECISION_LOGS_LABELS
      value: "pod=$(POD_NAME),namespace=$(POD_NAMESPACE)"
  ports:
    - name: authzd-metrics
      containerPort: {{ .Values.diagnostic.port }}
  readinessProbe:
    httpGet: {path: "/health?bundles", port: {{ .Values.diagnostic.port }}}
    periodSeconds: 2
  livenessProbe:
    httpGet: {path: /health, port: {{ .Values.diagnostic.port }}}
    periodSeconds: 10
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    readOnlyRootFilesystem: true
    allowPrivilegeEscalation: false
    capabilities: {drop: [ALL]}
  volumeMounts:
    - name: authz-bundle
      mountPath: /policies
      readOnly: true
{{- end -}}

{{- define "authzd.volumes" -}}
- name: authz-bundle
  configMap:
    name: {{ .Values.bundle.configMapName }}
{{- end -}}
