// Package deploy is refhub's deployment kit: Docker Compose (compose.yaml),
// Kubernetes manifests (kubernetes/), Prometheus alert rules and a Grafana
// dashboard. It holds no code; its tests hold the files to refhub itself:
// every variable they set is one refhub reads, every probe a route it
// serves, every metric one it exposes, every secret a file.
package deploy
