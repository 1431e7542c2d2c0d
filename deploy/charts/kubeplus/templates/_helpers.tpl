{{/* Labels every object of the chart carries. */}}
{{- define "kubeplus.labels" -}}
app.kubernetes.io/part-of: kubeplus
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* Selector labels of one component. Arguments: (dict "root" $ "name" "helmer"). */}}
{{- define "kubeplus.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{- define "kubeplus.image" -}}
{{ printf "%s/%s:%s" .root.Values.image.registry .name (.root.Values.image.tag | default .root.Chart.AppVersion) }}
{{- end }}

{{- define "kubeplus.natsUrl" -}}
{{ .Values.nats.url | default (printf "nats://nats.%s.svc:4222" .Release.Namespace) }}
{{- end }}

{{/* The `restricted` Pod Security profile: non-root, no privilege escalation, no capabilities, read-only root. */}}
{{- define "kubeplus.podSecurity" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}
{{- define "kubeplus.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end }}

{{- define "kubeplus.scheduling" -}}
{{- with .Values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
One KubePlus service: Deployment (container named after the service, so `kubectl logs deploy/<name>` works) and,
when enabled, its PodDisruptionBudget. Arguments: (dict "root" $ "name" "helmer" "values" .Values.helmer
"env" (list ...) "ports" (list ...) "probe" (dict "port" 8081 "scheme" "HTTP") "volumes" (list ...)).
*/}}
{{- define "kubeplus.service" -}}
{{- $root := .root -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "kubeplus.labels" $root | nindent 4 }}
    {{- include "kubeplus.selector" . | nindent 4 }}
    app.kubernetes.io/component: {{ .name }}
spec:
  replicas: {{ .values.replicas }}
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      {{- include "kubeplus.selector" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "kubeplus.labels" $root | nindent 8 }}
        {{- include "kubeplus.selector" . | nindent 8 }}
        app.kubernetes.io/component: {{ .name }}
    spec:
      serviceAccountName: {{ $root.Values.serviceAccountName }}
      automountServiceAccountToken: true
      securityContext:
        {{- include "kubeplus.podSecurity" $root | nindent 8 }}
      {{- include "kubeplus.scheduling" $root | nindent 6 }}
      containers:
        - name: {{ .name }}
          image: {{ include "kubeplus.image" . }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          env:
            - { name: POD_NAME, valueFrom: { fieldRef: { fieldPath: metadata.name } } }
            - { name: KUBEPLUS_NAMESPACE, valueFrom: { fieldRef: { fieldPath: metadata.namespace } } }
            - { name: NATS_URL, value: {{ include "kubeplus.natsUrl" $root | quote }} }
            - { name: LOG_LEVEL, value: {{ $root.Values.logLevel | quote }} }
            {{- range .env }}
            - {{ toJson . }}
            {{- end }}
          ports:
            {{- range .ports }}
            - {{ toJson . }}
            {{- end }}
          livenessProbe:
            httpGet: { path: /healthz, port: {{ .probe.port }}, scheme: {{ .probe.scheme }} }
            periodSeconds: 20
            failureThreshold: 3
          readinessProbe:
            httpGet: { path: /readyz, port: {{ .probe.port }}, scheme: {{ .probe.scheme }} }
            periodSeconds: 10
          resources:
            {{- toYaml .values.resources | nindent 12 }}
          securityContext:
            {{- include "kubeplus.containerSecurity" $root | nindent 12 }}
          volumeMounts:
            - { name: tmp, mountPath: /tmp }
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ .tmpSize | default "64Mi" }}
{{- if $root.Values.podDisruptionBudget.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "kubeplus.labels" $root | nindent 4 }}
spec:
  # One pod at a time may go during a drain; with one replica that is the pod itself, so drains are never stuck.
  maxUnavailable: 1
  selector:
    matchLabels:
      {{- include "kubeplus.selector" . | nindent 6 }}
{{- end }}
{{- end }}
