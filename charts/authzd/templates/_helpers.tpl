{{/*
Names, labels, the chart's own context, and the checks that make the chart fail closed.

Every template here takes the authzd chart's context (its Values with their defaults, Chart,
Release, Files). The public includes in _sidecar.tpl get that context with "authzd.context",
whichever chart calls them.
*/}}

{{- define "authzd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped: two releases in one namespace never share an object. */}}
{{- define "authzd.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* `<fullname>-<suffix>`, within the 63 characters of a name. */}}
{{- define "authzd.childName" -}}
{{- $base := include "authzd.fullname" .ctx | trunc (int (sub 62 (len .suffix))) | trimSuffix "-" -}}
{{- printf "%s-%s" $base .suffix -}}
{{- end -}}

{{- define "authzd.bundleConfigMapName" -}}
{{- if .Values.bundle.existingConfigMap.name -}}
{{- .Values.bundle.existingConfigMap.name -}}
{{- else -}}
{{- include "authzd.childName" (dict "ctx" . "suffix" "bundle") -}}
{{- end -}}
{{- end -}}

{{- define "authzd.configConfigMapName" -}}
{{- include "authzd.childName" (dict "ctx" . "suffix" "config") -}}
{{- end -}}

{{- define "authzd.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "authzd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "authzd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "authzd.labels" -}}
{{ include "authzd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: authzd
helm.sh/chart: {{ include "authzd.chart" . }}
{{- end -}}

{{- define "authzd.image" -}}
{{- $image := .Values.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
authzd.context: finds the authzd chart's context and stores it as .out.ctx.

Called with (dict "top" $ "out" $out). Inside the authzd chart, that is the chart's own
context. From a parent chart it is the subchart's entry in .Subcharts (its Values are the
parent's `authzd:` values merged over this chart's defaults, as Helm computes them for the
subchart's own templates), found by this chart's annotation, so an alias works too. Without
.Subcharts (Helm before 3.7) it falls back to the parent's `.Values.authzd`, which Helm has
already merged with the subchart's defaults.
*/}}
{{- define "authzd.context" -}}
{{- $top := .top -}}
{{- $found := dict -}}
{{- if eq (index (default (dict) $top.Chart.Annotations) "authzd/sidecar-chart") "true" -}}
{{- $_ := set $found "ctx" $top -}}
{{- else -}}
{{- $subcharts := default (dict) $top.Subcharts -}}
{{- if hasKey $subcharts "authzd" -}}
{{- $_ := set $found "ctx" (index $subcharts "authzd") -}}
{{- else -}}
{{- range $name, $sub := $subcharts -}}
{{- if and (not (hasKey $found "ctx")) (eq (index (default (dict) $sub.Chart.Annotations) "authzd/sidecar-chart") "true") -}}
{{- $_ := set $found "ctx" $sub -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if not (hasKey $found "ctx") -}}
{{- fail "authzd: the authzd.* includes need the authzd chart as a dependency of this chart: add it to Chart.yaml `dependencies` and run `helm dependency update` (Helm >= 3.7)" -}}
{{- end -}}
{{- $_ := set .out "ctx" $found.ctx -}}
{{- end -}}

{{/*
authzd.validate: fails closed. Exactly one bundle source, and a bundle the chart ships must be
a real tarball (or flat files) that fits a ConfigMap and Helm's release Secret.
*/}}
{{- define "authzd.validate" -}}
{{- $b := .Values.bundle -}}
{{- $sources := list -}}
{{- if $b.file }}{{ $sources = append $sources "bundle.file" }}{{ end -}}
{{- if $b.files }}{{ $sources = append $sources "bundle.files" }}{{ end -}}
{{- if $b.existingConfigMap.name }}{{ $sources = append $sources "bundle.existingConfigMap.name" }}{{ end -}}
{{- if $b.server.url }}{{ $sources = append $sources "bundle.server.url" }}{{ end -}}
{{- $extraBundles := and .Values.config (hasKey .Values.config "bundles") -}}
{{- if and (eq (len $sources) 0) (not $extraBundles) -}}
{{- fail `

authzd: no policy bundle is configured. The chart fails closed: a sidecar without policies must not be deployed.
Set exactly one bundle source (under "authzd:" when this chart is a dependency):
  bundle.file                     a bundle tarball in the chart's files/ directory:
                                    authzd build policies -o charts/authzd/files/bundle.tar.gz
                                    --set bundle.file=bundle.tar.gz
  bundle.files                    flat policy files in values (ConfigMap keys):
                                    --set-file 'bundle.files.policy\.rego=policy.rego'
  bundle.existingConfigMap.name   a ConfigMap created outside Helm (any size up to 1 MiB):
                                    kubectl create configmap authz-bundle --from-file=bundle.tar.gz
                                    --set bundle.existingConfigMap.name=authz-bundle,bundle.existingConfigMap.key=bundle.tar.gz
  bundle.server.url               a bundle server polled for the bundle (no size limit):
                                    --set bundle.server.url=https://bundles.example.com
` -}}
{{- end -}}
{{- if gt (len $sources) 1 -}}
{{- fail (printf "authzd: set only one bundle source, not %s (more bundles go in `config.bundles`)" (join " and " $sources)) -}}
{{- end -}}
{{- $max := int64 $b.maxBytes -}}
{{- $alternatives := "Ship a bigger bundle from a bundle server (bundle.server.url), or create the ConfigMap outside Helm (kubectl create configmap NAME --from-file=bundle.tar.gz) and set bundle.existingConfigMap.name (a ConfigMap itself holds at most 1 MiB)." -}}
{{- if $b.file -}}
{{- $path := printf "files/%s" $b.file -}}
{{- $bytes := .Files.GetBytes $path -}}
{{- if eq (len $bytes) 0 -}}
{{- fail (printf "authzd: bundle.file %q: %s is not in the chart (or is empty). Build it first: authzd build policies -o charts/authzd/files/%s" $b.file $path (base $b.file)) -}}
{{- end -}}
{{- if not (and (ge (len $bytes) 2) (eq (index $bytes 0 | int) 31) (eq (index $bytes 1 | int) 139)) -}}
{{- fail (printf "authzd: bundle.file %q is not a gzip-compressed tarball (build one with `authzd build DIR -o %s`)" $b.file $path) -}}
{{- end -}}
{{- if gt (len $bytes | int64) $max -}}
{{- fail (printf "authzd: bundle.file %q is %d bytes, over bundle.maxBytes (%d). Helm keeps every release in a Secret of at most 1 MiB, and a tarball from the chart's files/ is in it twice (the chart and the rendered ConfigMap). %s" $b.file (len $bytes) $max $alternatives) -}}
{{- end -}}
{{- end -}}
{{- if $b.files -}}
{{- $total := 0 -}}
{{- range $key, $content := $b.files -}}
{{- if not (regexMatch "^[-._a-zA-Z0-9]+$" $key) -}}
{{- fail (printf "authzd: bundle.files key %q is not a valid ConfigMap key (letters, digits, '-', '_', '.'; no directories: bundle.files is a flat bundle, use bundle.file for a tarball)" $key) -}}
{{- end -}}
{{- if not (kindIs "string" $content) -}}
{{- fail (printf "authzd: bundle.files %q must be the file's text (a string), e.g. --set-file 'bundle.files.%s=%s'" $key (replace "." "\\." $key) $key) -}}
{{- end -}}
{{- $total = add $total (len $content) -}}
{{- end -}}
{{- if gt (int64 $total) $max -}}
{{- fail (printf "authzd: bundle.files are %d bytes in total, over bundle.maxBytes (%d): a ConfigMap holds at most 1 MiB, and Helm keeps the values and the rendered ConfigMap in a release Secret of at most 1 MiB. %s" $total $max $alternatives) -}}
{{- end -}}
{{- end -}}
{{- if and $b.server.url (not (regexMatch "^https?://" $b.server.url)) -}}
{{- fail (printf "authzd: bundle.server.url %q must start with http:// or https://" $b.server.url) -}}
{{- end -}}
{{- end -}}

{{/* Whether a bundle is mounted from a ConfigMap (bundle.file, bundle.files, existingConfigMap). */}}
{{- define "authzd.hasLocalBundle" -}}
{{- if or .Values.bundle.file .Values.bundle.files .Values.bundle.existingConfigMap.name -}}true{{- end -}}
{{- end -}}

{{/* Whether authzd's config file is rendered (a bundle server, or `config` values). */}}
{{- define "authzd.hasConfigFile" -}}
{{- if or .Values.bundle.server.url .Values.config -}}true{{- end -}}
{{- end -}}

{{/* authzd's config file (README: "The config file"): the bundle server, merged with `config`. */}}
{{- define "authzd.configFile" -}}
{{- $b := .Values.bundle -}}
{{- $generated := dict -}}
{{- if $b.server.url -}}
{{- $service := dict "url" $b.server.url -}}
{{- if $b.server.headers }}{{ $_ := set $service "headers" $b.server.headers }}{{ end -}}
{{- if $b.server.bearerToken.secretName -}}
{{- $_ := set $service "credentials" (dict "bearer" (dict "token_path" (printf "/etc/authzd/token/%s" $b.server.bearerToken.secretKey))) -}}
{{- end -}}
{{- $bundle := dict "service" "bundle-server" "polling" (dict "min_delay_seconds" (int $b.server.polling.minDelaySeconds) "max_delay_seconds" (int $b.server.polling.maxDelaySeconds)) -}}
{{- if $b.server.resource }}{{ $_ := set $bundle "resource" $b.server.resource }}{{ end -}}
{{- if $b.server.persist -}}
{{- $_ := set $bundle "persist" true -}}
{{- end -}}
{{- $_ := set $generated "services" (dict "bundle-server" $service) -}}
{{- $_ := set $generated "bundles" (dict $b.name $bundle) -}}
{{- end -}}
{{- toYaml (mergeOverwrite $generated (deepCopy (default (dict) .Values.config))) -}}
{{- end -}}

{{/* A content digest, as a pod annotation, so a changed config file restarts the pod. */}}
{{- define "authzd.configChecksum" -}}
{{- include "authzd.configFile" . | sha256sum | trunc 16 -}}
{{- end -}}
