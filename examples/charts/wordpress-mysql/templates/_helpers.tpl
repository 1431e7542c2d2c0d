{{- define "wp.labels" -}}
app.kubernetes.io/part-of: wordpress-mysql
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
kubeplus.dev/tenant: {{ .Values.tenantName | quote }}
{{- end -}}
{{- define "wp.secretName" -}}{{ .Release.Name }}-db{{- end -}}
{{/* The database password: given, or the one already stored, or a new random one (kept across upgrades). */}}
{{- define "wp.password" -}}
{{- if .Values.mysql.password -}}
{{- .Values.mysql.password -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "wp.secretName" .) -}}
{{- if and $existing $existing.data (index $existing.data "password") -}}
{{- index $existing.data "password" | b64dec -}}
{{- else -}}
{{- randAlphaNum 24 -}}
{{- end -}}
{{- end -}}
{{- end -}}
