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

{{/*
The image of one service: <registry>/<service>@<digest> when image.digests names one (pinned: the tag is not used),
else <registry>/<service>:<tag>. Arguments: (dict "root" $ "name" "helmer").
*/}}
{{- define "kubeplus.image" -}}
{{- $image := .root.Values.image -}}
{{- $digest := index ($image.digests | default dict) .name | default "" -}}
{{- if $digest -}}
{{ printf "%s/%s@%s" $image.registry .name $digest }}
{{- else -}}
{{ printf "%s/%s:%s" $image.registry .name ($image.tag | default .root.Chart.AppVersion) }}
{{- end -}}
{{- end }}

{{- define "kubeplus.natsUrl" -}}
{{ .Values.nats.url | default (printf "nats://nats.%s.svc:4222" .Release.Namespace) }}
{{- end }}

{{/*
The Secret holding one service's NATS credential: the chart's own (templates/nats-auth.yaml) or, with an external NATS
(nats.url), the existing one named in nats.credentials.secretNames. Arguments: (dict "root" $ "name" "helmer").
*/}}
{{- define "kubeplus.natsCredentialSecret" -}}
{{- if .root.Values.nats.url -}}
{{- $name := index .root.Values.nats.credentials.secretNames .name | default "" -}}
{{- required (printf "nats.credentials.secretNames.%s: name the existing Secret holding %s's credential for the external NATS at nats.url (KubePlus never connects to NATS anonymously)" .name .name) $name -}}
{{- else -}}
kubeplus-nats-{{ .name }}
{{- end -}}
{{- end }}

{{/* NATS variables of one service (see each service's README). Arguments: (dict "root" $ "name" "helmer"). */}}
{{- define "kubeplus.natsEnv" -}}
{{- $v := .root.Values.nats -}}
- { name: NATS_URL, value: {{ include "kubeplus.natsUrl" .root | quote }} }
{{- if or (not $v.url) $v.tls.caSecretName }}
- { name: NATS_CA_FILE, value: /etc/kubeplus/nats-ca/ca.crt }
{{- else if not (hasPrefix "tls://" $v.url) }}
{{- fail "nats.url: an external NATS is used over TLS only: give nats.tls.caSecretName (a Secret with ca.crt, the CA of its server certificate), or a tls:// URL for a NATS whose certificate a public CA signed" }}
{{- end }}
{{- $kind := ternary "certificate" $v.credentials.kind (not $v.url) }}
{{- if eq $kind "certificate" }}
- { name: NATS_CERT_FILE, value: /etc/kubeplus/nats/tls.crt }
- { name: NATS_KEY_FILE, value: /etc/kubeplus/nats/tls.key }
{{- else if eq $kind "nkey" }}
- { name: NATS_NKEY_SEED_FILE, value: /etc/kubeplus/nats/nkey.seed }
{{- else }}
- { name: NATS_CREDS_FILE, value: /etc/kubeplus/nats/user.creds }
{{- end }}
{{- end }}

{{/* NATS volumes of one service: its credential and the CA. Arguments: (dict "root" $ "name" "helmer"). */}}
{{- define "kubeplus.natsVolumes" -}}
{{- $v := .root.Values.nats -}}
- name: nats-credential
  secret: { secretName: {{ include "kubeplus.natsCredentialSecret" . }}, defaultMode: 0400 }
{{- if or (not $v.url) $v.tls.caSecretName }}
- name: nats-ca
  secret:
    secretName: {{ ternary $v.tls.caSecretName (printf "kubeplus-nats-%s" .name) (not (empty $v.url)) }}
    items: [{ key: ca.crt, path: ca.crt }]
{{- end }}
{{- end }}

{{- define "kubeplus.natsVolumeMounts" -}}
{{- $v := .root.Values.nats -}}
- { name: nats-credential, mountPath: /etc/kubeplus/nats, readOnly: true }
{{- if or (not $v.url) $v.tls.caSecretName }}
- { name: nats-ca, mountPath: /etc/kubeplus/nats-ca, readOnly: true }
{{- end }}
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
topologySpreadConstraints of one component's pods: each of .Values.topologySpreadConstraints, given the component's
selector labels when it names none. Arguments: (dict "root" $ "name" "helmer").
*/}}
{{- define "kubeplus.topologySpread" -}}
{{- $selector := fromYaml (include "kubeplus.selector" .) -}}
{{- with .root.Values.topologySpreadConstraints }}
topologySpreadConstraints:
{{- range . }}
{{- $constraint := deepCopy . }}
{{- if not (hasKey $constraint "labelSelector") }}
{{- $_ := set $constraint "labelSelector" (dict "matchLabels" $selector) }}
{{- end }}
  - {{- toYaml $constraint | nindent 4 }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The PodDisruptionBudget of one component, when podDisruptionBudget.enabled and it runs more than one pod (with one,
a budget could only block drains or allow everything). Arguments: (dict "root" $ "name" "crd-hook" "replicas" 2).
*/}}
{{- define "kubeplus.pdb" -}}
{{- $pdb := .root.Values.podDisruptionBudget -}}
{{- if and $pdb.enabled (gt (int .replicas) 1) }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "kubeplus.labels" .root | nindent 4 }}
    app.kubernetes.io/component: {{ .name }}
spec:
  {{- if $pdb.minAvailable }}
  minAvailable: {{ $pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $pdb.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "kubeplus.selector" . | nindent 6 }}
{{- end }}
{{- end }}

{{/*
One KubePlus service: Deployment (container named after the service, so `kubectl logs deploy/<name>` works) and,
when enabled and it runs more than one pod, its PodDisruptionBudget. Arguments: (dict "root" $ "name" "helmer" "values" .Values.helmer
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
      {{- include "kubeplus.topologySpread" . | nindent 6 }}
      containers:
        - name: {{ .name }}
          image: {{ include "kubeplus.image" . }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          env:
            - { name: POD_NAME, valueFrom: { fieldRef: { fieldPath: metadata.name } } }
            - { name: KUBEPLUS_NAMESPACE, valueFrom: { fieldRef: { fieldPath: metadata.namespace } } }
            {{- include "kubeplus.natsEnv" (dict "root" $root "name" .name) | nindent 12 }}
            - { name: LOG_LEVEL, value: {{ $root.Values.logLevel | quote }} }
            {{- with $root.Values.tracing.otlpEndpoint }}
            - { name: OTEL_EXPORTER_OTLP_ENDPOINT, value: {{ . | quote }} }
            - { name: OTEL_TRACES_SAMPLER_ARG, value: {{ $root.Values.tracing.sampleRatio | toString | quote }} }
            {{- end }}
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
            {{- include "kubeplus.natsVolumeMounts" (dict "root" $root "name" .name) | nindent 12 }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ .tmpSize | default "64Mi" }}
        {{- include "kubeplus.natsVolumes" (dict "root" $root "name" .name) | nindent 8 }}
{{- include "kubeplus.pdb" (dict "root" $root "name" .name "replicas" .values.replicas) }}
{{- end }}

{{/*
A `helm test` pod (templates/tests): the crd-hook image (it holds /usr/bin/node) runs one script of files/tests,
under the restricted Pod Security profile, scheduled as the services are. Arguments: (dict "root" $ "name"
"crd-hook-webhook" "script" "webhook-refuses.mjs" "serviceAccount" true "env" (list ...) "volumes" (list ...)
"volumeMounts" (list ...)).
*/}}
{{- define "kubeplus.testPod" -}}
{{- $root := .root -}}
apiVersion: v1
kind: Pod
metadata:
  name: {{ printf "%s-test-%s" $root.Release.Name .name | trunc 63 | trimSuffix "-" }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "kubeplus.labels" $root | nindent 4 }}
    app.kubernetes.io/component: helm-test
    app.kubernetes.io/instance: {{ $root.Release.Name }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-weight: "0"
    # Kept after the run for `kubectl logs`; replaced by the next `helm test`.
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  restartPolicy: Never
  {{- if .serviceAccount }}
  serviceAccountName: {{ $root.Values.serviceAccountName }}
  automountServiceAccountToken: true
  {{- else }}
  automountServiceAccountToken: false
  {{- end }}
  securityContext:
    {{- include "kubeplus.podSecurity" $root | nindent 4 }}
  {{- include "kubeplus.scheduling" $root | nindent 2 }}
  containers:
    - name: test
      image: {{ include "kubeplus.image" (dict "root" $root "name" "crd-hook") }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      command: [/usr/bin/node, /tests/{{ .script }}]
      {{- with .env }}
      env:
        {{- range . }}
        - {{ toJson . }}
        {{- end }}
      {{- end }}
      resources:
        requests: { cpu: 10m, memory: 48Mi }
        limits: { cpu: 200m, memory: 96Mi }
      securityContext:
        {{- include "kubeplus.containerSecurity" $root | nindent 8 }}
      volumeMounts:
        - { name: tests, mountPath: /tests, readOnly: true }
        {{- range .volumeMounts }}
        - {{ toJson . }}
        {{- end }}
  volumes:
    - name: tests
      configMap: { name: {{ printf "%s-tests" $root.Release.Name }} }
    {{- range .volumes }}
    - {{ toJson . }}
    {{- end }}
{{- end }}

{{/*
nats-server's configuration (the ConfigMap kubeplus-nats-config): what NATS's pod restarts on when it changes (its
checksum annotation). Deterministic: the generated certificates are not part of it, so an upgrade that changes nothing
of NATS leaves it running.
*/}}
{{- define "kubeplus.natsConf" -}}
server_name: $POD_NAME
port: 4222
http_port: 8222
tls {
  cert_file: /etc/nats/tls/tls.crt
  key_file: /etc/nats/tls/tls.key
  ca_file: /etc/nats/tls/ca.crt
  verify_and_map: true
  timeout: 2
}
authorization {
  users: [
  {{- range $user, $permissions := fromJson (.Files.Get "files/nats-permissions.json") }}
    { user: {{ printf "CN=%s" $user | quote }}, permissions: {{ toRawJson $permissions }} }
  {{- end }}
  ]
}
{{- end }}
