{{- define "tenant-echo.labels" -}}
app.kubernetes.io/name: tenant-echo
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
