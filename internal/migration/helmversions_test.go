package migration

import (
	"testing"
)

// TestHelmVersions: every version of every chart becomes one entry of
// versions with the chart, the chart pull secret and the image pull
// secrets; components are named only when there were several; comments
// and other fields stay; other objects and groups are left alone.
func TestHelmVersions(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		changed        bool
	}{{
		name: "one component",
		in: `apiVersion: velero.services.open-control-plane.io/v1alpha1
kind: ProviderConfig
metadata:
  name: velero
spec:
  pollInterval: 1m
  # the charts
  availableCharts:
    - name: velero
      versions: ["6.5.0", "6.6.0"]
      chart: oci://ghcr.io/acme/charts/velero
  chartPullSecret:
    name: chart-registry
  imagePullSecrets:
    - name: registry
`,
		want: `apiVersion: velero.services.open-control-plane.io/v1alpha1
kind: ProviderConfig
metadata:
  name: velero
spec:
  pollInterval: 1m
  # the charts
  versions:
    - version: 6.5.0
      chartUrl: oci://ghcr.io/acme/charts/velero
      chartPullSecret: chart-registry
      values:
        imagePullSecrets:
          - name: registry
    - version: 6.6.0
      chartUrl: oci://ghcr.io/acme/charts/velero
      chartPullSecret: chart-registry
      values:
        imagePullSecrets:
          - name: registry
`,
		changed: true,
	}, {
		name: "several components, a second document",
		in: `apiVersion: v1
kind: ConfigMap
metadata:
  name: keep
---
apiVersion: velero.services.open-control-plane.io/v1alpha1
kind: ProviderConfig
metadata:
  name: velero
spec:
  availableCharts:
  - name: velero
    versions: ["1.0"]
    chart: oci://r/velero
  - name: schedule
    versions: ["2.0"]
    chart: oci://r/schedule
  imagePullSecrets: []
`,
		want: `apiVersion: v1
kind: ConfigMap
metadata:
  name: keep
---
apiVersion: velero.services.open-control-plane.io/v1alpha1
kind: ProviderConfig
metadata:
  name: velero
spec:
  versions:
    - version: "1.0"
      component: velero
      chartUrl: oci://r/velero
    - version: "2.0"
      component: schedule
      chartUrl: oci://r/schedule
`,
		changed: true,
	}, {
		name: "another group",
		in: `apiVersion: other.example.com/v1alpha1
kind: ProviderConfig
spec:
  availableCharts: []
`,
	}, {
		name: "already versions",
		in: `apiVersion: velero.services.open-control-plane.io/v1alpha1
kind: ProviderConfig
spec:
  versions: []
`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed, err := HelmVersions([]byte(tc.in), "velero.services.open-control-plane.io")
			if err != nil {
				t.Fatal(err)
			}
			if changed != tc.changed {
				t.Fatalf("changed = %v, want %v", changed, tc.changed)
			}
			want := tc.want
			if !tc.changed {
				want = tc.in
			}
			if string(got) != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestHelmVersionsBadShape: an availableCharts entry without its chart is
// an error naming the line, not a silent loss.
func TestHelmVersionsBadShape(t *testing.T) {
	in := "apiVersion: g.example.com/v1\nkind: ProviderConfig\nspec:\n  availableCharts:\n    - name: a\n      versions: [\"1\"]\n"
	if _, _, err := HelmVersions([]byte(in), "g.example.com"); err == nil || err.Error() != "line 5: an entry of spec.availableCharts needs name, chart and versions" {
		t.Errorf("error %v", err)
	}
}
