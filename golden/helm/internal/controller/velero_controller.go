/*
Copyright The sp-velero Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controller

import (
	"context"

	"github.com/openmcp-project/opencontrolplane-runtime/pkg/serviceprovider/clusteraccess"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"

	v1alpha1 "example.com/acme/sp-velero/api/v1alpha1"
	"example.com/acme/sp-velero/internal/managed"
	"example.com/acme/sp-velero/internal/provider"
)

// VeleroComponent is the component of ProviderConfig.spec.versions
// entries for Velero objects alone; entries without one serve every kind.
const VeleroComponent = "velero"

// VeleroDomainKinds are the kinds of the domain service's own API on the
// managed control plane. While objects of these kinds exist, deleting a
// Velero waits: removing the service under them would orphan user data.
var VeleroDomainKinds = []schema.GroupVersionKind{}

// Permissions the provider requests on each cluster it gets access to are
// derived from these rbac markers by `spgen generate`; cluster= says which
// one (onboarding, mcp or workload). Flux installs the chart with the provider's access
// to the managed control plane: list every kind the chart creates there, and keep
// the rest to what the code below needs.
//
// +spgen:rbac:cluster=mcp,groups="",resources=namespaces;secrets;configmaps;services;serviceaccounts,verbs=get;list;watch;create;update;patch;delete
// +spgen:rbac:cluster=mcp,groups=rbac.authorization.k8s.io,resources=clusterroles;clusterrolebindings,verbs=get;list;watch;create;update;patch;delete
// +spgen:rbac:cluster=mcp,groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete

// VeleroReconciler installs the Velero domain service for every Velero
// object: the workload runs in the managed control plane in its own namespace,
// installed from its Helm chart by Flux on the platform cluster. The
// steps every kind shares are Lifecycle's; what is the Velero's own is here.
type VeleroReconciler struct {
	Lifecycle
}

// NewVeleroReconciler builds the reconciler the provider runs for Velero
// objects; the generated wiring calls it. Give VeleroReconciler the fields
// your code needs and fill them here.
func NewVeleroReconciler(d provider.Deps) *VeleroReconciler {
	return &VeleroReconciler{Lifecycle: newLifecycle(d)}
}

// veleroWorkload is what the workload of a Velero is made from.
type veleroWorkload struct {
	Chart Chart
	// Values are the chart's values, from veleroValues.
	Values map[string]any
	workloadConfig
}

// veleroRound declares what the provider manages for obj, in
// dependency order; Lifecycle's install and uninstall do the rest. To manage
// one more object, add it here.
func (r *VeleroReconciler) veleroRound(obj *v1alpha1.Velero, pc *v1alpha1.ProviderConfig, cc clusteraccess.ClusterContext, w veleroWorkload) round {
	ns := veleroNamespace(obj)
	target, access := managed.MCP, cc.MCPAccessSecretKey
	set := r.newSet(v1alpha1.GroupVersion.WithKind("Velero").GroupKind(), obj, pc, cc)
	r.addWorkloadBase(set, target, ns, w.workloadConfig)

	AddRelease(set, ns, Release{
		Chart:     w.Chart,
		Access:    access,
		Namespace: ns,
		Name:      "velero",
		Values:    w.Values,
		Options:   DefaultReleaseOptions(),
	})
	list := func(results []managed.Result, notReady string) {
		obj.Status.Resources = v1alpha1Resources(results, notReady)
	}
	return round{obj: obj, pc: pc, set: set, list: list, blockedBy: VeleroDomainKinds}
}

// CreateOrUpdate brings the domain service of obj to the requested state.
func (r *VeleroReconciler) CreateOrUpdate(ctx context.Context, obj *v1alpha1.Velero, pc *v1alpha1.ProviderConfig, cc clusteraccess.ClusterContext) (ctrl.Result, error) {
	if res, skipped := skip(ctx, obj, pc); skipped {
		return res, nil
	}
	defer r.finishOperation(ctx, obj, pc)
	version, ok := pc.Version(VeleroComponent, obj.Spec.Version)
	if !ok {
		return r.versionNotAllowed(obj, pc.Name, obj.Spec.Version, pc.AllowedVersions(VeleroComponent))
	}
	w := veleroWorkload{Chart: Chart{Repository: version.ChartURL, Version: version.ChartTag(), Interval: pc.PollInterval()}}
	err := r.readChart(ctx, pc.Name, &w.Chart, version.ChartPullSecret, version.ChartCertSecret)
	if err == nil {
		w.workloadConfig, err = r.readConfig(ctx, pc.Name, version.ImagePullSecrets(), pc.Spec.CABundleRef)
	}
	if err != nil {
		return r.configFailed(obj, err)
	}
	if w.Values, err = veleroValues(version, w); err != nil {
		return r.configFailed(obj, valuesInvalid(pc.Name, version.Version, err))
	}
	return r.install(ctx, r.veleroRound(obj, pc, cc, w), 0)
}

// Delete removes everything the provider created for obj once no user
// resources of the domain service are left on the managed control plane.
func (r *VeleroReconciler) Delete(ctx context.Context, obj *v1alpha1.Velero, pc *v1alpha1.ProviderConfig, cc clusteraccess.ClusterContext) (ctrl.Result, error) {
	if res, skipped := skip(ctx, obj, pc); skipped {
		return res, nil
	}
	defer r.finishOperation(ctx, obj, pc)
	return r.uninstall(ctx, r.veleroRound(obj, pc, cc, veleroWorkload{}), cc.MCPCluster.Client())
}

// IsReferencedConfigMap makes the provider reconcile every Velero when the
// CA bundle of the ProviderConfig changes. pc is nil until the
// ProviderConfig has been read.
func (r *VeleroReconciler) IsReferencedConfigMap(_ context.Context, cm *corev1.ConfigMap, pc *v1alpha1.ProviderConfig) bool {
	return cm != nil && cm.Namespace == r.ProviderNamespace && pc.ReferencesConfigMap(cm.Name)
}

// veleroNamespace is the namespace of the workload on the target cluster,
// unique per Velero: a workload cluster is shared by many managed control
// planes, and a new Velero must not wait for an old namespace to finish
// terminating.
func veleroNamespace(obj *v1alpha1.Velero) string {
	return "velero-" + instance(obj)
}

// veleroValues are the values the chart is installed with: those
// the ProviderConfig sets for the requested version (image pull secrets
// among them, under imagePullSecrets), plus the CA bundle the provider puts next to the
// workload, in the layout of the chart `helm create` writes (volumes,
// volumeMounts, podAnnotations). When the chart expects them elsewhere,
// change this function, and the test chart with it. Values never carry
// secret data: the HelmRelease is readable on the platform cluster.
func veleroValues(version v1alpha1.ChartVersion, w veleroWorkload) (map[string]any, error) {
	values, err := chartValues(version.Values)
	if err != nil {
		return nil, err
	}
	if err := trustCABundleValues(values, w.CABundle); err != nil {
		return nil, err
	}
	return values, nil
}
